"""The slice view both ways: state -> pixels on screen, mouse and keys -> state (offscreen Qt is enough)."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent, QWheelEvent
from PySide6.QtWidgets import QApplication

from app.qt.slice_view import SliceView
from app.state.display_settings import WindowLevel
from app.state.viewer_state import ViewerState
from segmentation_core.labels import ED, ET
from tests.render.viewer_fixtures import LPS, ramp_case

B = Qt.MouseButton


@pytest.fixture
def state() -> ViewerState:
    state = ViewerState()
    state.set_case(ramp_case(affine=LPS @ np.diag([1.0, 1.5, 2.0, 1.0])))
    state.display.update_overlay(opacity=1.0)
    return state


@pytest.fixture
def axial(qtbot, state: ViewerState) -> SliceView:
    view = SliceView(state, "axial")
    qtbot.addWidget(view)
    view.resize(400, 400)
    view.show()
    qtbot.waitExposed(view)
    return view


def pixel(view: SliceView, voxel: tuple[int, int, int]) -> tuple[int, int, int]:
    pos = view.widget_pos_of(voxel).toPoint()
    colour = view.grab().toImage().pixelColor(pos)
    return colour.red(), colour.green(), colour.blue()


def mouse(
    view: SliceView,
    kind: QEvent.Type,
    pos: QPointF,
    button: B,
    buttons: B,
    mods=Qt.KeyboardModifier.NoModifier,
) -> None:
    event = QMouseEvent(kind, pos, view.mapToGlobal(pos), button, buttons, mods)
    QApplication.sendEvent(view, event)


def drag(view: SliceView, button: B, start: QPointF, end: QPointF) -> None:
    mouse(view, QEvent.Type.MouseButtonPress, start, button, button)
    mouse(view, QEvent.Type.MouseMove, end, B.NoButton, button)
    mouse(view, QEvent.Type.MouseButtonRelease, end, button, B.NoButton)


def wheel(view: SliceView, delta: int, mods=Qt.KeyboardModifier.NoModifier) -> None:
    pos = QPointF(view.width() / 2, view.height() / 2)
    event = QWheelEvent(
        pos,
        view.mapToGlobal(pos),
        QPoint(0, 0),
        QPoint(0, delta),
        B.NoButton,
        mods,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(view, event)


def test_state_to_widget_overlay_colours_and_sequence(axial: SliceView, state: ViewerState) -> None:
    state.cursor.set_position((12, 12, 6))  # crosshair away from the sampled voxels
    assert pixel(axial, (7, 7, 6)) == (255, 230, 0)  # ET
    assert pixel(axial, (4, 4, 6)) == (48, 220, 48)  # ED
    state.display.set_label_visible(ED, False)
    grey = pixel(axial, (4, 4, 6))
    assert grey == (54, 54, 54)  # active t1ce = 100 + i, auto window 100..119: 4 * 255 / 19 -> 54
    state.display.set_window_level(WindowLevel.from_range(0.0, 8.0), "t1")  # not the active sequence
    assert pixel(axial, (4, 4, 6)) == (54, 54, 54)
    state.display.set_window_level(WindowLevel.from_range(100.0, 108.0), "t1ce")
    assert pixel(axial, (4, 4, 6)) == (128, 128, 128)  # 127.5 -> 128
    state.display.set_sequence("t2")  # t2 = 200 + i: its own window
    state.display.set_window_level(WindowLevel.from_range(200.0, 204.0), "t2")
    assert pixel(axial, (2, 4, 6)) == (128, 128, 128)


def test_label_edits_repaint_the_view(axial: SliceView, state: ViewerState) -> None:
    assert pixel(axial, (15, 12, 6)) != (255, 230, 0)
    mask = np.ones((1, 1, 1), bool)
    state.labels.apply((slice(15, 16), slice(12, 13), slice(6, 7)), mask, ET)
    assert pixel(axial, (15, 12, 6)) == (255, 230, 0)


def test_physical_aspect_ratio_from_spacing(axial: SliceView) -> None:
    rect = axial.image_rect()
    # axial shows i (20 x 1 mm) across and j (16 x 1.5 mm) down: 20 mm wide, 24 mm high
    assert rect.width() / rect.height() == pytest.approx(20 / 24)
    assert rect.height() == pytest.approx(400)


def test_click_and_drag_move_the_linked_cursor(axial: SliceView, state: ViewerState) -> None:
    target = axial.widget_pos_of((3, 11, 6))
    drag(axial, B.LeftButton, axial.widget_pos_of((12, 2, 6)), target)
    assert state.cursor.position == (3, 11, 6)
    mouse(axial, QEvent.Type.MouseButtonPress, axial.widget_pos_of((5, 5, 6)), B.LeftButton, B.LeftButton)
    assert state.cursor.position == (5, 5, 6)


def test_wheel_and_page_keys_change_the_slice_and_ctrl_wheel_zooms(
    axial: SliceView, state: ViewerState, qtbot
) -> None:
    wheel(axial, 240)
    assert state.cursor.position == (10, 8, 8)
    qtbot.keyClick(axial, Qt.Key.Key_PageDown)
    assert state.cursor.position == (10, 8, 7)
    qtbot.keyClick(axial, Qt.Key.Key_PageUp)
    assert state.cursor.position == (10, 8, 8)
    width = axial.image_rect().width()
    wheel(axial, 120, Qt.KeyboardModifier.ControlModifier)
    assert axial.zoom == 1.25 and axial.image_rect().width() == pytest.approx(width * 1.25)
    assert state.cursor.position == (10, 8, 8)


def test_middle_drag_pans_and_right_drag_sets_window_level(axial: SliceView, state: ViewerState) -> None:
    x0 = axial.image_rect().x()
    drag(axial, B.MiddleButton, QPointF(100, 100), QPointF(130, 90))
    assert axial.image_rect().x() == pytest.approx(x0 + 30)
    assert (axial.pan.x(), axial.pan.y()) == (30.0, -10.0)
    state.display.set_window_level(WindowLevel(256.0, 100.0))
    drag(axial, B.RightButton, QPointF(100, 100), QPointF(110, 80))
    assert state.display.window_level() == WindowLevel(266.0, 120.0)


def test_convention_switch_mirrors_the_image_and_letters(axial: SliceView, state: ViewerState) -> None:
    assert axial.layout_.letters == ("R", "L", "A", "P")
    left_edge = axial.widget_pos_of((0, 8, 6)).x()
    state.display.set_convention("neurological")
    assert axial.layout_.letters == ("L", "R", "A", "P")
    assert axial.widget_pos_of((0, 8, 6)).x() > left_edge
    assert pixel(axial, (7, 7, 6)) == (255, 230, 0)


def test_an_active_tool_takes_the_left_button(axial: SliceView, state: ViewerState) -> None:
    class RecordingEdit:
        tool_active = True

        def __init__(self) -> None:
            self.calls: list[tuple] = []

        def press(self, plane, voxel, mods):  # noqa: ANN001, ANN202
            self.calls.append(("press", voxel))

        def drag(self, plane, voxel, mods):  # noqa: ANN001, ANN202
            self.calls.append(("drag", voxel))

        def release(self, plane, voxel, mods):  # noqa: ANN001, ANN202
            self.calls.append(("release", voxel))

    edit = RecordingEdit()
    axial.edit = edit
    drag(axial, B.LeftButton, axial.widget_pos_of((1, 1, 6)), axial.widget_pos_of((2, 1, 6)))
    assert edit.calls == [("press", (1, 1, 6)), ("drag", (2, 1, 6)), ("release", (2, 1, 6))]
    assert state.cursor.position == (10, 8, 6)


def test_empty_view_without_a_case(qtbot) -> None:
    view = SliceView(ViewerState(), "coronal")
    qtbot.addWidget(view)
    view.resize(200, 200)
    assert view.voxel_at(QPointF(10, 10)) is None
    assert view.grab().toImage().pixelColor(5, 5).red() == 0
