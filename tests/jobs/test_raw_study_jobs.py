"""Raw studies in the app's jobs (no Qt): opening on the reference's native grid, the AI job's pipeline."""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from app.jobs.load_case import LoadCaseRequest, run_load_case
from app.jobs.segment import StudySegmentRequest
from segmentation_core.io.orientation import to_canonical
from segmentation_core.raw import pipeline
from segmentation_core.raw.cache import StudyCache
from segmentation_core.raw.errors import RawStudyError
from segmentation_core.raw.native import OpenedStudy
from segmentation_core.raw.resampling import canonical_grid, resample
from segmentation_core.raw.study import RawStudy, read_study
from segmentation_core.raw.transforms import RigidTransform, rigid_matrix
from segmentation_core.types import SEQUENCES, CancelledError, CancelToken, Case, Volume
from tests.core.model_fixtures import make_tiny_bundle
from tests.core.raw_fixtures import phantom_study, world_points_mask, write_study
from tests.generators import drain

#: Scanner-style names (no BraTS naming): the raw study's sequences are identified from them.
NAMES = {
    "t1": "T1_AX_SE.nii.gz",
    "t1ce": "MRHR_T1_AX_POST_GAD.nii.gz",
    "t2": "MRHR_T2_AX_tse.nii.gz",
    "flair": "MRHR_FLAIR_AX_fla.nii.gz",
}
#: The fake co-registration's answer for T2: 4 mm to the right, no rotation.
T2_SHIFT = rigid_matrix((0.0, 0.0, 0.0), (4.0, 0.0, 0.0), np.zeros(3))
NOT_REGISTERED = (
    "NOT CO-REGISTERED YET: t1, t2, flair are placed on the t1ce grid by their header geometry only and may "
    "not line up with it; Run AI co-registers them (Segment ▸ Run AI segmentation)"
)


def lps_study() -> tuple[RawStudy, Volume]:
    """The phantom study with its T1c stored left-right flipped (as scanners store LPS); and the T1c
    as the canonical (RAS) grid it opens on."""
    study = phantom_study()
    canonical = study.images["t1ce"]
    flip = np.diag([-1.0, 1.0, 1.0, 1.0])
    flip[0, 3] = canonical.shape[0] - 1
    study.images["t1ce"] = Volume(np.ascontiguousarray(canonical.array[::-1]), canonical.affine @ flip)
    return study, canonical


def write_raw_study(folder: Path, study: RawStudy | None = None) -> Path:
    return write_study(study or lps_study()[0], folder, NAMES)


def open_study(source: Path | tuple[tuple[str, Path], ...]) -> OpenedStudy:
    progress, opened = drain(run_load_case(LoadCaseRequest(source), CancelToken()))
    assert [p.message for p in progress][:2] == [
        f"reading t1: {NAMES['t1']}",
        f"reading t1ce: {NAMES['t1ce']}",
    ]
    assert isinstance(opened, OpenedStudy)
    return opened


def test_a_raw_study_opens_on_the_reference_native_grid_with_header_placed_sequences(tmp_path: Path) -> None:
    study, canonical = lps_study()
    folder = write_raw_study(tmp_path / "P001")
    opened = open_study(folder)
    case = opened.case
    assert case.reference == "t1ce" and case.case_id == "P001" and case.labels is None
    assert case.shape == (120, 136, 30) and case.grid.orientation == "RAS"
    np.testing.assert_allclose(case.affine, canonical.affine, atol=1e-6)
    np.testing.assert_array_equal(case.grid.array, canonical.array)
    written = nib.load(folder / NAMES["t1ce"])
    assert case.source_shape == written.shape == (120, 136, 30)
    np.testing.assert_allclose(case.source_affine, written.affine, atol=1e-6)
    assert case.source_files["t1ce"] == (folder / NAMES["t1ce"],)
    assert sorted(opened.header_only) == ["flair", "t1", "t2"]
    for name, array in opened.header_only.items():
        assert array.shape == case.shape and array is case.channels[name].array
    # T1 shares the T1c's grid: placed by its header it is the T1 image itself
    np.testing.assert_allclose(opened.header_only["t1"], study.images["t1"].array, atol=1e-3)
    # T2 is on another tilt: resampled, its values in the phantom's T2 range
    assert opened.header_only["t2"].max() == pytest.approx(150.0, abs=1.0)
    assert case.warnings == [NOT_REGISTERED]
    assert not opened.detection.brats_like


