"""Editing widgets without the 3D view: tool panel <-> paint settings, Enter in its boxes, volumes panel,
and the AI's replace prompt."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMainWindow, QPushButton

from app.qt.edit_tools import ToolPanel
from app.qt.segment_controller import SegmentController
from app.qt.shell import Shell
from app.qt.volumes_panel import VolumesPanel
from app.session import CaseSession, EditOutcome, EditSession
from app.state.viewer_state import ViewerState
from app.tools import IntensityLimit
from segmentation_core.labels import ED, ET, NCR
from tests.core.io_fixtures import make_case


@pytest.fixture
def state() -> ViewerState:
    state = ViewerState()
    state.set_case(make_case((24, 24, 24), with_labels=False))
    return state


@pytest.fixture
def panel(qtbot, state: ViewerState) -> ToolPanel:
    reports: list[EditOutcome] = []
    panel = ToolPanel(EditSession(state), reports.append)
    panel.reports = reports
    qtbot.addWidget(panel)
    return panel


def test_tool_panel_drives_the_paint_settings(panel: ToolPanel) -> None:
    settings = panel.edit.settings
    panel.label_combo.setCurrentIndex(2)
    assert settings.label == ET
    settings.label = ED  # state -> widget
    assert panel.label_combo.currentText() == "ED"
    panel.paint_over.setCurrentIndex(3)  # "ED only"
    assert (settings.paint_over, settings.over_label) == ("label", ED)
    settings.paint_over = "background"
    assert panel.paint_over.currentText() == "Background only"
    panel.radius.setValue(4.5)
    assert settings.radius_mm == 4.5
    settings.radius_mm = 2.0
    assert panel.radius.value() == 2.0
    panel.sphere.setChecked(True)
    assert settings.sphere
    panel.limit_sequence.setCurrentText("t1ce")
    panel.limit_low.setValue(100.0)
    panel.limit_high.setValue(200.0)
    panel.limit_group.setChecked(True)
    assert settings.intensity == IntensityLimit("t1ce", 100.0, 200.0)
    panel.limit_group.setChecked(False)
    assert settings.intensity is None


@pytest.mark.parametrize("box", ["radius", "limit_low", "island_size"])
def test_enter_in_a_box_applies_the_typed_value(panel: ToolPanel, qtbot, box: str) -> None:
    panel.show()
    panel.limit_group.setChecked(True)
    spin = getattr(panel, box)
    spin.setFocus()
    spin.selectAll()
    qtbot.keyClicks(spin, "7")
    qtbot.keyClick(spin, Qt.Key.Key_Return)
    assert spin.value() == 7
    settings = panel.edit.settings
    if box == "radius":
        assert settings.radius_mm == 7.0
    elif box == "limit_low":
        assert settings.intensity == IntensityLimit("t1ce", 7.0, 1e6)


def test_operation_buttons_report_through_the_session(panel: ToolPanel, state: ViewerState) -> None:
    start = np.zeros((24, 24, 24), np.uint8)
    start[5:10, 5:10, 5:10] = NCR
    start[7, 7, 7] = 0
    state.labels.replace(start, "setup")
    buttons = {b.text(): b for b in panel.findChildren(QPushButton)}
    buttons["Fill holes"].click()
    assert [r.text for r in panel.reports] == ["Fill holes in NCR: 1 voxel changed"]
    assert state.labels.data[7, 7, 7] == NCR


def test_volumes_panel_follows_edits(qtbot, state: ViewerState) -> None:
    session = CaseSession(state)
    panel = VolumesPanel()
    qtbot.addWidget(panel)
    session.tracker_changed.connect(panel.attach)
    state.set_case(make_case((24, 24, 24), with_labels=False))  # spacing 1 mm: 1 voxel = 0.001 cm3
    assert panel.cell("ET", 0) == "0.00"
    mask = np.ones((4, 5, 10), bool)
    state.labels.apply((slice(0, 4), slice(0, 5), slice(0, 10)), mask, ET)
    qtbot.waitUntil(lambda: panel.cell("ET", 0) == "0.20", timeout=2000)
    assert panel.cell("ET", 1) == "200" and panel.cell("TC", 0) == "0.20" and panel.cell("WT", 1) == "–"
    assert panel.summary.text() == "Correction effort: 200 voxels changed (0.20 cm³)"


def test_ai_asks_before_replacing_user_labels(qtbot, state: ViewerState) -> None:
    window = QMainWindow()
    qtbot.addWidget(window)
    asked: list[str] = []
    shell = Shell(window, lambda text, ms: None, lambda title, text: asked.append(title) or False)
    session = CaseSession(state, ask=shell.ask)
    state.set_case(make_case((24, 24, 24), with_labels=False))
    segment = SegmentController(shell, state, session, bundle_dir=lambda: None)
    assert not session.has_user_labels()  # an empty map needs no question
    state.labels.apply((slice(0, 2), slice(0, 2), slice(0, 2)), np.ones((2, 2, 2), bool), ED)
    assert session.has_user_labels()
    assert segment.run() is None  # the user said no: nothing starts
    assert asked == ["Replace the labels?"]
