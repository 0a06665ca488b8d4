"""write_label_map: exact source geometry, scheme conversion, atomic write, sidecar; orientation inverse."""

from __future__ import annotations

import json
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
import SimpleITK as sitk
from nibabel.testing import data_path as NIBABEL_DATA

from segmentation_core.io import (
    ExportError,
    from_source_orientation,
    load_case,
    read_label_file,
    sidecar_path,
    to_source_orientation,
    write_label_map,
)
from segmentation_core.io.export import sha256
from segmentation_core.io.sitk_formats import from_sitk
from segmentation_core.labels import convert
from tests.core.io_fixtures import (
    ANISOTROPIC_AFFINE,
    LPS_AFFINE,
    RAS_AFFINE,
    make_case,
    oblique_affine,
    synthetic_labels,
    write_brats_case,
    write_dicom_case,
    write_msd_case,
)

SHAPE = (12, 10, 8)
AFFINES = [LPS_AFFINE, RAS_AFFINE, ANISOTROPIC_AFFINE, oblique_affine()]
IDS = ["lps", "ras", "aniso", "oblique"]


@pytest.mark.parametrize("affine", AFFINES, ids=IDS)
def test_orientation_inverse_restores_source_layout(tmp_path: Path, affine: np.ndarray) -> None:
    case = load_case(write_brats_case(tmp_path / "c", SHAPE, affine, with_seg=False))
    source = np.arange(np.prod(SHAPE)).reshape(SHAPE)
    canonical = from_source_orientation(source, case)
    assert canonical.shape == case.shape
    np.testing.assert_array_equal(to_source_orientation(canonical, case), source)


@pytest.mark.parametrize("affine", AFFINES, ids=IDS)
def test_round_trip_reproduces_the_source_segmentation_file(tmp_path: Path, affine: np.ndarray) -> None:
    folder = write_brats_case(tmp_path / "c", SHAPE, affine, sform_code=2, qform_code=1)
    case = load_case(folder)
    assert case.labels is not None
    out = write_label_map(
        case.labels.array,
        case,
        tmp_path / "pred.nii.gz",
        scheme="brats",
        model_version="v3",
        extra={"edits": 5},
    )
    written = nib.load(out)
    source = nib.load(folder / "Case_001_seg.nii.gz")
    assert written.shape == SHAPE
    assert written.get_data_dtype() == np.uint8
    np.testing.assert_array_equal(written.affine, source.affine)
    assert int(written.header["sform_code"]) == 2 and int(written.header["qform_code"]) == 1
    np.testing.assert_array_equal(np.asanyarray(written.dataobj), np.asanyarray(source.dataobj))
    np.testing.assert_array_equal(
        np.asanyarray(written.dataobj), convert(synthetic_labels(SHAPE), "internal", "brats")
    )
    sidecar = json.loads(sidecar_path(out).read_text())
    assert sidecar_path(out) == tmp_path / "pred.json"
    assert sidecar["label_scheme"] == "brats"
    assert sidecar["model_version"] == "v3"
    assert sidecar["edits"] == 5
    assert sidecar["case_id"] == "Case_001"
    t1 = folder / "Case_001_t1.nii.gz"
    assert {"role": "t1", "path": str(t1), "sha256": sha256(t1)} in sidecar["source_files"]
    assert len(sidecar["source_files"]) == 5


def test_export_in_other_scheme_and_reimport(tmp_path: Path) -> None:
    case = load_case(write_brats_case(tmp_path / "c", SHAPE, oblique_affine()))
    assert case.labels is not None
    out = write_label_map(case.labels.array, case, tmp_path / "msd.nii", scheme="msd")
    raw = np.asanyarray(nib.load(out).dataobj)
    np.testing.assert_array_equal(raw, convert(synthetic_labels(SHAPE), "internal", "msd"))
    back = read_label_file(out, scheme="msd")
    np.testing.assert_array_equal(back.array, case.labels.array)


def test_msd_case_exports_in_its_grid(tmp_path: Path) -> None:
    case = load_case(write_msd_case(tmp_path / "Task01", SHAPE, ANISOTROPIC_AFFINE))
    assert case.labels is not None
    out = write_label_map(case.labels.array, case, tmp_path / "p.nii.gz", scheme="msd")
    sidecar = json.loads(sidecar_path(out).read_text())
    image = tmp_path / "Task01" / "imagesTr" / "BRATS_001.nii.gz"
    assert [(e["role"], e["path"]) for e in sidecar["source_files"]][:4] == [
        ("flair", str(image)),
        ("t1", str(image)),
        ("t1ce", str(image)),
        ("t2", str(image)),
    ]
    assert {e["sha256"] for e in sidecar["source_files"][:4]} == {sha256(image)}
    np.testing.assert_array_equal(
        np.asanyarray(nib.load(out).dataobj), convert(synthetic_labels(SHAPE), "internal", "msd")
    )


