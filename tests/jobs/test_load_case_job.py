"""The load-case job without Qt: progress from the core loader, the Case, errors and cancellation."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.jobs.load_case import LoadCaseRequest, run_load_case
from segmentation_core.io import CaseLoadError
from segmentation_core.types import CancelledError, CancelToken
from tests.core.io_fixtures import write_brats_case
from tests.generators import drain


def test_job_yields_progress_and_returns_the_case(tmp_path: Path) -> None:
    folder = write_brats_case(tmp_path / "Case_A", case_id="Case_A", shape=(16, 16, 16))
    progress, case = drain(run_load_case(LoadCaseRequest(folder), CancelToken()))
    assert case.shape == (16, 16, 16) and case.labels is not None
    assert progress[-1].done == progress[-1].total and progress[-1].message == f"loaded {case.case_id}"
    assert len(progress) >= 5  # one per file, then the end


def test_request_from_named_files(tmp_path: Path) -> None:
    folder = write_brats_case(tmp_path / "Case_B", case_id="Case_B", shape=(16, 16, 16))
    files = sorted(folder.iterdir())
    request = LoadCaseRequest.from_paths(files)
    assert [role for role, _ in request.source] == ["flair", "seg", "t1", "t1ce", "t2"]
    assert request.label == "Case_B"
    _, case = drain(run_load_case(request, CancelToken()))
    assert case.labels is not None
    assert LoadCaseRequest.from_paths([folder]).source == folder


def test_unnamed_files_and_bad_folders_raise_clear_errors(tmp_path: Path) -> None:
    odd = tmp_path / "scan.nii.gz"
    with pytest.raises(CaseLoadError, match=r"scan\.nii\.gz: the file name does not say which sequence"):
        LoadCaseRequest.from_paths([odd, tmp_path / "x_t1.nii.gz"])
    with pytest.raises(CaseLoadError, match="does not exist"):
        drain(run_load_case(LoadCaseRequest(tmp_path / "missing"), CancelToken()))


def test_cancelled_token_stops_the_load(tmp_path: Path) -> None:
    folder = write_brats_case(tmp_path / "Case_C", case_id="Case_C", shape=(16, 16, 16))
    token = CancelToken()
    token.cancel()
    with pytest.raises(CancelledError):
        drain(run_load_case(LoadCaseRequest(folder), token))


def test_closing_the_generator_cancels_the_loader(tmp_path: Path) -> None:
    folder = write_brats_case(tmp_path / "Case_D", case_id="Case_D", shape=(16, 16, 16))
    token = CancelToken()
    job = run_load_case(LoadCaseRequest(folder), token)
    next(job)
    job.close()
    assert token.cancelled


def test_a_broken_label_file_does_not_keep_the_images_from_opening(tmp_path: Path) -> None:
    folder = write_brats_case(tmp_path / "Case_C", case_id="Case_C", shape=(16, 16, 16))
    seg = folder / "Case_C_seg.nii.gz"
    seg.write_bytes(seg.read_bytes()[:100])  # truncated
    _, case = drain(run_load_case(LoadCaseRequest(folder), CancelToken()))
    assert case.labels is None and case.shape == (16, 16, 16) and case.case_id == "Case_C"
    assert "seg" not in case.source_files
    assert case.warnings[-1].startswith("the labels in Case_C_seg.nii.gz were not loaded (")
    assert case.warnings[-1].endswith("); the images opened without them")


def test_label_values_of_no_known_scheme_ask_for_the_scheme(tmp_path: Path) -> None:
    import nibabel as nib
    import numpy as np

    from app.jobs.load_case import LabelSchemeUnclear

    folder = write_brats_case(tmp_path / "Case_D", case_id="Case_D", shape=(16, 16, 16))
    seg = folder / "Case_D_seg.nii.gz"
    image = nib.load(seg)
    data = np.zeros(image.shape, np.uint8)
    data[4:8, 4:8, 4:8] = 5  # a value no scheme has
    nib.save(nib.Nifti1Image(data, image.affine), seg)
    with pytest.raises(LabelSchemeUnclear) as raised:
        drain(run_load_case(LoadCaseRequest(folder), CancelToken()))
    assert raised.value.path == seg and "[5]" in raised.value.problem
    # a chosen scheme that does not fit either: the images open, the warning says why
    _, case = drain(run_load_case(LoadCaseRequest(folder, scheme="msd"), CancelToken()))
    assert case.labels is None and "the labels in Case_D_seg.nii.gz were not loaded" in case.warnings[-1]
    # or the user opens the images alone
    _, case = drain(run_load_case(LoadCaseRequest(folder, labels=False), CancelToken()))
    assert case.labels is None and case.warnings == []


def test_a_chosen_scheme_is_used(tmp_path: Path) -> None:
    folder = write_brats_case(tmp_path / "Case_E", case_id="Case_E", shape=(16, 16, 16))
    _, case = drain(run_load_case(LoadCaseRequest(folder, scheme="brats"), CancelToken()))
    assert case.labels is not None and case.labels.scheme == "brats"
