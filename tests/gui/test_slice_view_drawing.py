"""Slice views draw what the editing tools are doing: the brush's circle under the mouse, the lasso and
polygon outlines while they are drawn; Ctrl+wheel zooms about the mouse (issue #18)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QImage, QMouseEvent, QWheelEvent
from PySide6.QtWidgets import QApplication

from app.qt.slice_view import ZOOM_RANGE, SliceView
from app.session import EditSession
from app.state.viewer_state import ViewerState
from tests.core.io_fixtures import make_case
from tests.render.viewer_fixtures import LPS

B = Qt.MouseButton
PLANES = ("axial", "sagittal", "coronal")


@pytest.fixture
def setup(qtbot):
    state = ViewerState()
    controller = EditSession(state)
    views = {plane: SliceView(state, plane, edit=controller) for plane in PLANES}
    for view in views.values():
        qtbot.addWidget(view)
        view.resize(400, 400)
        view.show()
    state.set_case(make_case((48, 48, 48), with_labels=False, affine=LPS @ np.diag([1.0, 1.0, 1.0, 1.0])))
    for view in views.values():
        qtbot.waitExposed(view)
    return state, views, controller


def send_mouse(
    view: SliceView, kind: QEvent.Type, pos: QPointF, button: B = B.NoButton, buttons: B = B.NoButton
):
    QApplication.sendEvent(
        view, QMouseEvent(kind, pos, view.mapToGlobal(pos), button, buttons, Qt.KeyboardModifier.NoModifier)
    )


def move(view: SliceView, pos: QPointF, buttons: B = B.NoButton) -> None:
    send_mouse(view, QEvent.Type.MouseMove, pos, B.NoButton, buttons)


def click(view: SliceView, pos: QPointF) -> None:
    send_mouse(view, QEvent.Type.MouseButtonPress, pos, B.LeftButton, B.LeftButton)
    send_mouse(view, QEvent.Type.MouseButtonRelease, pos, B.LeftButton, B.NoButton)


def image(view: SliceView) -> np.ndarray:
    picture = view.grab().toImage().convertToFormat(QImage.Format.Format_RGB888)
    data = np.frombuffer(picture.constBits(), np.uint8).reshape(picture.height(), picture.bytesPerLine())
    return data[:, : picture.width() * 3].reshape(picture.height(), picture.width(), 3).copy()


def changed_pixels(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    """(row, column) of every pixel that differs."""
    return np.argwhere(np.any(before != after, axis=-1))


@pytest.mark.parametrize("plane", PLANES)
def test_the_brush_shows_a_circle_of_its_size_under_the_mouse(setup, plane: str) -> None:
    state, views, controller = setup
    view = views[plane]
    controller.settings.radius_mm = 6.0
    before = image(view)
    controller.set_tool("brush")
    mouse = QPointF(180.0, 210.0)
    move(view, mouse)
    after = image(view)
    radius_px = 6.0 * view.mm_to_pixels()
    assert radius_px > 20  # 400 px for 48 mm
    drawn = changed_pixels(before, after)
    distance = np.hypot(drawn[:, 1] + 0.5 - mouse.x(), drawn[:, 0] + 0.5 - mouse.y())
    assert len(drawn) > math.pi * radius_px  # a whole circle, not a few dots
    assert distance.min() > radius_px - 2.5 and distance.max() < radius_px + 2.5
    controller.settings.radius_mm = 3.0
    move(view, mouse + QPointF(1, 0))
    drawn = changed_pixels(before, image(view))
    distance = np.hypot(drawn[:, 1] + 0.5 - mouse.x() - 1, drawn[:, 0] + 0.5 - mouse.y())
    assert distance.max() < 3.0 * view.mm_to_pixels() + 2.5  # follows the radius
    QApplication.sendEvent(view, QEvent(QEvent.Type.Leave))
    assert len(changed_pixels(before, image(view))) == 0  # the mouse left: no circle
    controller.set_tool("eraser")
    move(view, mouse)
    assert len(changed_pixels(before, image(view))) > math.pi * radius_px / 2


def snapped(view: SliceView, pos: QPointF) -> QPointF:
    """Where a vertex clicked at ``pos`` is drawn: the centre of the voxel under it."""
    return view.widget_pos_of(view.voxel_at(pos))


def _on_segment(pixels: np.ndarray, a: QPointF, b: QPointF, tolerance: float = 2.0) -> int:
    """How many of ``pixels`` lie within ``tolerance`` of the segment a-b (excluding its ends)."""
    p = pixels[:, ::-1] + 0.5
    ab = np.array([b.x() - a.x(), b.y() - a.y()])
    t = ((p - [a.x(), a.y()]) @ ab) / (ab @ ab)
    closest = np.array([a.x(), a.y()]) + np.clip(t, 0, 1)[:, None] * ab
    near = np.hypot(*(p - closest).T) <= tolerance
    return int(np.count_nonzero(near & (t > 0.1) & (t < 0.9)))


def test_the_polygon_outline_is_drawn_while_clicking_and_cleared_on_close(setup) -> None:
    state, views, controller = setup
    view = views["axial"]
    controller.set_tool("polygon")
    before = image(view)
    corners = [QPointF(100, 100), QPointF(300, 110), QPointF(290, 300)]
    for corner in corners[:2]:
        click(view, corner)
    move(view, corners[2])
    drawn = changed_pixels(before, image(view))
    first, second = snapped(view, corners[0]), snapped(view, corners[1])
    assert _on_segment(drawn, first, second) > 100  # the edge drawn so far
    assert _on_segment(drawn, second, corners[2]) > 50  # the rubber band to the mouse
    assert _on_segment(drawn, corners[2], first) > 50  # and back to the first vertex
    click(view, corners[2])
    assert not state.labels.data.any()  # nothing is filled before the polygon is closed
    assert controller.finish_polygon() > 100
    view.tool_preview, preview = None, view.tool_preview
    filled = image(view)
    view.tool_preview = preview
    move(view, QPointF(5, 5))
    assert len(changed_pixels(filled, image(view))) == 0  # the outline is gone once closed


def test_the_lasso_outline_follows_the_drag(setup) -> None:
    state, views, controller = setup
    view = views["coronal"]
    controller.set_tool("lasso")
    before = image(view)
    path = [QPointF(120, 120), QPointF(280, 130), QPointF(270, 280), QPointF(130, 260)]
    send_mouse(view, QEvent.Type.MouseButtonPress, path[0], B.LeftButton, B.LeftButton)
    for point in path[1:]:
        move(view, point, B.LeftButton)
    drawn = changed_pixels(before, image(view))
    for a, b in zip(path, path[1:]):
        assert _on_segment(drawn, snapped(view, a), snapped(view, b)) > 60, (a, b)
    assert not state.labels.data.any()
    send_mouse(view, QEvent.Type.MouseButtonRelease, path[-1], B.LeftButton, B.NoButton)
    assert state.labels.data.any()  # release fills the lasso


def test_ctrl_wheel_zooms_about_the_mouse(setup) -> None:
    state, views, _ = setup
    view = views["axial"]
    anchor = QPointF(123.0, 297.0)  # inside a voxel, not on its edge

    def image_point(pos: QPointF) -> tuple[float, float]:
        rect = view.image_rect()
        return ((pos.x() - rect.x()) / rect.width(), (pos.y() - rect.y()) / rect.height())

    start = image_point(anchor)
    voxel = view.voxel_at(anchor)
    for steps in (2, 3, -1):
        event = QWheelEvent(
            anchor,
            view.mapToGlobal(anchor),
            QPoint(0, 0),
            QPoint(0, 120 * steps),
            B.NoButton,
            Qt.KeyboardModifier.ControlModifier,
            Qt.ScrollPhase.NoScrollPhase,
            False,
        )
        QApplication.sendEvent(view, event)
        assert image_point(anchor) == pytest.approx(start, abs=1e-9)
        assert view.voxel_at(anchor) == voxel
    assert view.zoom == pytest.approx(1.25**4)
    view.zoom_about(anchor, 1000.0)
    assert view.zoom == ZOOM_RANGE[1] and image_point(anchor) == pytest.approx(start, abs=1e-9)
