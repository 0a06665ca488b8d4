"""Raw-study steps on small synthetic studies: identification, detection, force flags, cache, progress, cancel."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from segmentation_core.raw import pipeline
from segmentation_core.raw.brain_mask import within_signal
from segmentation_core.raw.cache import StudyCache
from segmentation_core.raw.detect import detect
from segmentation_core.raw.errors import RawStudyError
from segmentation_core.raw.identify import identify_name
from segmentation_core.raw.pipeline import RawOptions, prepare_study
from segmentation_core.raw.study import RawStudy, read_study
from segmentation_core.raw.transforms import RigidTransform, rigid_matrix
from segmentation_core.types import SEQUENCES, CancelledError, CancelToken, Progress, Volume
from tests.core.raw_fixtures import oblique_affine, phantom_study, world_points_mask, write_study


@pytest.mark.parametrize(
    ("name", "role"),
    [
        ("T1_AX_OtherEXampleTCIA_TCGA-FG-6692_Si_TCGA-FG-6692_T1_AX_SE_10_se2d1_t1.nii.gz", "t1"),
        (
            "MRHR_T1_AX_POST_GAD_OtherEXampleTCIA_TCGA-FG-6692_Si_TCGA-FG-6692_MRHR_T1_AX_POST_GAD_SE_13_se2d1r_t1c.nii.gz",
            "t1ce",
        ),
        (
            "MRHR_T2_AX_OtherEXampleTCIA_TCGA-FG-6692_Si_TCGA-FG-6692_MRHR_T2_AX_SE_2_tse2d1_11_t2.nii.gz",
            "t2",
        ),
        (
            "MRHR_FLAIR_AX_OtherEXampleTCIA_TCGA-FG-6692_Si_TCGA-FG-6692_MRHR_FLAIR_AX_SE_IR_5_tir2d1_21_fla.nii.gz",
            "flair",
        ),
        ("t1c.nii.gz", "t1ce"),
        ("Brats18_X_1_t1ce.nii.gz", "t1ce"),
        ("case-t2f.nii.gz", "flair"),
        ("Brats18_X_1_seg.nii.gz", None),
        ("t1_t2_mixed.nii.gz", None),
        ("dwi_b1000.nii.gz", None),
        ("notes.nii.gz", None),
    ],
)
def test_sequences_are_identified_from_file_names(name: str, role: str | None) -> None:
    assert identify_name(name) == role


def test_a_study_folder_is_read_with_each_sequence_on_its_native_grid(tmp_path: Path) -> None:
    study = phantom_study()
    folder = write_study(
        study, tmp_path / "study", {"t1ce": "T1_POST_GAD.nii.gz", "flair": "AX_FLAIR.nii.gz"}
    )
    (folder / "readme.nii.gz").write_bytes(b"")
    read = read_study(folder)
    assert read.case_id == "study" and read.reference == "t1ce"
    for name in SEQUENCES:
        assert read.images[name].same_grid(study.images[name])
        np.testing.assert_array_equal(read.images[name].array, study.images[name].array)
    assert read.warnings == ["ignored readme.nii.gz: its name names no sequence"]


def test_a_missing_sequence_is_named_in_one_line(tmp_path: Path) -> None:
    study = phantom_study()
    del study.images["flair"]
    folder = write_study(study, tmp_path / "study")
    with pytest.raises(RawStudyError) as error:
        read_study(folder)
    assert str(error.value) == (
        f"sequence identification (flair): missing in {folder} (found t1, t1ce, t2) — the model needs T1, "
        "T1c, T2 and FLAIR; name each file after its sequence or pass them explicitly"
    )


def test_two_files_for_one_sequence_are_refused(tmp_path: Path) -> None:
    folder = write_study(phantom_study(), tmp_path / "study")
    (folder / "T2_repeat.nii.gz").write_bytes((folder / "t2.nii.gz").read_bytes())
    with pytest.raises(
        RawStudyError, match=r"^sequence identification \(t2\): several files .*T2_repeat.nii.gz"
    ):
        read_study(folder)


def brats_like_study() -> RawStudy:
    shape = (150, 180, 140)
    affine = np.eye(4)
    affine[:3, 3] = (-75, -90, -70)
    mask = world_points_mask(shape, affine)
    images = {
        name: Volume(np.where(mask, 100.0 + i, 0.0).astype(np.float32), affine)
        for i, name in enumerate(SEQUENCES)
    }
    return RawStudy(images, "t1ce", "stripped")


def test_detection_tells_brats_like_from_raw() -> None:
    verdict = detect(brats_like_study())
    assert verdict.brats_like
    assert verdict.reasons == ("one shared grid", "no thick slices", "skull-stripped (1238 cm³)")
    raw = detect(phantom_study())
    assert not raw.brats_like
    assert raw.reasons[0] == "flair, t2 on other grids than t1ce"
    assert raw.reasons[1] == "voxels 1.5 x 1.5 x 5 mm: thick slices"
    assert raw.reasons[2].startswith("skull on (")


def test_brats_like_skips_steps_and_force_flags_override_detection(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = fake_steps(monkeypatch)
    prepared = prepare_study(brats_like_study())
    assert prepared.skipped and calls == {"register": 0, "extract": 0}
    assert prepared.model_case.shape == (150, 180, 140)
    forced = prepare_study(brats_like_study(), RawOptions(force="raw"))
    assert not forced.skipped and calls == {"register": 3, "extract": 1}
    skipped = prepare_study(phantom_study(), RawOptions(force="brats"))
    assert skipped.skipped and calls == {"register": 3, "extract": 1}


def fake_steps(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Replace registration (identity) and deepbet (the phantom's brain ellipsoid) by fast fakes that count."""
    calls = {"register": 0, "extract": 0}

    def register(reference: Volume, moving: Volume, sequence: str, **kwargs: object) -> RigidTransform:
        calls["register"] += 1
        return RigidTransform.identity()

    def extract(volume: Volume, sequence: str) -> np.ndarray:
        calls["extract"] += 1
        return world_points_mask(volume.shape, volume.affine)

    monkeypatch.setattr(pipeline, "register", register)
    monkeypatch.setattr(pipeline, "extract_brain", extract)
    return calls


