"""Every kind of bad input fails with a CaseLoadError naming the file, the problem and the remedy."""

from __future__ import annotations

import shutil
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from nibabel.testing import data_path as NIBABEL_DATA

from segmentation_core.io import CaseLoadError, load_case, read_label_file
from segmentation_core.types import SEQUENCES
from tests.core.io_fixtures import RAS_AFFINE, case_file_name, synthetic_images, write_brats_case

SHAPE = (12, 10, 8)
EXAMPLE4D = Path(NIBABEL_DATA) / "example4d.nii.gz"  # 128 x 96 x 24 x 2, a real 4-D scan
NIFTI2 = Path(NIBABEL_DATA) / "example_nifti2.nii.gz"  # NIfTI-2, 32 x 20 x 12 x 2
ANATOMICAL = Path(NIBABEL_DATA) / "anatomical.nii"  # real 3-D T1 slab, 33 x 41 x 25, big-endian


def _files(folder: Path) -> dict[str, Path]:
    return {role: folder / case_file_name("Case_001", role) for role in SEQUENCES}


def test_missing_sequence_is_named(tmp_path: Path) -> None:
    folder = write_brats_case(tmp_path / "c", SHAPE)
    (folder / "Case_001_flair.nii.gz").unlink()
    with pytest.raises(
        CaseLoadError, match=r"missing sequence\(s\) flair \(found: seg, t1, t1ce, t2\)"
    ) as err:
        load_case(folder)
    assert str(folder) in str(err.value)
    assert "<id>_flair.nii.gz" in str(err.value)


def test_missing_sequence_in_mapping(tmp_path: Path) -> None:
    folder = write_brats_case(tmp_path / "c", SHAPE)
    files = _files(folder)
    del files["t2"]
    with pytest.raises(CaseLoadError, match=r"missing sequence\(s\) \['t2'\]"):
        load_case(files)
    with pytest.raises(CaseLoadError, match=r"unknown role\(s\) \['dwi'\]"):
        load_case({**_files(folder), "dwi": folder / "Case_001_t1.nii.gz"})


def test_duplicate_sequence_lists_both_files(tmp_path: Path) -> None:
    folder = write_brats_case(tmp_path / "c", SHAPE)
    shutil.copy(folder / "Case_001_t1.nii.gz", folder / "Case_002_t1.nii")
    with pytest.raises(CaseLoadError, match=r"more than one file .*t1: Case_001_t1.nii.gz, Case_002_t1.nii"):
        load_case(folder)