def test_the_study_one_folder_down_and_scanner_named_files_open_the_same(tmp_path: Path) -> None:
    folder = write_raw_study(tmp_path / "P002" / "raw")
    from_parent = open_study(tmp_path / "P002")
    assert from_parent.case.case_id == "P002"  # a folder named "raw" takes its parent's name
    files = tuple(sorted((role, folder / name) for role, name in NAMES.items()))
    assert LoadCaseRequest.from_paths([p for _, p in files]).source == files
    from_files = open_study(files)
    np.testing.assert_array_equal(from_files.case.channels["t2"].array, from_parent.case.channels["t2"].array)


def test_a_raw_study_missing_a_sequence_fails_in_one_line(tmp_path: Path) -> None:
    folder = write_raw_study(tmp_path / "P003")
    (folder / NAMES["t2"]).unlink()
    with pytest.raises(RawStudyError) as error:
        drain(run_load_case(LoadCaseRequest(folder), CancelToken()))
    assert str(error.value) == (
        f"sequence identification (t2): missing in {folder} (found flair, t1, t1ce) — the model needs T1, "
        "T1c, T2 and FLAIR; name each file after its sequence or pass them explicitly"
    )


def test_a_truncated_file_is_named_and_cancel_stops_the_opening(tmp_path: Path) -> None:
    folder = write_raw_study(tmp_path / "P004")
    flair = folder / NAMES["flair"]
    flair.write_bytes(flair.read_bytes()[:300])
    with pytest.raises(ValueError, match=f"^{flair}: ") as error:
        drain(run_load_case(LoadCaseRequest(folder), CancelToken()))
    assert "\n" not in str(error.value)
    token = CancelToken()
    token.cancel()
    with pytest.raises(CancelledError):
        drain(run_load_case(LoadCaseRequest(write_raw_study(tmp_path / "P005")), token))


def test_never_opens_a_raw_folder_as_a_case_and_a_brats_like_study_opens_as_a_case(tmp_path: Path) -> None:
    folder = write_raw_study(tmp_path / "P006")
    _, case = drain(run_load_case(LoadCaseRequest(folder, raw="brats"), CancelToken()))
    # the case loader: on the T1 grid, the others resampled onto it with its warnings
    assert isinstance(case, Case) and case.reference == "t1" and case.shape == (120, 136, 30)
    assert case.source_files["t2"] == (folder / NAMES["t2"],)
    assert any(w.startswith(f"t2 ({NAMES['t2']}) was resampled onto the t1 grid") for w in case.warnings)
    # one shared 1 mm grid, skull-stripped: BraTS-like, so the case loader opens it (on the T1 grid)
    affine = np.diag([1.0, 1.0, 1.0, 1.0])
    index = np.indices((40, 40, 40)) - 20
    brain = ((index**2).sum(axis=0) < 15**2).astype(np.float32) * 100
    like = RawStudy({name: Volume(brain + i, affine) for i, name in enumerate(SEQUENCES)}, "t1ce", "B")
    _, case = drain(run_load_case(LoadCaseRequest(write_study(like, tmp_path / "B", NAMES)), CancelToken()))
    assert isinstance(case, Case) and case.reference == "t1" and case.shape == (40, 40, 40)


