"""The real main window for GUI tests, with per-test user folders (no recoveries, models or settings of
other runs leak in)."""

from __future__ import annotations

from pathlib import Path

import pytest

USER_DIRS = ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME")


def isolate_user_dirs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, names: tuple[str, ...] = USER_DIRS
) -> None:
    """Point the per-user folders (platformdirs reads these) into ``tmp_path``."""
    for name in names:
        monkeypatch.setenv(name, str(tmp_path / name.lower()))


def open_main_window(qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, show: bool = True):  # noqa: ANN001, ANN201
    """A MainWindow on isolated user folders, registered with qtbot, shown and exposed unless ``show`` is off."""
    from app.qt.main_window import MainWindow

    isolate_user_dirs(tmp_path, monkeypatch)
    window = MainWindow()
    qtbot.addWidget(window)
    if show:
        window.show()
        qtbot.waitExposed(window)
    return window
