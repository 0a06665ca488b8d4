"""Display panel and cursor readout both ways: widgets -> display settings, settings -> widgets."""

from __future__ import annotations

import numpy as np
import pytest

from app.qt.cursor_readout import CursorReadout
from app.qt.display_panel import DisplayPanel
from app.state.display_settings import WindowLevel
from app.state.viewer_state import ViewerState
from segmentation_core.labels import ED, NCR
from tests.render.viewer_fixtures import ramp_case


@pytest.fixture
def state() -> ViewerState:
    state = ViewerState()
    state.set_case(ramp_case())
    return state


@pytest.fixture
def panel(qtbot, state: ViewerState) -> DisplayPanel:
    panel = DisplayPanel(state)
    qtbot.addWidget(panel)
    return panel


def test_sequence_combo(qtbot, panel: DisplayPanel, state: ViewerState) -> None:
    panel.sequence_combo.setCurrentIndex(3)
    assert state.display.sequence == "flair"
    state.display.set_sequence("t2")
    assert panel.sequence_combo.currentText() == "T2"  # keys 1-4: tests/gui/test_actions.py


def test_window_spins_presets_and_auto(panel: DisplayPanel, state: ViewerState) -> None:
    state.display.set_sequence("t1")
    state.display.set_window_level(WindowLevel(40.0, 12.5))
    assert (panel.window_spin.value(), panel.level_spin.value()) == (40.0, 12.5)
    panel.window_spin.setValue(30.0)
    panel.level_spin.setValue(7.0)
    assert state.display.window_level() == WindowLevel(30.0, 7.0)
    panel.apply_preset("Full range")  # t1 = i: 0..19, brain voxels are the non-zero ones
    assert state.display.window_level() == WindowLevel.from_range(1.0, 19.0)
    panel.auto_button.click()
    low, high = np.percentile(np.arange(1, 20).repeat(16 * 12), [1, 99])
    assert state.display.window_level() == WindowLevel.from_range(low, high)
    assert panel.window_spin.value() == pytest.approx(high - low, abs=0.05)


def test_overlay_controls(panel: DisplayPanel, state: ViewerState) -> None:
    overlay = lambda: state.display.overlay  # noqa: E731
    panel.row_boxes[1].setChecked(False)
    assert overlay().is_visible(ED) is False and overlay().is_visible(NCR) is True
    panel.opacity_slider.setValue(30)
    assert overlay().opacity == 0.3
    panel.outline_box.setChecked(True)
    assert overlay().outline is True
    panel.set_row_colour(0, (1, 2, 3))
    assert overlay().colour(NCR) == (1, 2, 3)
    assert "rgb(1, 2, 3)" in panel.colour_buttons[0].styleSheet()
    panel.composite_box.setChecked(True)
    assert [box.text() for box in panel.row_boxes] == ["TC", "WT", "ET"]
    panel.row_boxes[1].setChecked(False)
    assert dict(overlay().region_visible) == {"WT": False, "TC": True, "ET": True}
    state.display.update_overlay(show=False, opacity=0.75)
    assert not panel.show_box.isChecked() and panel.opacity_slider.value() == 75


def test_convention_combo(panel: DisplayPanel, state: ViewerState) -> None:
    panel.convention_combo.setCurrentIndex(1)
    assert state.display.convention == "neurological"
    state.display.set_convention("radiological")
    assert panel.convention_combo.currentText() == "Radiological"


def test_cursor_readout_follows_cursor_and_labels(qtbot, state: ViewerState) -> None:
    readout = CursorReadout(state)
    qtbot.addWidget(readout)
    state.cursor.set_position((7, 7, 6))
    assert readout.text() == (
        "voxel (7, 7, 6)  RAS (7.0, 10.5, 12.0) mm  T1 7  T1ce 107  T2 207  FLAIR 307  label ET"
    )
    state.labels.apply((slice(7, 8), slice(7, 8), slice(6, 7)), np.ones((1, 1, 1), bool), 0)
    assert readout.text().endswith("label background")
    state.set_case(None)
    assert readout.text() == ""
