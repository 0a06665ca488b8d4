"""The right-hand docks' tab bars as the self-test shows them: each tabbed group has one tab bar, never
one drawn over another dock. Qt's dock layout drops a spare Display/Tools tab bar with deleteLater
without hiding it; the self-test pumped events with processEvents alone (which never deletes), so its
screenshot showed that bar over the Volumes title."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget, QTabBar

from app.main import wait_until
from tests.gui.windows import open_main_window

pytestmark = pytest.mark.gui


@pytest.fixture
def window(qtbot, tmp_path: Path, monkeypatch):
    win = open_main_window(qtbot, tmp_path, monkeypatch, show=False)
    yield win
    win.close()


def settle(seconds: float = 0.4) -> None:
    """Pump events as the self-test does (no nested event loop)."""
    wait_until(lambda: False, timeout_s=seconds)


def tab_texts(bar: QTabBar) -> tuple[str, ...]:
    return tuple(bar.tabText(i) for i in range(bar.count()))


def check_tab_bars(window) -> None:
    children = window.findChildren(QTabBar, options=Qt.FindChildOption.FindDirectChildrenOnly)
    bars = [bar for bar in children if bar.isVisible()]
    assert sorted(tab_texts(bar) for bar in bars) == [("Display", "Tools"), ("Volumes", "Review")]
    docks = [d for d in window.findChildren(QDockWidget) if d.isVisible() and not d.visibleRegion().isEmpty()]
    assert sorted(d.objectName() for d in docks) == ["display_dock", "volumes_dock"]
    for bar in bars:
        assert not any(bar.geometry().intersects(d.geometry()) for d in docks), tab_texts(bar)


def test_one_tab_bar_per_dock_group_and_none_over_a_dock(window) -> None:
    window.show()
    settle()
    check_tab_bars(window)
    window.findChild(QDockWidget, "tools_dock").raise_()
    settle(0.2)
    window.display_dock.raise_()
    window.resize(window.width() - 100, window.height() - 120)
    settle()
    check_tab_bars(window)
