"""Viewer state without Qt: case, label layer events, cursor, display settings."""

from __future__ import annotations

import numpy as np
import pytest

from app.state.cursor import Cursor
from app.state.display_settings import DisplaySettings, WindowLevel, percentile_window
from app.state.viewer_state import ViewerState
from segmentation_core.labels import ED, ET
from tests.render.viewer_fixtures import ramp_case


def test_cursor_clamps_steps_and_emits_only_on_change() -> None:
    cursor = Cursor((10, 8, 6))
    seen: list[tuple] = []
    cursor.changed.connect(seen.append)
    assert cursor.position == (5, 4, 3)
    cursor.set_position((20, -3, 2))
    cursor.set_position((9, 0, 2))
    cursor.step(2, -5)
    assert seen == [(9, 0, 2), (9, 0, 0)]
    cursor.reset((4, 4, 4))
    assert seen[-1] == (2, 2, 2)


def test_set_case_centres_the_cursor_windows_every_sequence_and_reads_values() -> None:
    state = ViewerState()
    cases: list = []
    state.case_changed.connect(cases.append)
    case = ramp_case()
    state.set_case(case)
    assert cases == [case]
    assert state.cursor.position == (10, 8, 6)
    # T1 holds i (0..19) everywhere; the 1-99 % window of its non-zero (sub-sampled) values
    assert state.display.window_level("t1") == percentile_window(case.channels["t1"].array)
    assert state.display.window_level("flair") == WindowLevel.from_range(300.0, 319.0)
    assert state.intensities() == {"t1": 10.0, "t1ce": 110.0, "t2": 210.0, "flair": 310.0}
    assert state.world_position() == (10.0, 12.0, 12.0)
    assert state.label_at((7, 7, 6)) == ET
    state.set_case(None)
    assert state.labels is None and cases[-1] is None and state.intensities() == {}


def test_a_case_without_segmentation_gets_an_empty_label_layer() -> None:
    case = ramp_case()
    case.labels = None
    state = ViewerState()
    state.set_case(case)
    assert state.labels is not None and state.labels.shape == case.shape
    assert not state.labels.data.any()


def test_label_edits_and_replacements_reach_the_viewer_and_old_layers_are_disconnected() -> None:
    state = ViewerState()
    state.set_case(ramp_case())
    old_layer = state.labels
    boxes: list[tuple] = []
    state.labels_changed.connect(boxes.append)
    bbox = (slice(0, 2), slice(0, 2), slice(0, 1))
    state.labels.apply(bbox, np.ones((2, 2, 1), bool), ED)
    assert boxes == [bbox]
    state.labels.replace(np.zeros(state.case.shape, np.uint8), "clear")
    assert boxes[-1] == (slice(0, 20), slice(0, 16), slice(0, 12))
    state.set_case(ramp_case())
    boxes.clear()
    old_layer.apply(bbox, np.ones((2, 2, 1), bool), ET)
    assert boxes == []


def test_display_settings_emit_what_changed() -> None:
    display = DisplaySettings()
    seen: list[str] = []
    display.changed.connect(seen.append)
    display.set_sequence("flair")
    display.set_sequence("flair")
    display.set_window_level(WindowLevel(200.0, 100.0))
    display.set_label_visible(ED, False)
    display.update_overlay(opacity=3.0)
    display.set_convention("neurological")
    assert seen == ["sequence", "window_level", "overlay", "overlay", "convention"]
    assert display.window_level("flair") == WindowLevel(200.0, 100.0)
    assert display.window_level("flair").low == 0.0 and display.window_level("flair").high == 200.0
    assert display.overlay.is_visible(ED) is False and display.overlay.opacity == 1.0
    with pytest.raises(ValueError, match="unknown sequence 'dwi'"):
        display.set_sequence("dwi")
    with pytest.raises(ValueError, match="unknown convention"):
        display.set_convention("sideways")


def test_auto_window_uses_percentiles_of_brain_voxels() -> None:
    array = np.zeros((40, 40, 40), np.float32)
    array[::4, ::4, ::4] = np.arange(1000, dtype=np.float32).reshape(10, 10, 10) + 1.0
    window = percentile_window(array, 1.0, 99.0)
    assert (window.low, window.high) == pytest.approx((10.99, 990.01))
    state = ViewerState()
    case = ramp_case()
    state.set_case(case)
    state.display.set_window_level(WindowLevel(1.0, 0.0), "t2")
    state.auto_window("t2", 0.0, 100.0)
    assert state.display.window_level("t2") == WindowLevel.from_range(200.0, 219.0)
