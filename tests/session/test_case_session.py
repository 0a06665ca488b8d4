"""CaseSession without Qt: AI provenance, one "unsaved changes?" question, recovery, export bookkeeping."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from app.session import CaseSession, EditSession
from app.state.autosave import find_recoveries
from app.state.viewer_state import ViewerState
from segmentation_core.labels import ED, ET
from segmentation_core.types import CleanUp, Prediction
from tests.core.io_fixtures import make_case
from tests.headless import run_pytest_without_qt

SHAPE = (16, 16, 16)
BOX = (slice(0, 2), slice(0, 2), slice(0, 2))


class Asker:
    def __init__(self, answer: bool) -> None:
        self.answer = answer
        self.titles: list[str] = []

    def __call__(self, title: str, text: str) -> bool:
        self.titles.append(title)
        return self.answer


@pytest.fixture
def state() -> ViewerState:
    return ViewerState()


def prediction(value: int = ET) -> Prediction:
    labels = np.zeros(SHAPE, np.uint8)
    labels[4:8, 4:8, 4:8] = value
    return Prediction(labels, None, "cpu", None, 1.25, "3")


def test_the_ai_result_is_one_step_and_known_as_such(state: ViewerState) -> None:
    ask = Asker(False)
    session = CaseSession(state, ask)
    state.set_case(make_case(SHAPE, with_labels=False))
    assert not session.has_user_labels() and session.confirm_replace() and ask.titles == []
    assert session.apply_prediction(prediction()) == "AI segmentation (model v3): 1.2 s on CPU"
    assert not session.has_user_labels() and session.model_version == "3"
    state.labels.apply(BOX, np.ones((2, 2, 2), bool), ED)
    assert session.has_user_labels()
    assert not session.confirm_replace() and ask.titles == ["Replace the labels?"]
    assert session.tracker.stats.added["ED"] == 8


def test_the_status_says_what_the_clean_up_removed(state: ViewerState) -> None:
    session = CaseSession(state, Asker(True))
    state.set_case(make_case(SHAPE, with_labels=False))
    result = replace(prediction(), cleanup=CleanUp(2, 9.46))
    assert session.apply_prediction(result) == (
        "AI segmentation (model v3): 1.2 s on CPU; clean-up removed 2 islands (9.5 cm³)"
    )
    one = replace(prediction(), cleanup=CleanUp(1, 0.3))
    assert session.apply_prediction(one).endswith("; clean-up removed 1 island (0.3 cm³)")
    request, _ = session.export_request(Path("x_seg.nii.gz"), "brats")
    assert request.extra["ai_cleanup"] == {"islands_removed": 1, "removed_cm3": 0.3}  # in the sidecar
    nothing = replace(prediction(), cleanup=CleanUp())
    assert session.apply_prediction(nothing) == "AI segmentation (model v3): 1.2 s on CPU"
    state.set_case(make_case(SHAPE, with_labels=False))
    assert session.ai_cleanup is None  # another case: no AI result yet


def test_a_result_arriving_mid_stroke_is_not_lost(state: ViewerState) -> None:
    session, edit = CaseSession(state), EditSession(state)
    state.set_case(make_case(SHAPE, with_labels=False))
    edit.set_tool("brush")
    edit.press("axial", (2, 2, 2))  # the release never comes
    session.apply_prediction(prediction())
    assert not state.labels.in_stroke
    assert state.labels.history.undo_names == ["AI segmentation (model v3)", "Brush"]
    assert edit.undo().text == "Undid: AI segmentation (model v3)"


def test_a_result_for_another_grid_is_ignored(state: ViewerState) -> None:
    session = CaseSession(state)
    state.set_case(make_case((8, 8, 8), with_labels=False))
    assert session.apply_prediction(prediction()) is None
    assert not state.labels.data.any()


def test_unsaved_changes_are_asked_once_and_kept_for_recovery(state: ViewerState) -> None:
    ask = Asker(True)
    session = CaseSession(state, ask)
    state.set_case(make_case(SHAPE, with_labels=False))
    assert session.confirm_discard("Quit") and ask.titles == []  # nothing edited: no question
    state.labels.apply(BOX, np.ones((2, 2, 2), bool), ED)
    assert session.confirm_discard("Open another case")
    assert ask.titles == ["Unsaved changes"]
    (recovery,) = find_recoveries()
    assert recovery.case_id == "Synthetic_001" and int(np.count_nonzero(recovery.load())) == 8
    ask.answer = False
    assert not session.confirm_discard("Quit")


def test_reopening_offers_the_recovery_with_plural_wording(state: ViewerState) -> None:
    ask = Asker(True)
    session = CaseSession(state, ask)
    case = make_case(SHAPE, with_labels=False)
    state.set_case(case)
    state.labels.apply(BOX, np.ones((2, 2, 2), bool), ED)
    session.confirm_discard("Quit")
    state.set_case(make_case(SHAPE, with_labels=False))
    assert ask.titles[-1] == "Recover unsaved labels?"
    assert int(np.count_nonzero(state.labels.data == ED)) == 8
    assert state.labels.history.undo_names == ["Recovered unsaved labels"]


def test_recovery_question_says_1_edit(state: ViewerState, monkeypatch: pytest.MonkeyPatch) -> None:
    texts: list[str] = []
    session = CaseSession(state, lambda title, text: texts.append(text) or False)
    state.set_case(make_case(SHAPE, with_labels=False))
    state.labels.apply(BOX, np.ones((2, 2, 2), bool), ED)
    session.autosaver.save_now().result()
    state.set_case(make_case(SHAPE, with_labels=False))
    assert "(1 edit) were found" in texts[-1]
    assert find_recoveries() == []  # "No" discards it


def test_export_request_copies_and_marks_saved_only_if_unchanged(state: ViewerState, tmp_path: Path) -> None:
    session = CaseSession(state)
    state.set_case(make_case(SHAPE, with_labels=False))
    session.apply_prediction(prediction())
    labels = state.labels
    labels.apply(BOX, np.ones((2, 2, 2), bool), ED)
    request, exported = session.export_request(tmp_path / "x_seg.nii.gz", "brats")
    assert request.model_version == "3" and request.extra["edits"]["voxels_changed"] == 8
    assert "ai_cleanup" not in request.extra  # this result says nothing about a clean-up
    assert np.array_equal(request.labels, labels.data) and request.labels is not labels.data
    labels.apply((slice(9, 10),) * 3, np.ones((1, 1, 1), bool), ED)  # painted while exporting
    exported()
    assert labels.modified  # the export holds the labels of before
    request, exported = session.export_request(tmp_path / "x_seg.nii.gz", "brats")
    exported()
    assert not labels.modified


def test_the_session_runs_without_qt() -> None:
    result = run_pytest_without_qt("tests/session/test_edit_session.py")
    assert result.returncode == 0, result.stdout + result.stderr
    assert " passed" in result.stdout
