"""EditSession without Qt: tools, lost releases, settings in every operation, undo wording."""

from __future__ import annotations

import numpy as np
import pytest

from app.session import EditSession
from app.state.viewer_state import ViewerState
from app.tools import IntensityLimit, PolygonTool
from segmentation_core.labels import ED, ET, NCR
from tests.core.io_fixtures import make_case

SHAPE = (24, 24, 24)


@pytest.fixture
def state() -> ViewerState:
    state = ViewerState()
    state.set_case(make_case(SHAPE, with_labels=False))
    return state


@pytest.fixture
def edit(state: ViewerState) -> EditSession:
    return EditSession(state)


def test_tools_follow_the_case_and_navigate_has_none(edit: EditSession, state: ViewerState) -> None:
    seen: list[str] = []
    edit.tool_changed.connect(seen.append)
    edit.set_tool("brush")
    assert edit.tool_active and edit.tool.layer is state.labels
    state.set_case(make_case(SHAPE, with_labels=False, seed=1))
    assert edit.tool.layer is state.labels  # a new case gets a new tool on its labels
    edit.set_tool("navigate")
    assert not edit.tool_active
    assert seen == ["brush", "brush", "navigate"]
    with pytest.raises(ValueError, match="unknown tool 'spray'"):
        edit.set_tool("spray")


def test_a_release_off_the_volume_closes_the_stroke(edit: EditSession, state: ViewerState) -> None:
    edit.settings.radius_mm = 1.0
    edit.set_tool("brush")
    edit.press("axial", (12, 12, 12))
    edit.drag("axial", (30, 12, 12))  # off the volume's edge (x = 23 is the last voxel)
    edit.release("axial", (40, 12, 12))
    labels = state.labels
    assert not labels.in_stroke
    assert labels.data[23, 12, 12] == NCR and labels.data[12, 12, 12] == NCR
    assert edit.undo().text == "Undid: Brush"
    assert not labels.data.any()
    assert edit.undo().text == "Nothing to undo"
    assert edit.redo().text == "Redid: Brush"
    assert edit.redo().text == "Nothing to redo"


def test_a_lost_release_is_closed_before_undo_and_the_next_press(
    edit: EditSession, state: ViewerState
) -> None:
    edit.set_tool("brush")
    edit.press("axial", (12, 12, 12))
    assert state.labels.in_stroke  # the release never comes (focus lost mid-drag)
    assert edit.undo().text == "Undid: Brush"
    assert not state.labels.in_stroke and not state.labels.data.any()
    edit.press("axial", (5, 5, 5))
    edit.press("axial", (15, 15, 15))  # again no release in between
    edit.release("axial", (15, 15, 15))
    assert state.labels.history.undo_names == ["Brush", "Brush"]


def test_operations_use_the_paint_settings(edit: EditSession, state: ViewerState) -> None:
    labels = state.labels
    start = np.zeros(SHAPE, np.uint8)
    start[8:12, 8:12, 8:12] = ED
    start[12:14, 8:12, 8:12] = ET
    labels.replace(start, "setup")
    edit.settings.label = ED
    edit.settings.paint_over = "background"
    outcome = edit.dilate(1.0)
    assert np.array_equal(labels.data == ET, start == ET)
    # a 1 mm ball grows each of the cube's 6 faces by 16 voxels; the +x face is ET and stays
    assert outcome.text == "Dilate ED: 80 voxels changed"
    assert int(np.count_nonzero(labels.data == ED)) == 64 + 80
    edit.undo()
    edit.settings.paint_over = "label"
    edit.settings.over_label = ET
    outcome = edit.erode(1.0)  # only ET may change: eroding ED changes nothing
    assert outcome.changed == 0 and outcome.text == "Erode ED: 0 voxels changed"
    edit.settings.paint_over = "everything"
    assert edit.erode(1.0).changed > 0


def test_interpolate_respects_the_intensity_limit(edit: EditSession, state: ViewerState) -> None:
    edit.settings.label = ED
    edit.settings.radius_mm = 2.0
    edit.set_tool("brush")
    for z in (6, 12):
        edit.press("axial", (12, 12, z))
        edit.release("axial", (12, 12, z))
    painted = state.labels.data.copy()
    t1 = state.case.channels["t1"].array
    edit.settings.intensity = IntensityLimit("t1", float(t1.max()) + 1, float(t1.max()) + 2)
    assert edit.interpolate().changed == 0
    assert np.array_equal(state.labels.data, painted)
    edit.settings.intensity = None
    outcome = edit.interpolate()
    assert outcome.text.startswith("Interpolate ED between axial slices: ") and outcome.changed > 0
    assert all(state.labels.data[12, 12, z] == ED for z in range(6, 13))


def test_a_missing_sequence_is_an_error_outcome_not_an_exception(
    edit: EditSession, state: ViewerState
) -> None:
    edit.settings.intensity = IntensityLimit("dwi", 0.0, 1.0)
    edit.set_tool("brush")
    outcome = edit.press("axial", (12, 12, 12))
    assert outcome is not None and outcome.error and "needs sequence 'dwi'" in outcome.text
    assert not state.labels.in_stroke
    state.labels.replace(np.pad(np.ones((2, 2, 2), np.uint8), 11), "setup")
    assert edit.dilate(1.0).error


def test_polygon_closes_and_a_new_case_drops_an_open_outline(edit: EditSession, state: ViewerState) -> None:
    edit.set_tool("polygon")
    for voxel in ((2, 2, 5), (10, 2, 5), (10, 10, 5), (2, 10, 5)):
        edit.press("axial", voxel)
        edit.release("axial", voxel)
    assert edit.finish_polygon() == 81
    edit.press("axial", (2, 2, 5))
    edit.release("axial", (2, 2, 5))
    state.set_case(make_case(SHAPE, with_labels=False, seed=2))
    assert isinstance(edit.tool, PolygonTool) and edit.tool.vertices == []
    assert not state.labels.data.any()


def test_no_case_means_nothing_to_do(edit: EditSession, state: ViewerState) -> None:
    state.set_case(None)
    edit.set_tool("brush")
    assert not edit.tool_active
    assert edit.undo().text == "Nothing to undo"
    assert edit.fill_holes().text == "Open a case first"