def test_the_model_grid_is_1mm_canonical_around_the_brain_and_z_scored(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake_steps(monkeypatch)
    prepared = prepare_study(phantom_study())
    case = prepared.model_case
    np.testing.assert_allclose(case.affine[:3, :3], np.eye(3))
    assert case.grid.orientation == "RAS"
    # brain ellipsoid 132 x 160 x 112 mm (voxel centres off the integer mm) + 8 mm margin on each side
    assert case.shape == (148, 176, 128)
    for name in SEQUENCES:
        values = case.channels[name].array[prepared.brain_mask]
        assert abs(values.mean()) < 1e-4 and abs(values.std() - 1) < 1e-3
        assert not case.channels[name].array[~prepared.brain_mask].any()
    assert prepared.brain_mask_native is not None
    assert prepared.brain_mask_native.shape == phantom_study().reference_volume.shape


def radius_mm(shape: tuple[int, int, int], affine: np.ndarray) -> np.ndarray:
    """Each voxel centre's distance (mm) from the world origin."""
    index = np.indices(shape, dtype=np.float64).reshape(3, -1)
    return np.linalg.norm(affine[:3, :3] @ index + affine[:3, 3:4], axis=0).reshape(shape)


def test_the_brain_mask_keeps_to_a_reference_that_is_already_skull_stripped() -> None:
    shape, affine = (40, 40, 12), oblique_affine((2.0, 2.0, 5.0), (9, -6, 4), (40, 40, 12))
    grid = (64, 64, 64)
    grid_affine = np.diag([1.0, 1.0, 1.0, 1.0])
    grid_affine[:3, 3] = -31.5
    mask = radius_mm(grid, grid_affine) <= 26
    head = Volume(np.full(shape, 50.0, dtype=np.float32), affine)  # a raw scan: signal everywhere
    assert within_signal(mask, grid_affine, head) is mask
    # stripped to a 20 mm ball, with a 4 mm ball of exact zeros inside (a hole, not background)
    r = radius_mm(shape, affine)
    stripped = Volume(np.where((r <= 20) & (r > 4), 50.0, 0.0).astype(np.float32), affine)
    kept = within_signal(mask, grid_affine, stripped)
    radius = radius_mm(grid, grid_affine)
    assert kept[radius <= 16].all()  # the hole is filled
    assert not kept[radius >= 24].any()
    assert 4 / 3 * np.pi * 17**3 < np.count_nonzero(kept) < 4 / 3 * np.pi * 23**3


def test_every_channel_shares_the_stripped_reference_s_background(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_steps(monkeypatch)  # deepbet's stand-in returns the whole brain ellipsoid
    study = phantom_study()
    t1ce = study.images["t1ce"]
    inner = world_points_mask(t1ce.shape, np.diag([1.15, 1.15, 1.15, 1.0]) @ t1ce.affine)
    study.images["t1ce"] = Volume(np.where(inner, t1ce.array, 0.0).astype(np.float32), t1ce.affine)
    prepared = prepare_study(study)
    assert prepared.brain_mask_native is not None
    assert not prepared.brain_mask_native[~inner].any()
    assert 0.9 < np.count_nonzero(prepared.brain_mask_native) / np.count_nonzero(inner) <= 1.0
    for name in SEQUENCES:
        assert not prepared.model_case.channels[name].array[~prepared.brain_mask].any()


def test_a_second_run_takes_steps_2_to_4_from_the_cache(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    calls = fake_steps(monkeypatch)
    cache = StudyCache(tmp_path / "cache")
    first = prepare_study(phantom_study(), cache=cache)
    assert calls == {"register": 3, "extract": 1} and not first.cached
    second = prepare_study(phantom_study(), cache=cache)
    assert calls == {"register": 3, "extract": 1} and second.cached
    for name in SEQUENCES:
        np.testing.assert_array_equal(
            second.model_case.channels[name].array, first.model_case.channels[name].array
        )
    np.testing.assert_array_equal(second.brain_mask_native, first.brain_mask_native)
    other = phantom_study()
    other.images["t2"].array[0, 0, 0] += 1  # one voxel changed: another study
    prepare_study(other, cache=cache)
    assert calls == {"register": 6, "extract": 2}


def test_a_damaged_cache_entry_is_recomputed(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    calls = fake_steps(monkeypatch)
    cache = StudyCache(tmp_path / "cache")
    prepare_study(phantom_study(), cache=cache)
    (entry,) = [p for p in (tmp_path / "cache").iterdir() if not p.name.startswith(".")]
    (entry / "arrays.npz").write_bytes(b"PK\x03\x04 truncated")
    again = prepare_study(phantom_study(), cache=cache)
    assert not again.cached and calls["extract"] == 2


def test_progress_names_every_step_and_cancel_stops_the_pipeline(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_steps(monkeypatch)
    seen: list[Progress] = []
    prepare_study(phantom_study(), progress=seen.append)
    dones = [p.done for p in seen]
    assert dones == sorted(dones) and all(p.total == 1000 for p in seen)
    messages = " | ".join(p.message for p in seen)
    for expected in (
        "co-registration: t1 onto t1ce",
        "co-registration: flair onto t1ce",
        "brain extraction (deepbet) on t1ce",
        "resampling flair",
    ):
        assert expected in messages
    token = CancelToken()

    def cancel_at_brain_extraction(progress: Progress) -> None:
        if "brain extraction" in progress.message:
            token.cancel()

    with pytest.raises(CancelledError):
        prepare_study(phantom_study(), progress=cancel_at_brain_extraction, cancel=token)


def test_registration_recovers_a_known_motion_of_a_thick_slice_sequence() -> None:
    from segmentation_core.raw.registration import register

    centre = np.zeros(3)
    truth = rigid_matrix((6.0, -4.0, 8.0), (7.0, -5.0, 6.0), centre)
    study = phantom_study({"flair": truth})
    result = register(study.images["t1ce"], study.images["flair"], "flair")
    error = np.linalg.inv(truth) @ result.matrix
    assert RigidTransform(error).rotation_degrees < 1.5
    probe = np.array([[0, 0, 0, 1], [60, 0, 0, 1], [0, 70, 0, 1], [0, 0, 50, 1]], dtype=float).T
    assert np.linalg.norm((error @ probe - probe)[:3], axis=0).max() < 1.5


def test_registration_gives_the_same_transform_every_time() -> None:
    """With several threads ITK summed the metric in a varying order: each run moved by ~1e-9 here."""
    import SimpleITK as sitk

    from segmentation_core.raw.registration import register

    study = phantom_study({"flair": rigid_matrix((6.0, -4.0, 8.0), (7.0, -5.0, 6.0), np.zeros(3))})
    default = sitk.ProcessObject.GetGlobalDefaultNumberOfThreads()
    sitk.ProcessObject.SetGlobalDefaultNumberOfThreads(2)
    try:
        matrices = [register(study.images["t1ce"], study.images["flair"], "flair").matrix for _ in range(3)]
        assert sitk.ProcessObject.GetGlobalDefaultNumberOfThreads() == 2  # restored for everything else
    finally:
        sitk.ProcessObject.SetGlobalDefaultNumberOfThreads(default)
    assert all(np.array_equal(m, matrices[0]) for m in matrices)


def test_a_dicom_study_is_read_series_by_series_on_native_grids(tmp_path: Path) -> None:
    from tests.core.io_fixtures import write_dicom_case

    files = write_dicom_case(tmp_path / "dicom", slices=5)
    study = read_study(tmp_path / "dicom")
    assert study.source_format == "dicom" and study.reference == "t1ce"
    for name in SEQUENCES:
        assert study.images[name].shape == (64, 64, 5)
        assert study.images[name].spacing[2] == pytest.approx(2.0)
        assert sorted(study.files[name]) == sorted(files[name])
    # series k holds MR_small + 10 k: the slices are in position order whatever the file names
    t1 = study.images["t1"].array
    np.testing.assert_array_equal(t1[:, :, 3] - t1[:, :, 0], np.full((64, 64), 30.0))


def test_a_blank_sequence_is_named_in_one_line_before_co_registration() -> None:
    study = phantom_study()
    study.images["t2"] = Volume(np.zeros_like(study.images["t2"].array), study.images["t2"].affine)
    with pytest.raises(RawStudyError) as error:
        prepare_study(study)
    assert str(error.value) == (
        "co-registration (t2): the t2 image is blank (every voxel is 0) — check that the file holds this "
        "sequence's image"
    )


def test_simpleitk_failing_on_a_structureless_image_is_one_line_naming_the_sequence() -> None:
    from segmentation_core.raw.registration import register

    study = phantom_study()
    flat = np.full(study.images["flair"].array.shape, 7.0, dtype=np.float32)
    with pytest.raises(RawStudyError) as error:
        register(study.images["t1ce"], Volume(flat, study.images["flair"].affine), "flair")
    message = str(error.value)
    assert message.startswith("co-registration (flair): SimpleITK failed (") and "\n" not in message