def fake_steps(monkeypatch: pytest.MonkeyPatch) -> None:
    """Co-registration by a known answer (T2 4 mm to the right) and deepbet by the phantom's brain."""

    def register(reference: Volume, moving: Volume, sequence: str, **kwargs: object) -> RigidTransform:
        matrix = T2_SHIFT if sequence == "t2" else np.eye(4)
        return RigidTransform(matrix, np.zeros(3), 0.5, 10)

    def extract(volume: Volume, sequence: str) -> np.ndarray:
        return world_points_mask(volume.shape, volume.affine)

    monkeypatch.setattr(pipeline, "register", register)
    monkeypatch.setattr(pipeline, "extract_brain", extract)
    # a 4 mm model grid (the cache key still says 1 mm): the tests run in seconds
    monkeypatch.setattr(pipeline, "canonical_grid", lambda volume, spacing: canonical_grid(volume, 4.0))


def cached_steps(monkeypatch: pytest.MonkeyPatch, folder: Path, cache: Path) -> np.ndarray:
    """Run steps 2-4 here with the fakes, so the AI process (which cannot see them) takes them from the
    cache; returns their brain mask on the T1c's canonical grid."""
    fake_steps(monkeypatch)
    prepared = pipeline.prepare_study(read_study(folder), cache=StudyCache(cache))
    return to_canonical(prepared.brain_mask_native, prepared.study.reference_volume.affine)[0]


