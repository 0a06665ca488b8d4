"""CaseSession.apply_study_result without Qt: "Always" on a BraTS-named case (T1 grid), a stale result."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from app.jobs.load_case import LoadCaseRequest, run_load_case
from app.jobs.segment import StudySegmentRequest
from app.session import CaseSession
from app.state.viewer_state import ViewerState
from segmentation_core.raw import pipeline
from segmentation_core.raw.cache import StudyCache
from segmentation_core.raw.resampling import resample
from segmentation_core.raw.study import read_study
from segmentation_core.types import CancelToken, Case
from tests.core.model_fixtures import make_tiny_bundle
from tests.core.raw_fixtures import phantom_study, write_study
from tests.generators import drain
from tests.jobs.test_raw_study_jobs import T2_SHIFT, fake_steps

BRATS_NAMES = {name: f"P020_{name}.nii.gz" for name in ("t1", "t1ce", "t2", "flair")}


def test_always_runs_the_raw_steps_on_a_brats_named_case_and_applies_them_on_its_t1_grid(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    folder = write_study(phantom_study(), tmp_path / "P020", BRATS_NAMES)
    _, case = drain(run_load_case(LoadCaseRequest(folder), CancelToken()))
    assert isinstance(case, Case) and case.reference == "t1"  # BraTS names: the case loader, T1 grid
    fake_steps(monkeypatch)
    pipeline.prepare_study(read_study(folder, reference="t1"), cache=StudyCache(tmp_path / "cache"))
    bundle = make_tiny_bundle(tmp_path / "model", spacing=(4.0, 4.0, 4.0))
    request = StudySegmentRequest(case, bundle, device="cpu", force="raw", cache_dir=tmp_path / "cache")
    _, result = drain(request.run(CancelToken()))
    assert result.reference == "t1" and sorted(result.registered) == ["flair", "t1ce", "t2"]

    state = ViewerState()
    session = CaseSession(state)
    state.set_case(case)
    header_t2 = case.channels["t2"].array
    stale = dataclasses.replace(result, reference="t1ce")
    assert session.apply_study_result(stale) is None  # not this case's grid: nothing changes
    assert case.channels["t2"].array is header_t2 and state.alignment is None
    assert session.library_refusal() is None  # a BraTS-like case may join the training set

    text = session.apply_study_result(result)
    assert text is not None and text.startswith("AI segmentation (model v1): ")
    assert state.labels.history.undo_names == ["AI segmentation (model v1)"]
    np.testing.assert_array_equal(state.labels.data, result.prediction.labels)
    expected = resample(read_study(folder).images["t2"], (case.shape, case.affine), T2_SHIFT)
    np.testing.assert_array_equal(case.channels["t2"].array, expected)
    alignment = state.alignment
    assert session.library_refusal().startswith("a raw scanner study cannot join the training set")
    assert alignment.reference == "t1" and alignment.header_only["t2"] is header_t2
    assert alignment.transforms["t2"]["translation_mm"] == 4.0 and alignment.brain_mask.shape == case.shape
    sidecar = session.export_request(tmp_path / "out" / "x_seg.nii.gz", "brats")[0].extra["raw_study"]
    assert sidecar["reference"] == "t1" and sidecar["co_registered"] and sidecar["steps_from_cache"]
    state.labels.undo()  # the labels are one undo step
    assert not state.labels.data.any()