def test_empty_folder_and_missing_path(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(CaseLoadError, match="folder is empty"):
        load_case(tmp_path / "empty")
    with pytest.raises(CaseLoadError, match="does not exist"):
        load_case(tmp_path / "nowhere")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("x")
    with pytest.raises(CaseLoadError, match="no BraTS-named image files"):
        load_case(tmp_path / "other")


@pytest.mark.parametrize("path", [EXAMPLE4D, NIFTI2], ids=["example4d", "nifti2"])
def test_4d_file_with_wrong_number_of_volumes(path: Path) -> None:
    shape = nib.load(path).shape
    with pytest.raises(CaseLoadError, match=r"must be an MSD 4-D image with 4 volumes") as err:
        load_case(path)
    assert str(path) in str(err.value) and str(shape) in str(err.value)


def test_4d_file_given_as_one_sequence(tmp_path: Path) -> None:
    folder = write_brats_case(tmp_path / "c", SHAPE)
    with pytest.raises(CaseLoadError, match=r"4 dimension\(s\) with shape \(128, 96, 24, 2\)") as err:
        load_case({**_files(folder), "t2": EXAMPLE4D})
    assert str(EXAMPLE4D) in str(err.value)


def test_real_anatomical_file_loads_as_every_sequence() -> None:
    case = load_case({role: ANATOMICAL for role in SEQUENCES})
    img = nib.as_closest_canonical(nib.load(ANATOMICAL))
    assert case.shape == img.shape
    np.testing.assert_array_equal(case.channels["t2"].array, np.asanyarray(img.dataobj).astype(np.float32))
    assert case.warnings == []


def test_truncated_nii_gz(tmp_path: Path) -> None:
    folder = write_brats_case(tmp_path / "c", (40, 40, 40), with_seg=False)
    t2 = folder / "Case_001_t2.nii.gz"
    data = t2.read_bytes()
    t2.write_bytes(data[: len(data) // 2])
    with pytest.raises(CaseLoadError, match="truncated or corrupt") as err:
        load_case(folder)
    assert str(t2) in str(err.value) and "re-download or re-export" in str(err.value)


def test_truncated_uncompressed_nii(tmp_path: Path) -> None:
    folder = write_brats_case(tmp_path / "c", SHAPE, with_seg=False, suffix=".nii")
    t1 = folder / "Case_001_t1.nii"
    t1.write_bytes(t1.read_bytes()[:600])
    with pytest.raises(CaseLoadError, match="truncated or corrupt") as err:
        load_case(folder)
    assert str(t1) in str(err.value)


@pytest.mark.parametrize("name", ["Case_001_t1.nii", "Case_001_t1.nii.gz"])
def test_non_image_file_with_nifti_name(tmp_path: Path, name: str) -> None:
    folder = write_brats_case(tmp_path / "c", SHAPE, with_seg=False)
    (folder / "Case_001_t1.nii.gz").unlink()
    (folder / name).write_text("patient notes, not an image\n" * 30)
    with pytest.raises(CaseLoadError, match="not a readable NIfTI image") as err:
        load_case(folder)
    assert str(folder / name) in str(err.value)


def test_non_overlapping_grids_are_refused(tmp_path: Path) -> None:
    folder = write_brats_case(tmp_path / "c", SHAPE, RAS_AFFINE, with_seg=False)
    far = RAS_AFFINE.copy()
    far[:3, 3] += 500.0
    flair = folder / "Case_001_flair.nii.gz"
    nib.save(nib.Nifti1Image(synthetic_images(SHAPE)["flair"], far), flair)
    with pytest.raises(CaseLoadError, match="does not overlap the t1 volume") as err:
        load_case(folder)
    assert str(flair) in str(err.value) and "same patient" in str(err.value)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf], ids=["nan", "inf", "-inf"])
def test_nan_or_inf_voxels(tmp_path: Path, bad: float) -> None:
    folder = write_brats_case(tmp_path / "c", SHAPE, with_seg=False)
    t1ce = folder / "Case_001_t1ce.nii.gz"
    array = synthetic_images(SHAPE)["t1ce"].astype(np.float32)
    array[3, 4, 5] = bad
    array[0, 0, 0] = bad
    nib.save(nib.Nifti1Image(array, nib.load(t1ce).affine), t1ce)
    with pytest.raises(CaseLoadError, match=r"2 voxel\(s\) are NaN or infinite") as err:
        load_case(folder)
    assert str(t1ce) in str(err.value)


@pytest.mark.parametrize("shape", [(12, 10), (12, 10, 1)], ids=["2d", "single-slice-3d"])
def test_2d_slice(tmp_path: Path, shape: tuple[int, ...]) -> None:
    folder = write_brats_case(tmp_path / "c", SHAPE, with_seg=False)
    t1 = folder / "Case_001_t1.nii.gz"
    nib.save(nib.Nifti1Image(np.ones(shape, np.int16), np.eye(4)), t1)
    with pytest.raises(CaseLoadError, match="a 3-D volume is needed") as err:
        load_case(folder)
    assert str(t1) in str(err.value)


def test_label_values_outside_every_scheme_are_listed(tmp_path: Path) -> None:
    folder = write_brats_case(tmp_path / "c", SHAPE)
    seg = folder / "Case_001_seg.nii.gz"
    labels = np.asanyarray(nib.load(seg).dataobj).copy()
    labels[0, 0, 0] = 7
    labels[1, 0, 0] = 5
    nib.save(nib.Nifti1Image(labels, nib.load(seg).affine), seg)
    with pytest.raises(CaseLoadError, match=r"label values \[5, 7\] are not part of any known scheme") as err:
        load_case(folder)
    assert str(seg) in str(err.value)
    with pytest.raises(CaseLoadError, match=r"\[5, 7\]"):
        read_label_file(seg)


def test_label_values_outside_the_chosen_scheme(tmp_path: Path) -> None:
    folder = write_brats_case(tmp_path / "c", SHAPE)  # brats values 0/1/2/4
    seg = folder / "Case_001_seg.nii.gz"
    with pytest.raises(CaseLoadError, match=r"label values \[4\] are not part of the 'brats2023' scheme"):
        read_label_file(seg, scheme="brats2023")
    with pytest.raises(CaseLoadError, match=r"\[4\].*'msd'"):
        load_case(folder, scheme="msd")


def test_mixed_3_and_4_and_fractional_labels(tmp_path: Path) -> None:
    path = tmp_path / "seg.nii.gz"
    nib.save(nib.Nifti1Image(np.array([0, 3, 4, 1] * 8, np.uint8).reshape(2, 4, 4), np.eye(4)), path)
    with pytest.raises(CaseLoadError, match=r"mix schemes"):
        read_label_file(path)
    frac = np.zeros((4, 4, 4), np.float32)
    frac[1, 1, 1] = 0.5
    nib.save(nib.Nifti1Image(frac, np.eye(4)), path)
    with pytest.raises(CaseLoadError, match="non-integer"):
        read_label_file(path)


def test_single_non_msd_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "scan.txt"
    path.write_text("x")
    with pytest.raises(CaseLoadError, match="single file can only be an MSD 4-D NIfTI"):
        load_case(path)
    with pytest.raises(CaseLoadError, match="unsupported file type '.txt'"):
        read_label_file(path)


def test_folder_of_cases_is_not_one_case(tmp_path: Path) -> None:
    write_brats_case(tmp_path / "data" / "B", SHAPE, case_id="B", with_seg=False)
    write_brats_case(tmp_path / "data" / "A", SHAPE, case_id="A", with_seg=False)
    with pytest.raises(CaseLoadError, match=r"holds 2 case folder\(s\) \(A, B\), not one case"):
        load_case(tmp_path / "data")
