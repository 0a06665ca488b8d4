"""Regressions of issue #17 in the real window: lost releases, paint settings in operations, the shortcut
clash, one "unsaved changes?" question."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QAction, QMouseEvent, QShortcut
from PySide6.QtWidgets import QApplication

from segmentation_core.labels import ED, ET
from tests.core.io_fixtures import make_case, write_brats_case
from tests.gui.windows import open_main_window

pytestmark = pytest.mark.gui


@pytest.fixture
def window(qtbot, tmp_path: Path, monkeypatch):
    win = open_main_window(qtbot, tmp_path, monkeypatch)
    win.ask = lambda title, text: True
    win.state.set_case(make_case((24, 24, 24), with_labels=False))
    yield win
    win.close()


def activate(window, qtbot) -> None:
    """Make the window the active one (shortcuts only fire there; Xvfb has no window manager to do it)."""
    window.windowHandle().requestActivate()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=5000)


def mouse(view, kind: QEvent.Type, pos: QPointF, button=Qt.MouseButton.LeftButton) -> None:
    buttons = Qt.MouseButton.NoButton if kind == QEvent.Type.MouseButtonRelease else button
    event = QMouseEvent(kind, pos, view.mapToGlobal(pos), button, buttons, Qt.KeyboardModifier.NoModifier)
    {
        QEvent.Type.MouseButtonPress: view.mousePressEvent,
        QEvent.Type.MouseMove: view.mouseMoveEvent,
        QEvent.Type.MouseButtonRelease: view.mouseReleaseEvent,
    }[kind](event)


def test_a_stroke_released_outside_the_image_is_one_closed_undo_step(window) -> None:
    window.actions["brush"].trigger()
    view = window.slice_views["axial"]
    labels = window.state.labels
    inside = view.widget_pos_of((12, 12, 12))
    outside = QPointF(view.image_rect().left() - 20, inside.y())
    assert view.voxel_at(outside) is None
    mouse(view, QEvent.Type.MouseButtonPress, inside)
    mouse(view, QEvent.Type.MouseMove, outside)
    mouse(view, QEvent.Type.MouseButtonRelease, outside)
    assert not labels.in_stroke
    painted = int(np.count_nonzero(labels.data))
    assert painted > 12  # the stroke reached the image's edge
    assert labels.data[0, 12, 12] != 0 or labels.data[23, 12, 12] != 0
    window.actions["undo"].trigger()
    assert not labels.data.any()


def test_dilate_with_background_only_keeps_the_other_labels(window) -> None:
    labels = window.state.labels
    start = np.zeros((24, 24, 24), np.uint8)
    start[8:12, 8:12, 8:12] = ED
    start[12:14, 8:12, 8:12] = ET  # touching the ED block along x
    labels.replace(start, "setup")
    window.edit.settings.label = ED
    window.edit.settings.paint_over = "background"
    window.edit.dilate(1.0)
    assert np.array_equal(labels.data == ET, start == ET)  # ET untouched
    assert int(np.count_nonzero(labels.data == ED)) > 64  # ED grew into background


def test_fill_holes_and_interpolate_honour_the_intensity_limit(window) -> None:
    from app.tools import IntensityLimit

    labels = window.state.labels
    start = np.zeros((24, 24, 24), np.uint8)
    start[6:15, 6:15, 6:15] = ED
    start[9:12, 9:12, 9:12] = 0  # a hole of 27 voxels
    labels.replace(start, "setup")
    t1 = window.state.case.channels["t1"].array
    window.edit.settings.label = ED
    window.edit.settings.intensity = IntensityLimit("t1", float(t1.max()) + 1, float(t1.max()) + 2)
    window.edit.fill_holes()
    assert np.array_equal(labels.data, start)  # no voxel lies in the range: nothing may change
    window.edit.settings.intensity = None
    window.edit.fill_holes()
    assert int(np.count_nonzero(labels.data == ED)) == 9**3


def test_every_shortcut_is_bound_once_and_l_selects_the_lasso(window, qtbot) -> None:
    keys: dict[str, list[str]] = {}
    for action in window.findChildren(QAction):
        for sequence in action.shortcuts():
            keys.setdefault(sequence.toString(), []).append(action.text())
    for shortcut in window.findChildren(QShortcut):
        keys.setdefault(shortcut.key().toString(), []).append("shortcut")
    clashes = {key: texts for key, texts in keys.items() if key and len(texts) > 1}
    assert clashes == {}
    activate(window, qtbot)
    view = window.slice_views["axial"]
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_L)
    assert window.edit.active == "lasso"
    assert window.actions["lasso"].isChecked() and window.tools_dock.isVisible()


def test_open_with_unsaved_edits_asks_once(window, qtbot, tmp_path: Path) -> None:
    questions: list[str] = []

    def ask(title: str, text: str) -> bool:
        questions.append(title)
        return True

    window.ask = ask
    labels = window.state.labels
    labels.apply(tuple(slice(0, 2) for _ in range(3)), np.ones((2, 2, 2), bool), ED)
    case = write_brats_case(tmp_path / "Other_1", shape=(16, 16, 16))
    before = window.state.case
    handle = window.case_opener.open_paths([case])
    assert handle is not None
    qtbot.waitUntil(lambda: not handle.running, timeout=60_000)
    assert window.state.case is not before
    assert questions == ["Unsaved changes"]


@pytest.mark.parametrize("box", ["window", "radius", "limit_low", "island_size"])
def test_enter_in_a_box_applies_its_value_in_the_window(window, qtbot, box: str) -> None:
    """Enter is not swallowed by a window-wide shortcut (Close polygon's Enter acts only in slice views)."""
    activate(window, qtbot)
    panel = window.tools_panel
    spin = {
        "window": window.display_panel.window_spin,
        "radius": panel.radius,
        "limit_low": panel.limit_low,
        "island_size": panel.island_size,
    }[box]
    (window.display_dock if box == "window" else window.tools_dock).raise_()
    panel.limit_group.setChecked(True)
    spin.setFocus()
    spin.selectAll()
    qtbot.keyClicks(spin, "7")
    qtbot.keyClick(spin, Qt.Key.Key_Return)
    assert spin.value() == 7
    expected = {
        "window": lambda: window.state.display.window_level().window == 7.0,
        "radius": lambda: window.edit.settings.radius_mm == 7.0,
        "limit_low": lambda: window.edit.settings.intensity.low == 7.0,
        "island_size": lambda: True,
    }[box]
    assert expected()


def test_enter_in_a_slice_view_closes_the_polygon_and_ctrl_y_redoes(window, qtbot) -> None:
    activate(window, qtbot)
    window.actions["polygon"].trigger()
    for voxel in ((2, 2, 12), (10, 2, 12), (10, 10, 12), (2, 10, 12)):
        window.edit.press("axial", voxel)
        window.edit.release("axial", voxel)
    view = window.slice_views["axial"]
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_Return)
    assert int(np.count_nonzero(window.state.labels.data)) == 81
    qtbot.keyClick(view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert not window.state.labels.data.any()
    assert window.statusBar().currentMessage() == "Undid: Polygon"
    qtbot.keyClick(view, Qt.Key.Key_Y, Qt.KeyboardModifier.ControlModifier)
    assert int(np.count_nonzero(window.state.labels.data)) == 81
    qtbot.keyClick(view, Qt.Key.Key_Y, Qt.KeyboardModifier.ControlModifier)
    assert window.statusBar().currentMessage() == "Nothing to redo"
