"""The segmentation job runs the real predictor on a case and honours cancellation."""

from __future__ import annotations

import pytest

from app.jobs.segment import SegmentRequest
from segmentation_core.types import CancelledError, CancelToken
from tests.core.io_fixtures import make_case
from tests.core.model_fixtures import make_tiny_bundle
from tests.generators import drain


def test_job_yields_progress_and_returns_labels_on_the_case_grid(tmp_path) -> None:
    case = make_case((32, 32, 32))
    request = SegmentRequest(case, make_tiny_bundle(tmp_path / "m"), device="cpu")
    progress, prediction = drain(request.run(CancelToken()))
    assert [p.message for p in progress[:3]] == [
        "starting the AI process",
        "loading tiny-test-model v1",
        "running on CPU",
    ]
    batches = [p for p in progress if p.total > 0]
    assert batches[-1].done == batches[-1].total
    assert prediction.labels.shape == (32, 32, 32)
    assert set(prediction.labels.ravel().tolist()) <= {0, 1, 2, 3}
    assert prediction.model_version == "1"


def test_cancel_stops_the_job(tmp_path) -> None:
    case = make_case((32, 32, 32))
    token = CancelToken()
    generator = SegmentRequest(case, make_tiny_bundle(tmp_path / "m"), device="cpu").run(token)
    next(generator)
    token.cancel()
    with pytest.raises(CancelledError):
        drain(generator)
