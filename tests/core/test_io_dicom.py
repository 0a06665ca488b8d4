"""DICOM folders: grouping, slice sorting, gap checks, identification, overrides and DICOM-SEG export."""

from __future__ import annotations

import shutil
from pathlib import Path

import highdicom as hd
import numpy as np
import pydicom
import pytest
import SimpleITK as sitk
from pydicom.data import get_testdata_file

from segmentation_core.io import CaseLoadError, from_source_orientation, load_case, write_dicom_seg
from segmentation_core.io.dicom_identify import identify
from segmentation_core.io.sitk_formats import from_sitk
from segmentation_core.labels import ED, ET, NCR
from segmentation_core.types import SEQUENCES
from tests.core.io_fixtures import write_brats_case, write_dicom_case, write_dicom_series

MR_SMALL = Path(get_testdata_file("MR_small.dcm"))
MR_TRUNCATED = Path(get_testdata_file("MR_truncated.dcm"))


def _sitk_read(files: list[Path]) -> tuple[np.ndarray, np.ndarray]:
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames([str(p) for p in files])
    return from_sitk(reader.Execute())


def test_dicom_folder_loads_four_identified_series_sorted_by_position(tmp_path: Path) -> None:
    series = write_dicom_case(tmp_path / "dcm", slices=5)
    case = load_case(tmp_path / "dcm")
    assert case.source_format == "dicom"
    assert case.case_id == "4MR1"
    assert case.shape == (64, 64, 5)
    assert case.grid.orientation == "RAS"
    assert case.warnings == []
    template = pydicom.dcmread(MR_SMALL).pixel_array
    for role in SEQUENCES:
        assert case.source_files[role] == tuple(series[role])  # files in slice order, not name order
        array, affine = _sitk_read(series[role])  # SimpleITK's reading of the same, correctly ordered files
        np.testing.assert_allclose(case.source_affine, affine, atol=1e-4)
        np.testing.assert_array_equal(case.channels[role].array, from_source_orientation(array, case))
        assert array[:, :, 3].T.tolist() == (template + 30).tolist()
    t1 = case.channels["t1"]
    np.testing.assert_allclose(t1.spacing, (0.3125, 0.3125, 2.0))


def test_identification_from_tags() -> None:
    ds = pydicom.dcmread(MR_SMALL, stop_before_pixels=True)  # no description; TR 4000, TE 240 spin echo
    assert identify(ds)[0] == "t2"
    cases = {
        "Ax T1 MPRAGE": "t1",
        "T1 post Gd": "t1ce",
        "AX T1 +C": "t1ce",
        "t1ce": "t1ce",
        "T2W_TSE": "t2",
        "T2 FLAIR axial": "flair",
        "Localizer": None,
        "DWI b1000": None,
    }
    for text, role in cases.items():
        ds.SeriesDescription = text
        assert identify(ds)[0] == role, text
    ds.SeriesDescription = "AX T1 SE"
    ds.ContrastBolusAgent = "Gadovist"
    assert identify(ds) == ("t1ce", "description 'ax t1 se' names T1 with contrast agent 'Gadovist'")
    ds.SeriesDescription = ""
    ds.ContrastBolusAgent = ""
    ds.InversionTime, ds.EchoTime = 2500, 120
    assert identify(ds)[0] == "flair"
    ds.InversionTime, ds.RepetitionTime, ds.EchoTime = 0, 3000, 40
    role, reason = identify(ds)
    assert role is None and "does not identify" in reason


def test_unidentified_series_are_listed_and_overridable(tmp_path: Path) -> None:
    folder = tmp_path / "dcm"
    write_dicom_series(folder, "AX T1 SE", series_number=1)
    write_dicom_series(folder, "AX T1 +C", series_number=2)
    write_dicom_series(folder, "AX T2 FSE", series_number=3)
    write_dicom_series(
        folder, "sequence 4", series_number=4, extra={"EchoTime": 20.0, "RepetitionTime": 2000.0}
    )
    write_dicom_series(folder, "Localizer", series_number=9)
    with pytest.raises(CaseLoadError, match=r"could not identify the flair series") as err:
        load_case(folder)
    assert "series 4 'sequence 4'" in str(err.value) and "-> unidentified" in str(err.value)
    case = load_case(folder, dicom_roles={"flair": "4"})
    assert case.shape == (64, 64, 4)
    assert len(case.warnings) == 1 and "ignored series 9 'Localizer'" in case.warnings[0]
    by_description = load_case(folder, dicom_roles={"flair": "sequence 4"})
    np.testing.assert_array_equal(by_description.channels["flair"].array, case.channels["flair"].array)
    with pytest.raises(CaseLoadError, match=r"0 series match 'nope' given for flair"):
        load_case(folder, dicom_roles={"flair": "nope"})