def test_failed_export_keeps_previous_file_and_leaves_no_temporaries(tmp_path: Path) -> None:
    case = load_case(write_brats_case(tmp_path / "c", SHAPE))
    assert case.labels is not None
    target = tmp_path / "pred.nii.gz"
    write_label_map(case.labels.array, case, target)
    before = target.read_bytes()
    bad = case.labels.array.copy()
    bad[0, 0, 0] = 9  # not an internal label: conversion fails before anything is written
    with pytest.raises(ValueError, match=r"\[9\]"):
        write_label_map(bad, case, target)
    with pytest.raises(ValueError, match="does not match the case grid"):
        write_label_map(np.zeros((3, 3, 3), np.uint8), case, target)
    with pytest.raises(FileNotFoundError, match="the folder .*missing does not exist"):
        write_label_map(case.labels.array, case, tmp_path / "missing" / "pred.nii.gz")
    with pytest.raises(ValueError, match="use a .nii.gz or .nii file name"):
        write_label_map(case.labels.array, case, tmp_path / "pred.nrrd")
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c", "pred.json", "pred.nii.gz"]


def test_real_case_round_trip(real_case_dir: Path, tmp_path: Path) -> None:
    case = load_case(real_case_dir)
    assert case.shape == (240, 240, 155)
    assert case.grid.orientation == "RAS"
    assert case.labels is not None and case.labels.scheme == "brats"
    out = write_label_map(case.labels.array, case, tmp_path / "seg.nii.gz")
    source = nib.load(real_case_dir / f"{real_case_dir.name}_seg.nii.gz")
    written = nib.load(out)
    np.testing.assert_array_equal(written.affine, source.affine)
    np.testing.assert_array_equal(np.asanyarray(written.dataobj), np.asanyarray(source.dataobj))


def test_failed_verification_keeps_previous_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    case = load_case(write_brats_case(tmp_path / "c", SHAPE))
    assert case.labels is not None
    target = tmp_path / "pred.nii.gz"
    write_label_map(case.labels.array, case, target)
    before = target.read_bytes()
    real_load = nib.load

    def corrupting_load(path, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        image = real_load(path, *args, **kwargs)
        data = np.asanyarray(image.dataobj).copy()
        data[0, 0, 0] += 1  # as if the disk returned different bytes
        return nib.Nifti1Image(data, image.affine, image.header)

    monkeypatch.setattr("segmentation_core.io.export.nib.load", corrupting_load)
    with pytest.raises(
        ExportError, match=r"pred.nii.gz: the written file did not read back identically \(voxel"
    ):
        write_label_map(np.zeros(case.shape, np.uint8), case, target, overwrite=True)
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c", "pred.json", "pred.nii.gz"]


def test_dicom_case_exports_nifti_in_the_series_geometry(tmp_path: Path) -> None:
    series = write_dicom_case(tmp_path / "dcm", slices=5)
    case = load_case(tmp_path / "dcm")
    labels = np.zeros(case.shape, np.uint8)
    labels[1:4, 2:9, 3] = 3
    out = write_label_map(labels, case, tmp_path / "seg.nii.gz")
    written = nib.load(out)
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames([str(p) for p in series["t1"]])
    array, affine = from_sitk(reader.Execute())
    assert written.shape == array.shape
    np.testing.assert_allclose(written.affine, affine, atol=1e-4)
    assert int(written.header["sform_code"]) == 1 and int(written.header["qform_code"]) == 1
    np.testing.assert_array_equal(
        np.asanyarray(written.dataobj), to_source_orientation(labels * 4 // 3, case)
    )
    sidecar = json.loads(sidecar_path(out).read_text())
    assert sidecar["source_format"] == "dicom" and len(sidecar["source_files"]) == 20


def test_in_memory_case_exports_like_a_loaded_one(tmp_path: Path) -> None:
    case = make_case(SHAPE, oblique_affine())
    loaded = load_case(write_brats_case(tmp_path / "c", SHAPE, oblique_affine()))
    assert case.labels is not None and loaded.labels is not None
    np.testing.assert_array_equal(case.labels.array, loaded.labels.array)
    np.testing.assert_array_equal(case.channels["flair"].array, loaded.channels["flair"].array)
    out = write_label_map(case.labels.array, case, tmp_path / "mem.nii.gz")
    np.testing.assert_array_equal(
        np.asanyarray(nib.load(out).dataobj),
        np.asanyarray(nib.load(tmp_path / "c" / "Case_001_seg.nii.gz").dataobj),
    )
    np.testing.assert_allclose(nib.load(out).affine, oblique_affine(), atol=1e-6)


def test_round_trip_on_nibabels_real_anatomical_file(tmp_path: Path) -> None:
    """anatomical.nii: a real big-endian LAS scan with sform/qform code 2 (aligned)."""
    source = Path(NIBABEL_DATA) / "anatomical.nii"
    case = load_case({role: source for role in ("t1", "t1ce", "t2", "flair")})
    rng = np.random.default_rng(3)
    labels = rng.integers(0, 4, case.shape).astype(np.uint8)
    out = write_label_map(labels, case, tmp_path / "anat_seg.nii.gz", scheme="brats2023")
    written, original = nib.load(out), nib.load(source)
    assert written.shape == original.shape
    np.testing.assert_array_equal(written.affine, original.affine)
    assert int(written.header["sform_code"]) == 2 and int(written.header["qform_code"]) == 2
    np.testing.assert_array_equal(read_label_file(out, scheme="brats2023").array, labels)
