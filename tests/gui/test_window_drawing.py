"""The real window under Xvfb: brush circle and polygon outline in the slice views, orientation axes and
the translucent brain surface in the 3D view (issue #18). Screenshots go to the test output."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication

import resources
from app.render.scene3d import BRAIN_OPACITY
from tests.gui.windows import open_main_window
from tests.screenshots import save_test_screenshot

pytestmark = pytest.mark.gui
B = Qt.MouseButton


@pytest.fixture
def window(qtbot, tmp_path: Path, monkeypatch):
    win = open_main_window(qtbot, tmp_path, monkeypatch)
    handle = win.case_opener.open_paths([resources.sample_case_dir()])
    qtbot.waitUntil(lambda: not handle.running, timeout=120_000)
    assert win.state.case is not None
    yield win
    win.close()


def mouse(view, kind: QEvent.Type, pos: QPointF, button: B = B.NoButton, buttons: B = B.NoButton) -> None:
    event = QMouseEvent(kind, pos, view.mapToGlobal(pos), button, buttons, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(view, event)


def test_brush_circle_polygon_outline_axes_and_brain_surface(window, qtbot) -> None:
    view3d = window.view3d
    renderer = view3d.interactor.renderer
    assert renderer.axes_widget is not None and renderer.axes_widget.GetEnabled()
    axes = renderer.axes_widget.GetOrientationMarker()
    labels = (axes.GetXAxisLabelText(), axes.GetYAxisLabelText(), axes.GetZAxisLabelText())
    assert labels == ("R", "A", "S")  # the world is RAS+
    caption = axes.GetXAxisCaptionActor2D().GetCaptionTextProperty()
    assert caption.GetColor() == (1.0, 1.0, 1.0)  # readable on the black background
    qtbot.waitUntil(lambda: view3d.surfaces_ready and bool(view3d.scene.surfaces), timeout=60_000)
    view3d.render_frame()
    without = view3d.interactor.screenshot(return_img=True)

    view3d.brain_box.setChecked(True)
    qtbot.waitUntil(lambda: view3d.brain_ready, timeout=60_000)
    brain = view3d.interactor.actors["brain"]
    assert brain.prop.opacity == pytest.approx(BRAIN_OPACITY)
    bounds = np.array(brain.GetBounds()).reshape(3, 2)
    extent = bounds[:, 1] - bounds[:, 0]
    assert np.all((extent > 100) & (extent < 200)), extent  # an adult brain: 10-20 cm across
    view3d.render_frame()
    with_brain = view3d.interactor.screenshot(return_img=True)
    assert np.count_nonzero(np.any(with_brain != without, axis=-1)) > 5000  # it is drawn

    window.edit.settings.radius_mm = 8.0
    window.actions["brush"].trigger()
    axial = window.slice_views["axial"]
    centre = axial.widget_pos_of(window.state.cursor.position)
    mouse(axial, QEvent.Type.MouseMove, centre)
    qtbot.wait(50)
    save_test_screenshot(window.grab(), "brush-circle-and-brain-surface.png")

    window.actions["polygon"].trigger()
    coronal = window.slice_views["coronal"]
    middle = coronal.widget_pos_of(window.state.cursor.position)
    for dx, dy in ((-60, -40), (50, -50), (70, 40)):
        point = middle + QPointF(dx, dy)
        mouse(coronal, QEvent.Type.MouseButtonPress, point, B.LeftButton, B.LeftButton)
        mouse(coronal, QEvent.Type.MouseButtonRelease, point, B.LeftButton, B.NoButton)
    mouse(coronal, QEvent.Type.MouseMove, middle + QPointF(-40, 60))
    qtbot.wait(50)
    save_test_screenshot(window.grab(), "polygon-outline-while-drawing.png")
    view3d.brain_box.setChecked(False)
    assert "brain" not in view3d.interactor.actors


def test_the_right_panels_have_no_gap_in_the_middle(window, qtbot) -> None:
    display_dock = window.display_dock
    tools_dock = window.findChild(type(display_dock), "tools_dock")
    volumes_dock = window.findChild(type(display_dock), "volumes_dock")

    def gap_below(dock) -> int:
        """Empty height between the dock's content and its bottom edge."""
        content = dock.widget()
        return dock.height() - (
            content.mapTo(dock, content.rect().topLeft()).y() + content.sizeHint().height()
        )

    qtbot.waitUntil(lambda: gap_below(display_dock) < 40, timeout=5000)
    tools_dock.raise_()  # as the B/E/F/P shortcuts do
    qtbot.waitUntil(lambda: tools_dock.isVisible() and gap_below(tools_dock) < 40, timeout=5000)
    assert tools_dock.height() > display_dock.widget().sizeHint().height()  # the taller tab got its height
    display_dock.raise_()
    qtbot.waitUntil(lambda: gap_below(display_dock) < 40, timeout=5000)
    content = display_dock.widget()
    content_bottom = content.mapTo(window, content.rect().topLeft()).y() + content.sizeHint().height()
    assert (
        0 < volumes_dock.geometry().top() - content_bottom < 80
    )  # Volumes sits right below (tab bar between)
    save_test_screenshot(window.grab(), "right-panels.png")


def test_the_3d_view_renders_only_when_its_scene_changes(window, qtbot) -> None:
    view3d = window.view3d
    qtbot.waitUntil(lambda: view3d.surfaces_ready and bool(view3d.scene.surfaces), timeout=60_000)
    renders: list[int] = []
    view3d.interactor.ren_win.AddObserver("EndEvent", lambda *_: renders.append(1))
    # the case's last frame may still be due: its delay grows with the render time on a loaded machine
    qtbot.waitUntil(lambda: not view3d.render_pending, timeout=10_000)
    qtbot.wait(100)
    renders.clear()
    qtbot.wait(1500)
    assert renders == []  # idle: no re-render timer burns the CPU (pyvistaqt's 5 Hz default)
    x, y, z = window.state.cursor.position
    window.state.cursor.set_position((x + 5, y, z))  # the cursor's planes move in 3D
    qtbot.waitUntil(lambda: len(renders) >= 1, timeout=5_000)
