"""ReviewSession: the AI result's queue moves the crosshair, edits count as reviewed, lesions jump."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from app.session import CaseSession, ReviewSession
from app.state.viewer_state import ViewerState
from segmentation_core.labels import ED, ET
from segmentation_core.types import Prediction, RegionProbabilities
from tests.core.io_fixtures import make_case
from tests.headless import run_pytest_without_qt

SHAPE = (32, 32, 32)


def ai_result() -> Prediction:
    """Two tumours (one with ET) and two uncertain spots: 27 and 24 voxels at p = 0.5."""
    labels = np.zeros(SHAPE, np.uint8)
    labels[4:12, 4:12, 4:12] = ED
    labels[6:10, 6:10, 6:10] = ET
    labels[20:26, 20:26, 20:26] = ED
    q = np.full((3, *SHAPE), 255, np.uint8)
    q[:, labels == 0] = 0
    q[0, 12:15, 4:7, 4:7] = 128
    q[0, 26:28, 20:23, 20:24] = 128
    regions = RegionProbabilities(((0, 32),) * 3, SHAPE, q)
    return Prediction(labels, None, "cpu", None, 1.0, "3", regions=regions)


@pytest.fixture
def sessions() -> tuple[ViewerState, CaseSession, ReviewSession]:
    state = ViewerState()
    session, review = CaseSession(state), ReviewSession(state)
    session.prediction_applied.connect(review.set_prediction)
    state.set_case(make_case(SHAPE, with_labels=False))
    return state, session, review


def test_the_ai_result_gives_a_queue_that_moves_the_crosshair(sessions) -> None:
    state, session, review = sessions
    events: list[str] = []
    review.changed.connect(events.append)
    session.apply_prediction(ai_result())
    assert events[:2] == ["queue", "lesions"]
    assert state.uncertainty.dtype == np.uint8 and int(state.uncertainty[13, 5, 5]) == 254
    assert int(state.uncertainty[0, 0, 0]) == 0 and int((state.uncertainty >= 128).sum()) == 51
    assert [c.voxels for c in review.queue.clusters] == [27, 24]
    assert review.next().voxels == 27 and state.cursor.position == (13, 5, 5)
    assert review.next().voxels == 24 and state.cursor.position == review.queue.clusters[1].target
    assert review.previous().voxels == 27 and state.cursor.position == (13, 5, 5)
    assert review.coverage() == 0.0
    review.mark_reviewed()
    assert review.coverage() == 27 / 51 and review.queue.clusters[0].reviewed


def test_edited_voxels_count_as_reviewed(sessions) -> None:
    state, session, review = sessions
    session.apply_prediction(ai_result())
    mask = np.zeros((2, 2, 2), bool)
    mask[:, :, 0] = True
    state.labels.apply((slice(26, 28), slice(20, 22), slice(20, 22)), mask, ED)  # 4 of the 24-voxel spot
    assert review.coverage() == 4 / 51
    assert review.summary()["coverage"] == 4 / 51 and review.summary()["clusters"] == 2
    session.sidecar_extras.append(review.sidecar)
    request, _ = session.export_request(Path("/tmp/x_seg.nii.gz"), "brats")
    assert request.extra["review"]["coverage"] == 4 / 51 and request.extra["edits"]["voxels_changed"] == 4


def test_lesion_table_rano_and_jumping_to_a_lesion(sessions) -> None:
    state, session, review = sessions
    session.apply_prediction(ai_result())
    assert [round(row.volumes_cm3["WT"] * 1000) for row in review.lesions.lesions] == [512, 216]
    assert review.lesions.lesions[0].enhancing == (1,) and len(review.rano.measurements) == 1
    review.jump_to_lesion(2)
    assert state.cursor.position == review.lesions.lesions[1].target
    mask = np.ones((6, 6, 6), bool)
    state.labels.apply((slice(20, 26), slice(20, 26), slice(20, 26)), mask, 0)  # the user removes lesion 2
    review.measure()
    assert len(review.lesions.lesions) == 1


def test_a_new_case_clears_the_review_and_results_without_probabilities_have_no_queue(sessions) -> None:
    state, session, review = sessions
    session.apply_prediction(ai_result())
    state.set_case(make_case(SHAPE, with_labels=False))
    assert review.queue is None and review.lesions is None and review.next() is None
    assert state.uncertainty is None
    plain = ai_result()
    session.apply_prediction(Prediction(plain.labels, None, "cpu", None, 1.0, "3"))
    assert review.queue is None and review.coverage() is None and review.lesions is not None


def test_the_review_session_runs_without_qt() -> None:
    result = run_pytest_without_qt(
        "tests/session/test_review_session.py::test_edited_voxels_count_as_reviewed"
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert " passed" in result.stdout


def test_moving_a_rano_end_point_in_the_layer_updates_the_review(sessions) -> None:
    state, session, review = sessions
    session.apply_prediction(ai_result())
    layer = state.measurements
    assert (
        layer.assessment is review.rano
        and len(layer.on_slice(2, review.rano.measurements[0].slice_index)) == 1
    )
    assert layer.on_slice(0, 0) == []
    m = review.rano.measurements[0]
    events: list[str] = []
    review.changed.connect(events.append)
    layer.move(m.lesion, "short", 0, (m.short[1][0] - 12.0, m.short[1][1], 99.0))
    assert events == ["lesions"] and review.rano is layer.assessment
    moved = review.rano.measurements[0]
    assert moved.short[0][2] == m.slice_index and moved.edited and moved.short_mm != m.short_mm
    state.set_case(make_case(SHAPE, with_labels=False))
    assert layer.assessment is None


def test_measuring_can_run_elsewhere_and_a_stale_result_is_ignored(sessions) -> None:
    state, session, review = sessions
    requests = []
    review.measure_runner = requests.append
    session.apply_prediction(ai_result())
    assert review.lesions is None and len(requests) == 1  # handed to the runner, not computed here
    request = requests[0]
    result = request.compute()
    state.set_case(make_case(SHAPE, with_labels=False))  # the case changed before the result came
    review.set_measurements(request, result)
    assert review.lesions is None and state.measurements.assessment is None
    session.apply_prediction(ai_result())
    review.set_measurements(requests[1], requests[1].compute())
    assert len(review.lesions.lesions) == 2 and requests[1].midline_known is False
    review.measure()
    assert requests[2].midline_known and requests[2].midline is review.lesions.midline  # computed once
