"""load_case: BraTS 2018/2023 folders, explicit files (NIfTI/NRRD/MHA), MSD 4-D; canonical orientation."""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
import SimpleITK as sitk

from segmentation_core.io import CaseLoadError, find_cases, load_case, read_label_file
from segmentation_core.io.sitk_formats import to_sitk
from segmentation_core.types import SEQUENCES, CancelledError, CancelToken, Progress
from tests.core.io_fixtures import (
    ANISOTROPIC_AFFINE,
    LPS_AFFINE,
    RAS_AFFINE,
    case_file_name,
    oblique_affine,
    synthetic_images,
    synthetic_labels,
    write_brats_case,
    write_dicom_case,
    write_msd_case,
)

SHAPE = (12, 10, 8)


def _expected_canonical(array: np.ndarray, affine: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    canon = nib.as_closest_canonical(nib.Nifti1Image(array, affine))
    return np.asanyarray(canon.dataobj), canon.affine


@pytest.mark.parametrize(
    "affine",
    [LPS_AFFINE, RAS_AFFINE, ANISOTROPIC_AFFINE, oblique_affine()],
    ids=["lps", "ras", "aniso", "oblique"],
)
def test_brats2018_folder_is_canonical_like_nibabel(tmp_path: Path, affine: np.ndarray) -> None:
    folder = write_brats_case(tmp_path / "Case_001", SHAPE, affine)
    case = load_case(folder)
    images = synthetic_images(SHAPE)
    assert case.case_id == "Case_001"
    assert case.source_shape == SHAPE
    np.testing.assert_allclose(case.source_affine, affine, atol=1e-6)
    assert case.source_format == "nifti"
    assert case.warnings == []
    for role in SEQUENCES:
        expected, expected_affine = _expected_canonical(images[role], affine)
        vol = case.channels[role]
        assert vol.array.dtype == np.float32 and vol.array.flags.f_contiguous
        np.testing.assert_array_equal(vol.array, expected.astype(np.float32))
        np.testing.assert_allclose(vol.affine, expected_affine, atol=1e-6)
    assert case.grid.orientation == "RAS"
    expected_labels, _ = _expected_canonical(synthetic_labels(SHAPE), affine)
    assert case.labels is not None and case.labels.scheme == "brats"
    np.testing.assert_array_equal(case.labels.array, expected_labels)
    assert case.labels.array.dtype == np.uint8


def test_brats2023_naming_and_scheme(tmp_path: Path) -> None:
    folder = write_brats_case(
        tmp_path / "BraTS-GLI-00001-000", SHAPE, naming="brats2023", case_id="BraTS-GLI-00001-000"
    )
    case = load_case(folder)
    assert case.case_id == "BraTS-GLI-00001-000"
    assert case.labels is not None and case.labels.scheme == "brats2023"
    assert case.warnings == []
    expected, _ = _expected_canonical(synthetic_labels(SHAPE), LPS_AFFINE)
    np.testing.assert_array_equal(case.labels.array, expected)
    expected_t2, _ = _expected_canonical(synthetic_images(SHAPE)["t2"], LPS_AFFINE)
    np.testing.assert_array_equal(case.channels["t2"].array, expected_t2)


def test_uncompressed_nii_and_no_seg(tmp_path: Path) -> None:
    folder = write_brats_case(tmp_path / "c", SHAPE, suffix=".nii", with_seg=False)
    case = load_case(folder)
    assert case.labels is None
    assert sorted(case.channels) == sorted(SEQUENCES)
    assert case.source_files["t1"] == (folder / "Case_001_t1.nii",)


def test_explicit_mapping_with_nrrd_and_mha(tmp_path: Path) -> None:
    affine = ANISOTROPIC_AFFINE
    images = synthetic_images(SHAPE)
    files = {}
    for role, ext in zip(SEQUENCES, (".nrrd", ".mha", ".nrrd", ".mhd")):
        files[role] = tmp_path / f"P7_{role}{ext}"
        sitk.WriteImage(to_sitk(images[role], affine), str(files[role]))
    case = load_case(files)
    assert case.case_id == "P7"
    assert case.source_format == "sitk"
    assert case.warnings == []
    np.testing.assert_allclose(case.source_affine, affine, atol=1e-6)
    for role in SEQUENCES:
        expected, expected_affine = _expected_canonical(images[role], affine)
        np.testing.assert_array_equal(case.channels[role].array, expected)
        np.testing.assert_allclose(case.channels[role].affine, expected_affine, atol=1e-6)


def test_mixed_orientation_files_on_one_physical_grid_need_no_resampling(tmp_path: Path) -> None:
    images = synthetic_images(SHAPE)
    files = {}
    for role in SEQUENCES:
        array, affine = images[role], LPS_AFFINE
        if role == "flair":  # same voxels stored RAS: flip the first two axes and move the origin
            array, affine = (
                array[::-1, ::-1],
                LPS_AFFINE
                @ np.array([[-1, 0, 0, SHAPE[0] - 1], [0, -1, 0, SHAPE[1] - 1], [0, 0, 1, 0], [0, 0, 0, 1]]),
            )
        files[role] = tmp_path / f"x_{role}.nii.gz"
        nib.save(nib.Nifti1Image(np.ascontiguousarray(array), affine), files[role])
    case = load_case(files)
    assert case.warnings == []
    expected, _ = _expected_canonical(images["flair"], LPS_AFFINE)
    np.testing.assert_array_equal(case.channels["flair"].array, expected)


def test_different_grid_is_resampled_with_a_warning(tmp_path: Path) -> None:
    folder = write_brats_case(tmp_path / "c", SHAPE, RAS_AFFINE, with_seg=False)
    flair = folder / case_file_name("Case_001", "flair")
    coarse = RAS_AFFINE.copy()
    coarse[:3, :3] *= 2.0  # 2 mm voxels over the same origin
    nib.save(nib.Nifti1Image(np.full((6, 5, 4), 7, dtype=np.int16), coarse), flair)
    case = load_case(folder)
    assert len(case.warnings) == 1 and "flair" in case.warnings[0] and "resampled" in case.warnings[0]
    vol = case.channels["flair"]
    assert vol.shape == SHAPE and vol.array.dtype == np.float32
    np.testing.assert_allclose(vol.affine, case.affine)
    # the inside of the coarse volume interpolates a constant image to exactly 7
    assert vol.array[0, 0, 0] == pytest.approx(7.0) and vol.array[8, 6, 4] == pytest.approx(7.0)


def test_msd_4d_file_is_split_in_msd_order_with_msd_labels(tmp_path: Path) -> None:
    path = write_msd_case(tmp_path / "Task01_BrainTumour", SHAPE)
    case = load_case(path)
    images = synthetic_images(SHAPE)
    assert case.case_id == "BRATS_001"
    assert case.source_format == "msd"
    for role in SEQUENCES:
        np.testing.assert_array_equal(case.channels[role].array, images[role].astype(np.float32))
    assert case.labels is not None and case.labels.scheme == "msd"
    np.testing.assert_array_equal(case.labels.array, synthetic_labels(SHAPE))


def test_read_label_file_detects_and_converts(tmp_path: Path) -> None:
    folder = write_brats_case(tmp_path / "c", SHAPE, LPS_AFFINE)
    label_map = read_label_file(folder / "Case_001_seg.nii.gz")
    assert label_map.scheme == "brats"
    expected, expected_affine = _expected_canonical(synthetic_labels(SHAPE), LPS_AFFINE)
    np.testing.assert_array_equal(label_map.array, expected)
    np.testing.assert_allclose(label_map.volume.affine, expected_affine)
    msd = read_label_file(folder / "Case_001_seg.nii.gz", scheme="brats")
    assert msd.scheme == "brats"


def test_label_values_1_2_3_default_to_brats2023_with_a_warning(tmp_path: Path) -> None:
    folder = write_brats_case(tmp_path / "c", SHAPE, scheme="brats2023")
    case = load_case(folder)
    assert case.labels is not None and case.labels.scheme == "brats2023"
    assert len(case.warnings) == 1 and "scheme='msd'" in case.warnings[0]
    as_msd = load_case(folder, scheme="msd")
    assert as_msd.labels is not None and as_msd.labels.scheme == "msd"
    assert as_msd.warnings == []
    # MSD reads 1 as ED and 2 as NCR: the two labels swap
    expected = synthetic_labels(SHAPE)
    swapped = np.choose(expected, [0, 2, 1, 3]).astype(np.uint8)
    canon, _ = _expected_canonical(swapped, LPS_AFFINE)
    np.testing.assert_array_equal(as_msd.labels.array, canon)


def test_find_cases_lists_case_folders_and_msd_files(tmp_path: Path) -> None:
    write_brats_case(tmp_path / "data" / "B", SHAPE, case_id="B")
    write_brats_case(tmp_path / "data" / "A", SHAPE, case_id="A", naming="brats2023")
    (tmp_path / "data" / "notes").mkdir()
    (tmp_path / "data" / "notes" / "readme.txt").write_text("x")
    msd = write_msd_case(tmp_path / "data" / "Task01", SHAPE)
    assert find_cases(tmp_path / "data") == [tmp_path / "data" / "A", tmp_path / "data" / "B", msd]
    assert find_cases(tmp_path / "data" / "A") == [tmp_path / "data" / "A"]


def test_seg_on_another_grid_is_resampled_nearest_with_a_warning(tmp_path: Path) -> None:
    folder = write_brats_case(tmp_path / "c", SHAPE, RAS_AFFINE)
    fine = RAS_AFFINE.copy()
    fine[:3, :3] *= 0.5  # half-size voxels over the first half of the grid
    seg = np.zeros((24, 20, 16), np.uint8)
    seg[:8] = 4
    seg[8:] = 2
    nib.save(nib.Nifti1Image(seg, fine), folder / "Case_001_seg.nii.gz")
    case = load_case(folder)
    assert len(case.warnings) == 1
    assert case.warnings[0].startswith(
        "seg (Case_001_seg.nii.gz) was resampled onto the t1 grid (nearest neighbour)"
    )
    assert case.labels is not None and case.labels.array.dtype == np.uint8
    got = case.labels.array
    assert got[:4].max() == 3 and got[:4].min() == 3  # voxel x <= 3 falls on fine x <= 6: ET
    assert np.all(got[4:12] == 2)  # 4..11 -> fine 8..22: ED
    assert np.all(got[12:] == 0)  # outside the label volume


def test_nrrd_seg_in_a_mapping(tmp_path: Path) -> None:
    folder = write_brats_case(tmp_path / "c", SHAPE, ANISOTROPIC_AFFINE, with_seg=False)
    seg_path = tmp_path / "labels.nrrd"
    sitk.WriteImage(to_sitk(synthetic_labels(SHAPE) * 1, ANISOTROPIC_AFFINE), str(seg_path))
    files = {role: folder / case_file_name("Case_001", role) for role in SEQUENCES}
    case = load_case({**files, "seg": seg_path}, scheme="internal")
    assert case.labels is not None and case.labels.scheme == "internal" and case.warnings == []
    expected, _ = _expected_canonical(synthetic_labels(SHAPE), ANISOTROPIC_AFFINE)
    np.testing.assert_array_equal(case.labels.array, expected)


def test_progress_is_reported_per_file_and_cancel_stops_between_files(tmp_path: Path) -> None:
    folder = write_brats_case(tmp_path / "c", SHAPE)
    seen: list[Progress] = []
    load_case(folder, progress=seen.append)
    assert [(p.done, p.total) for p in seen] == [(0, 5), (1, 5), (2, 5), (3, 5), (4, 5), (5, 5)]
    assert seen[0].message == "reading flair: Case_001_flair.nii.gz"
    assert seen[-1].message == "loaded Case_001"
    token = CancelToken()

    def cancel_after_two(progress: Progress) -> None:
        if progress.done == 2:
            token.cancel()

    with pytest.raises(CancelledError):
        load_case(folder, progress=cancel_after_two, cancel=token)


def test_header_without_orientation_is_a_visible_warning(tmp_path: Path) -> None:
    folder = write_brats_case(tmp_path / "c", SHAPE, RAS_AFFINE, with_seg=False, sform_code=0, qform_code=0)
    case = load_case(folder)
    assert len(case.warnings) == 4
    assert case.warnings[0] == (
        "Case_001_flair.nii.gz has no orientation in its header (sform and qform codes are 0); "
        "its axes were assumed to be LAS (NIfTI's fallback) — check left/right"
    )


def test_resampling_follows_world_coordinates_on_oblique_grids(tmp_path: Path) -> None:
    """A linear function of world position survives linear resampling exactly (inside the overlap)."""

    def world_ramp(shape: tuple[int, int, int], affine: np.ndarray) -> np.ndarray:
        ijk = np.indices(shape).reshape(3, -1)
        xyz = affine[:3, :3] @ ijk + affine[:3, 3:4]
        return (2.0 * xyz[0] - 3.0 * xyz[1] + 0.5 * xyz[2] + 100.0).reshape(shape).astype(np.float32)

    ref_affine = oblique_affine(15.0, (1.0, 1.0, 1.0))
    moving_affine = oblique_affine(-25.0, (0.8, 1.3, 1.1))
    moving_affine[:3, 3] = ref_affine[:3, 3] - 4.0
    files = {}
    for role in SEQUENCES:
        shape, affine = ((16, 16, 16), moving_affine) if role == "t2" else ((12, 12, 12), ref_affine)
        files[role] = tmp_path / f"r_{role}.nii.gz"
        nib.save(nib.Nifti1Image(world_ramp(shape, affine), affine), files[role])
    case = load_case(files)
    resampled = [w for w in case.warnings if "MISALIGNED" not in w]  # ramps of other extents: not heads
    assert len(resampled) == 1 and resampled[0].startswith("t2 (r_t2.nii.gz) was resampled")
    expected = world_ramp(case.shape, case.affine)
    got = case.channels["t2"].array
    ijk = np.indices(case.shape).reshape(3, -1)
    world = case.affine[:3, :3] @ ijk + case.affine[:3, 3:4]
    moving_ijk = np.linalg.inv(moving_affine)[:3] @ np.vstack([world, np.ones(world.shape[1])])
    inside = np.all((moving_ijk > 1e-6) & (moving_ijk < 15 - 1e-6), axis=0).reshape(case.shape)
    assert inside.sum() > 200
    assert np.all(
        got[~inside & ~np.all((moving_ijk > -0.5) & (moving_ijk < 15.5), axis=0).reshape(case.shape)] == 0
    )
    np.testing.assert_allclose(got[inside], expected[inside], atol=1e-3)


def test_find_cases_finds_dicom_folders_and_rejects_empty_trees(tmp_path: Path) -> None:
    write_dicom_case(tmp_path / "data" / "patient1", slices=2)
    write_brats_case(tmp_path / "data" / "patient2", SHAPE, with_seg=False)
    assert find_cases(tmp_path / "data") == [tmp_path / "data" / "patient1", tmp_path / "data" / "patient2"]
    (tmp_path / "empty" / "sub").mkdir(parents=True)
    with pytest.raises(CaseLoadError, match="no cases found"):
        find_cases(tmp_path / "empty")
    with pytest.raises(CaseLoadError, match="is not a folder"):
        find_cases(tmp_path / "nowhere")