def test_the_ai_job_runs_the_pipeline_and_returns_everything_on_the_case_grid(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    folder = write_raw_study(tmp_path / "P007")
    mask = cached_steps(monkeypatch, folder, tmp_path / "cache")
    case = open_study(folder).case
    bundle = make_tiny_bundle(tmp_path / "model", spacing=(4.0, 4.0, 4.0))
    request = StudySegmentRequest(case, bundle, device="cpu", cache_dir=tmp_path / "cache")
    progress, result = drain(request.run(CancelToken()))
    messages = [p.message for p in progress]
    assert messages[:3] == ["starting the AI process", "loading tiny-test-model v1", "running on CPU"]
    assert "P007: co-registration and brain extraction taken from the cache" in messages
    assert "mapping the labels back onto t1ce" in messages and messages[-1] == "P007: segmented"
    assert result.shape == case.shape and result.reference == "t1ce" and result.cached
    np.testing.assert_allclose(result.affine, case.affine, atol=1e-9)
    assert result.prediction.labels.shape == case.shape and result.prediction.labels.dtype == np.uint8
    assert result.prediction.regions is not None and result.prediction.regions.case_shape == case.shape
    assert sorted(result.registered) == ["flair", "t1", "t2"]
    expected_t2 = resample(read_study(folder).images["t2"], (case.shape, case.affine), T2_SHIFT)
    np.testing.assert_array_equal(result.registered["t2"], expected_t2)
    assert not np.array_equal(result.registered["t2"], case.channels["t2"].array)  # not the header placement
    np.testing.assert_array_equal(result.brain_mask, mask)
    brain = world_points_mask(case.shape, case.affine)  # the fake deepbet's ellipsoid, up to its 4 mm edge
    dice = 2 * np.count_nonzero(result.brain_mask & brain) / (result.brain_mask.sum() + brain.sum())
    assert dice > 0.97
    assert result.transforms["t2"]["translation_mm"] == 4.0
    assert result.transforms["t2"]["rotation_degrees"] == 0.0 and result.transforms["t2"]["similarity"] == 0.5
    assert result.provenance["steps"] == ["segmentation", "mapping back"]  # 2-4 came from the cache


def test_cancel_stops_the_ai_job_and_a_blank_sequence_is_refused_in_one_line(tmp_path: Path) -> None:
    study, _ = lps_study()
    case = open_study(write_raw_study(tmp_path / "P008", study)).case
    bundle = make_tiny_bundle(tmp_path / "model", spacing=(4.0, 4.0, 4.0))
    token = CancelToken()
    job = StudySegmentRequest(case, bundle, device="cpu", cache_dir=None).run(token)
    assert next(job).message == "starting the AI process"
    token.cancel()
    with pytest.raises(CancelledError):
        drain(job)
    study.images["t2"] = Volume(np.zeros(study.images["t2"].shape, np.float32), study.images["t2"].affine)
    blank = open_study(write_raw_study(tmp_path / "P009", study)).case
    assert (
        blank.warnings[1]
        == "the t2 image is blank (every voxel is 0); a segmentation of this study is not trustworthy"
    )
    with pytest.raises(RawStudyError) as error:
        drain(StudySegmentRequest(blank, bundle, device="cpu", cache_dir=None).run(CancelToken()))
    assert str(error.value) == (
        f"co-registration (t2): the t2 image ({NAMES['t2']}) is blank (every voxel is 0) — check that the file "
        "holds this sequence's image"
    )


def test_a_dicom_raw_study_opens_on_the_t1c_series_and_its_dicom_seg_references_it(tmp_path: Path) -> None:
    import highdicom as hd
    import pydicom

    from app.jobs.export import ExportRequest
    from segmentation_core.io import from_source_orientation
    from tests.core.io_fixtures import write_dicom_case

    series = write_dicom_case(tmp_path / "dcm", slices=5)
    request = LoadCaseRequest(tmp_path / "dcm", raw="raw")  # a small field: forced, not detected
    _, opened = drain(run_load_case(request, CancelToken()))
    assert isinstance(opened, OpenedStudy)
    case = opened.case
    assert case.reference == "t1ce" and case.source_format == "dicom" and case.shape == (64, 64, 5)
    assert sorted(case.source_files["t1ce"]) == sorted(series["t1ce"])
    labels = np.zeros(case.shape, np.uint8)
    labels[30:35, 30:34, 1:4] = 3
    out = tmp_path / "export" / "study_seg.nii.gz"
    out.parent.mkdir()
    extra = {"raw_study": {"reference": "t1ce", "co_registered": False}}
    drain(ExportRequest(case, labels, out, extra=extra, dicom_seg=True).run(CancelToken()))
    seg = hd.seg.segread(out.with_name("study_seg.dcm"))
    t1ce = [pydicom.dcmread(p, stop_before_pixels=True) for p in series["t1ce"]]
    referenced = seg.ReferencedSeriesSequence[0].SeriesInstanceUID
    assert referenced == t1ce[0].SeriesInstanceUID
    uids = [str(d.SOPInstanceUID) for d in t1ce]
    frames = seg.get_pixels_by_source_instance(source_sop_instance_uids=uids, combine_segments=True)
    source_layout = np.transpose(np.asarray(frames), (2, 1, 0))
    np.testing.assert_array_equal(from_source_orientation(source_layout, case), labels)


def test_the_progress_dialog_lists_the_steps_done_running_and_from_the_cache() -> None:
    from app.jobs.segment import study_steps_text

    state: dict[str, str] = {}
    assert study_steps_text("starting the AI process", state) == (
        "· co-registration\n· brain extraction\n· resampling\n· segmentation\n· mapping back"
    )
    study_steps_text("co-registration: t1 onto t1ce", state)
    assert study_steps_text("brain extraction (deepbet) on t1ce", state) == (
        "✓ co-registration\n▶ brain extraction\n· resampling\n· segmentation\n· mapping back"
    )
    assert study_steps_text("P: segmented", state) == (
        "✓ co-registration\n✓ brain extraction\n✓ resampling\n✓ segmentation\n✓ mapping back"
    )
    cached: dict[str, str] = {}
    study_steps_text("P: co-registration and brain extraction taken from the cache", cached)
    assert study_steps_text("segmentation: patch batch 1 of 3", cached) == (
        "✓ co-registration from the cache\n✓ brain extraction from the cache\n✓ resampling from the cache\n"
        "▶ segmentation\n· mapping back"
    )