def test_two_candidates_for_one_sequence_are_not_guessed(tmp_path: Path) -> None:
    folder = tmp_path / "dcm"
    write_dicom_case(folder)
    write_dicom_series(folder, "T2 FSE repeat", series_number=7)
    with pytest.raises(CaseLoadError, match=r"2 series look like t2: series 3 'AX T2 FSE'.*series 7") as err:
        load_case(folder)
    assert "dicom_roles={'t2'" in str(err.value)


def test_gap_in_series_is_rejected(tmp_path: Path) -> None:
    folder = tmp_path / "dcm"
    write_dicom_case(folder)
    extra = write_dicom_series(tmp_path / "gap", "AX T2 FLAIR", slices=6, skip=(3,), series_number=4)
    for p in folder.glob("s4_*.dcm"):
        p.unlink()
    for p in extra:
        shutil.copy(p, folder / p.name)
    with pytest.raises(
        CaseLoadError, match=r"slice spacing is inconsistent \(4.000 mm before this slice, 2.000 mm"
    ):
        load_case(folder)


def test_duplicate_slice_position_is_rejected(tmp_path: Path) -> None:
    folder = tmp_path / "dcm"
    series = write_dicom_case(folder)
    ds = pydicom.dcmread(series["t2"][1])
    ds.SOPInstanceUID = pydicom.uid.generate_uid()
    ds.save_as(folder / "dup.dcm")
    with pytest.raises(CaseLoadError, match=r"two slices of series 3 'AX T2 FSE'.* share one position"):
        load_case(folder)


def test_single_slice_mr_small_is_a_2d_image(tmp_path: Path) -> None:
    folder = tmp_path / "one"
    folder.mkdir()
    shutil.copy(MR_SMALL, folder / "MR_small.dcm")
    with pytest.raises(CaseLoadError, match="could not identify the t1, t1ce, flair series"):
        load_case(folder)
    every_role = dict.fromkeys(SEQUENCES, _uid(MR_SMALL))
    with pytest.raises(CaseLoadError, match=r"has a single slice \(a 2-D image\)") as err:
        load_case(folder, dicom_roles=every_role)
    assert "MR_small.dcm" in str(err.value)


def _uid(path: Path) -> str:
    return str(pydicom.dcmread(path, stop_before_pixels=True).SeriesInstanceUID)


def test_truncated_dicom_slice_is_named(tmp_path: Path) -> None:
    folder = tmp_path / "dcm"
    series = write_dicom_case(folder)
    bad = pydicom.dcmread(MR_TRUNCATED)  # real pydicom test file whose pixel data is cut short
    target = pydicom.dcmread(series["t1ce"][2])
    target.PixelData = bad.PixelData
    target.save_as(series["t1ce"][2])
    with pytest.raises(CaseLoadError, match="the pixel data cannot be read") as err:
        load_case(folder)
    assert str(series["t1ce"][2]) in str(err.value)


def test_dicom_seg_round_trip(tmp_path: Path) -> None:
    series = write_dicom_case(tmp_path / "dcm", slices=5)
    case = load_case(tmp_path / "dcm")
    labels = np.zeros(case.shape, np.uint8)
    labels[10:20, 5:30, 1:3] = NCR
    labels[30:40, 31:40, :] = ED
    labels[50, 52, 4] = ET
    out = write_dicom_seg(labels, case, tmp_path / "seg.dcm", model_version="v2")
    seg = hd.seg.segread(out)
    assert seg.number_of_segments == 3
    types = [d.SegmentedPropertyTypeCodeSequence[0].CodeValue for d in seg.SegmentSequence]
    assert types == ["6574001", "79654002", "C113842"]
    assert seg.SegmentSequence[0].SegmentAlgorithmType == "AUTOMATIC"
    t1_series = str(pydicom.dcmread(series["t1"][0], stop_before_pixels=True).SeriesInstanceUID)
    assert seg.ReferencedSeriesSequence[0].SeriesInstanceUID == t1_series
    assert seg.SegmentSequence[0].SegmentedPropertyCategoryCodeSequence[0].CodeValue == "49755003"
    uids = [str(pydicom.dcmread(p, stop_before_pixels=True).SOPInstanceUID) for p in series["t1"]]
    frames = seg.get_pixels_by_source_instance(source_sop_instance_uids=uids, combine_segments=True)
    # frame k, pixel (row, column) is source voxel (column, row, k)
    source_layout = np.transpose(np.asarray(frames), (2, 1, 0))
    np.testing.assert_array_equal(from_source_orientation(source_layout, case), labels)


