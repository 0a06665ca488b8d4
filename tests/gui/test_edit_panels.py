"""Editing widgets without the 3D view: tool panel <-> paint settings, volumes panel, AI replace prompt."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtWidgets import QMainWindow, QWidget

from app.qt.edit_tools import EditController, ToolPanel
from app.qt.segment_controller import SegmentController
from app.qt.volumes_panel import VolumesPanel
from app.state.viewer_state import ViewerState
from app.tools import BrushTool, IntensityLimit, PolygonTool, ToolEvent
from segmentation_core.labels import ED, ET, NCR
from tests.core.io_fixtures import make_case


class FakeView(QWidget):
    """Stands in for a SliceView: the controller only sets ``tool_handler`` and the cursor shape."""

    tool_handler = None


@pytest.fixture
def setup(qtbot):
    window = QMainWindow()
    qtbot.addWidget(window)
    state = ViewerState()
    views = {plane: FakeView() for plane in ("axial", "sagittal", "coronal")}
    controller = EditController(window, state, views)
    state.set_case(make_case((24, 24, 24), with_labels=False))
    return window, state, views, controller


def test_tool_panel_drives_the_paint_settings(setup, qtbot) -> None:
    _, _, _, controller = setup
    panel = ToolPanel(controller)
    qtbot.addWidget(panel)
    panel.label_combo.setCurrentIndex(2)
    assert controller.settings.label == ET
    controller.settings.label = ED  # state -> widget
    assert panel.label_combo.currentText() == "ED"
    panel.paint_over.setCurrentIndex(3)  # "ED only"
    assert (controller.settings.paint_over, controller.settings.over_label) == ("label", ED)
    panel.radius.setValue(4.5)
    assert controller.settings.radius_mm == 4.5
    panel.limit_sequence.setCurrentText("t1ce")
    panel.limit_low.setValue(100.0)
    panel.limit_high.setValue(200.0)
    panel.limit_group.setChecked(True)
    assert controller.settings.intensity == IntensityLimit("t1ce", 100.0, 200.0)
    panel.limit_group.setChecked(False)
    assert controller.settings.intensity is None


def test_tools_route_view_events_and_navigate_gives_clicks_back(setup) -> None:
    _, state, views, controller = setup
    controller.set_tool("brush")
    assert isinstance(controller.tool, BrushTool)
    assert all(view.tool_handler is not None for view in views.values())
    controller.settings.label = NCR
    controller.settings.radius_mm = 1.0
    from PySide6.QtCore import Qt

    views["axial"].tool_handler("press", (12, 12, 12), Qt.KeyboardModifier.NoModifier)
    views["axial"].tool_handler("release", (12, 12, 12), Qt.KeyboardModifier.NoModifier)
    assert int((state.labels.data == NCR).sum()) == 5  # a 1 mm disc: the voxel and its 4 neighbours
    controller.undo()
    assert not state.labels.data.any()
    controller.redo()
    assert int((state.labels.data == NCR).sum()) == 5
    controller.set_tool("polygon")
    assert isinstance(controller.tool, PolygonTool) and controller.tool.mode == "polygon"
    for voxel in ((2, 2, 5), (10, 2, 5), (10, 10, 5), (2, 10, 5)):
        controller.tool.press(ToolEvent(voxel, "axial"))
        controller.tool.release(ToolEvent(voxel, "axial"))
    assert controller.finish_polygon() == 81  # the 9x9 square including its outline
    controller.set_tool("navigate")
    assert controller.tool is None and all(view.tool_handler is None for view in views.values())


def test_volumes_panel_follows_edits(setup, qtbot) -> None:
    window, state, _, _ = setup
    segment = SegmentController(window, state, bundle_dir=lambda: None)
    panel = VolumesPanel()
    qtbot.addWidget(panel)
    segment.tracker_changed.connect(panel.attach)
    state.set_case(make_case((24, 24, 24), with_labels=False))  # spacing 1 mm: 1 voxel = 0.001 cm3
    assert panel.cell("ET", 0) == "0.00"
    mask = np.zeros((4, 5, 10), bool)
    mask[:] = True
    state.labels.apply((slice(0, 4), slice(0, 5), slice(0, 10)), mask, ET)
    qtbot.waitUntil(lambda: panel.cell("ET", 0) == "0.20", timeout=2000)
    assert panel.cell("ET", 1) == "200" and panel.cell("TC", 0) == "0.20" and panel.cell("WT", 1) == "–"
    assert panel.summary.text() == "Correction effort: 200 voxels changed (0.20 cm³)"


def test_ai_asks_before_replacing_user_labels(setup, monkeypatch) -> None:
    window, state, _, _ = setup
    asked: list[str] = []
    segment = SegmentController(
        window, state, bundle_dir=lambda: None, confirm=lambda t, x: asked.append(t) or False
    )
    assert not segment.has_user_labels()  # an empty map needs no question
    state.labels.apply((slice(0, 2), slice(0, 2), slice(0, 2)), np.ones((2, 2, 2), bool), ED)
    assert segment.has_user_labels()
    assert segment.run() is None  # the user said no: nothing starts
    assert asked == ["Replace the labels?"]
