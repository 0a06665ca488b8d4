"""ViewerState.alignment: a raw study's sequences on the case grid, checked against the open case."""

from __future__ import annotations

import numpy as np
import pytest

from app.state.alignment import StudyAlignment
from app.state.viewer_state import ViewerState
from segmentation_core.types import Case, Volume


def _case(shape: tuple[int, int, int] = (8, 9, 10)) -> Case:
    affine = np.diag([0.9, 0.9, 5.5, 1.0])
    channels = {s: Volume(np.zeros(shape, np.float32), affine) for s in ("t1", "t1ce", "t2", "flair")}
    return Case(channels, reference="t1ce", case_id="raw")


def test_alignment_is_set_emitted_and_cleared_by_a_new_case() -> None:
    state = ViewerState()
    state.set_case(_case())
    seen: list[object] = []
    state.alignment_changed.connect(seen.append)
    alignment = StudyAlignment(
        "t1ce",
        header_only={"flair": np.ones((8, 9, 10), np.float32)},
        registered={"flair": np.full((8, 9, 10), 2.0, np.float32)},
        brain_mask=np.ones((8, 9, 10), bool),
        transforms={"flair": {"rotation_deg": 3.0}},
    )
    state.set_alignment(alignment)
    assert seen == [alignment] and state.alignment is alignment and alignment.is_registered
    state.set_case(_case())
    assert state.alignment is None


def test_alignment_off_the_case_grid_is_refused() -> None:
    state = ViewerState()
    with pytest.raises(RuntimeError, match="no case is open"):
        state.set_alignment(StudyAlignment("t1ce"))
    state.set_case(_case())
    with pytest.raises(ValueError, match="case's grid"):
        state.set_alignment(StudyAlignment("t1ce", brain_mask=np.ones((8, 9, 11), bool)))
    assert state.alignment is None
    assert not StudyAlignment("t1ce").is_registered