def test_dicom_seg_of_empty_labels_is_manual_and_bad_values_are_refused(tmp_path: Path) -> None:
    write_dicom_case(tmp_path / "dcm", slices=3)
    case = load_case(tmp_path / "dcm")
    seg = hd.seg.segread(write_dicom_seg(np.zeros(case.shape, np.uint8), case, tmp_path / "empty.dcm"))
    assert seg.number_of_segments == 3 and seg.NumberOfFrames == 9
    assert seg.SegmentSequence[2].SegmentAlgorithmType == "MANUAL"
    bad = np.zeros(case.shape, np.uint8)
    bad[0, 0, 0] = 4
    with pytest.raises(ValueError, match=r"label values \[4\] are not part of the 'internal' scheme"):
        write_dicom_seg(bad, case, tmp_path / "bad.dcm")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dcm", "empty.dcm"]


def test_dicom_seg_needs_a_dicom_case(tmp_path: Path) -> None:
    case = load_case(write_brats_case(tmp_path / "c", (8, 8, 8)))
    with pytest.raises(ValueError, match="needs a case loaded from DICOM"):
        write_dicom_seg(np.zeros(case.shape, np.uint8), case, tmp_path / "x.dcm")


def test_identification_edge_cases() -> None:
    ds = pydicom.dcmread(MR_SMALL, stop_before_pixels=True)
    for text, role in {
        "T1 FLAIR": "t1",
        "T1 FLAIR POST GD": "t1ce",
        "T2* GRE": None,
        "t2_star": None,
    }.items():
        ds.SeriesDescription = text
        assert identify(ds)[0] == role, text


def test_mapping_of_sequences_to_series_folders(tmp_path: Path) -> None:
    folders = {}
    for i, (role, text) in enumerate({"t1": "a", "t1ce": "b", "t2": "c", "flair": "d"}.items()):
        folders[role] = tmp_path / role
        write_dicom_series(folders[role], text, slices=3, series_number=i + 1)
    case = load_case(folders)
    assert case.source_format == "dicom" and case.shape == (64, 64, 3)
    assert len(case.source_files["flair"]) == 3
    write_dicom_series(folders["t2"], "another", slices=3, series_number=8)
    with pytest.raises(CaseLoadError, match=r"holds 2 series .*one was expected"):
        load_case(folders)


def test_rescaled_slices_become_float(tmp_path: Path) -> None:
    folder = tmp_path / "dcm"
    series = write_dicom_case(folder, slices=3)
    ds = pydicom.dcmread(series["t2"][1])
    ds.RescaleSlope, ds.RescaleIntercept = 2, -100
    ds.save_as(series["t2"][1])
    case = load_case(folder)
    template = pydicom.dcmread(MR_SMALL).pixel_array.astype(np.float32)
    raw = np.stack([template.T, (template + 10).T * 2 - 100, (template + 20).T], axis=2)
    np.testing.assert_array_equal(case.channels["t2"].array, from_source_orientation(raw, case))


def test_series_of_different_patients_are_refused(tmp_path: Path) -> None:
    folder = tmp_path / "dcm"
    write_dicom_case(folder)
    for path in folder.glob("s3_*.dcm"):  # the T2 series
        ds = pydicom.dcmread(path)
        ds.PatientID = "OTHER-7"
        ds.save_as(path)
    with pytest.raises(
        CaseLoadError, match=r"belong to 2 different patients .*t2: series 3 'AX T2 FSE'.*'OTHER-7'"
    ):
        load_case(folder)
