"""``brats-seg evaluate``: pairing by case name, values in table and CSV, schemes, grid mismatches."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from segmentation_core.cli import main
from segmentation_core.io import CaseLoadError
from segmentation_core.metrics.files import case_name, find_label_files, pair_label_files
from tests.core.io_fixtures import ANISOTROPIC_AFFINE, oblique_affine, write_nifti

SHAPE = (8, 8, 8)
#: ANISOTROPIC_AFFINE has 0.9 x 1.2 x 3 mm voxels along the array axes: 3.24 mm^3 each.
VOXEL_CM3 = 0.9 * 1.2 * 3.0 / 1000


def slab(value: int, z: slice) -> np.ndarray:
    labels = np.zeros(SHAPE, dtype=np.uint8)
    labels[1:7, 1:7, z] = value
    return labels


def write(path: Path, labels: np.ndarray, affine: np.ndarray = ANISOTROPIC_AFFINE) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_nifti(path, labels, affine)


@pytest.fixture
def folders(tmp_path: Path) -> tuple[Path, Path]:
    """pred/ and ref/ with cases a (shifted one 3 mm voxel) and b (identical) paired, plus one unpaired each."""
    pred, ref = tmp_path / "pred", tmp_path / "ref"
    write(pred / "a.nii.gz", slab(3, slice(3, 5)))  # values 0/3: BraTS 2023 = internal
    write(pred / "b_seg.nii.gz", slab(2, slice(2, 4)))
    write(pred / "extra.nii.gz", slab(2, slice(2, 4)))
    write(ref / "a" / "a_seg.nii.gz", slab(4, slice(2, 4)))  # values 0/4: BraTS 2018 ET
    write_nifti(ref / "a" / "a_t1.nii.gz", np.ones(SHAPE, np.float32), ANISOTROPIC_AFFINE)
    write(ref / "b" / "seg.nii.gz", slab(2, slice(2, 4)))
    write(ref / "c" / "c_seg.nii.gz", slab(2, slice(2, 4)))
    return pred, ref


def test_folders_are_paired_and_scored(
    folders: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pred, ref = folders
    out = tmp_path / "scores.csv"
    assert main(["evaluate", str(pred), str(ref), "--csv", str(out), "--lesion-wise"]) == 0
    captured = capsys.readouterr()
    assert f"prediction {pred / 'extra.nii.gz'} has no reference" in captured.err
    assert f"reference {ref / 'c' / 'c_seg.nii.gz'} has no prediction" in captured.err
    lines = captured.out.splitlines()
    assert "2 case(s) scored, 0 failed; unpaired: 1 prediction(s), 1 reference(s)" in lines
    assert (
        lines[0].split()
        == "case region Dice HD95 mm ASD mm Sens Spec Pred cm3 Ref cm3 LW Dice LW HD95".split()
    )
    assert lines[2].split()[:5] == ["a", "WT", "0.5000", "3.0000", "1.5000"]
    with out.open() as handle:
        table = {(row["case"], row["region"]): row for row in csv.DictReader(handle)}
    assert len(table) == 2 * 3 + 3 * 3
    a_et, b_wt = table[("a", "ET")], table[("b", "WT")]
    assert float(a_et["dice"]) == 0.5 and float(a_et["hd95"]) == 3.0 and float(a_et["asd"]) == 1.5
    assert float(a_et["sensitivity"]) == 0.5
    assert float(a_et["volume_ref_cm3"]) == pytest.approx(72 * VOXEL_CM3, rel=1e-5)
    assert float(a_et["lesion_dice"]) == 0.5 and float(a_et["lesion_hd95"]) == 3.0
    assert (float(b_wt["dice"]), float(b_wt["hd95"])) == (1.0, 0.0)
    # Case b has no ET in either map: BraTS convention for two empty masks.
    assert (float(table[("b", "ET")]["dice"]), float(table[("b", "ET")]["hd95"])) == (1.0, 0.0)
    assert float(table[("mean", "WT")]["dice"]) == 0.75
    assert float(table[("median", "WT")]["hd95"]) == 1.5
    assert float(table[("std", "WT")]["dice"]) == 0.25


def test_schemes_change_the_meaning_of_values(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pred = write(tmp_path / "p.nii.gz", slab(1, slice(2, 4)))  # MSD 1 = ED, BraTS 1 = NCR
    ref = write(tmp_path / "r.nii.gz", slab(2, slice(2, 4)))  # BraTS 2 = ED
    out = tmp_path / "out.csv"
    assert main(["evaluate", str(pred), str(ref), "--pred-scheme", "msd", "--csv", str(out)]) == 0
    rows = {row["region"]: row for row in csv.DictReader(out.read_text().splitlines()) if row["case"] == "r"}
    assert [float(rows[r]["dice"]) for r in ("WT", "TC", "ET")] == [1.0, 1.0, 1.0]
    assert main(["evaluate", str(pred), str(ref), "--scheme", "brats", "--csv", str(out)]) == 0
    rows = {row["region"]: row for row in csv.DictReader(out.read_text().splitlines()) if row["case"] == "r"}
    assert (float(rows["TC"]["dice"]), float(rows["TC"]["hd95"])) == (0.0, 373.13)
    capsys.readouterr()


def test_mismatched_grids_name_both_files(
    folders: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    pred, ref = folders
    moved = ANISOTROPIC_AFFINE.copy()
    moved[:3, 3] += 5.0
    write(pred / "b_seg.nii.gz", slab(2, slice(2, 4)), moved)
    assert main(["evaluate", str(pred), str(ref)]) == 1
    captured = capsys.readouterr()
    assert (
        f"error: {pred / 'b_seg.nii.gz'}: prediction and reference {ref / 'b' / 'seg.nii.gz'}" in captured.err
    )
    assert "different voxel grids" in captured.err and "resample the prediction" in captured.err
    assert "\na " in captured.out and "\nb " not in captured.out
    assert main(["evaluate", str(pred / "b_seg.nii.gz"), str(ref / "b" / "seg.nii.gz")]) == 2
    assert "different voxel grids" in capsys.readouterr().err


def test_nothing_to_pair_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path / "p" / "x.nii.gz", slab(2, slice(2, 4)))
    write(tmp_path / "r" / "y_seg.nii.gz", slab(2, slice(2, 4)))
    assert main(["evaluate", str(tmp_path / "p"), str(tmp_path / "r")]) == 2
    assert "no case has both a prediction and a reference" in capsys.readouterr().err
    assert main(["evaluate", str(tmp_path / "missing"), str(tmp_path / "r")]) == 2
    assert "no such file or folder" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("name", "case"),
    [
        ("Brats18_X_1_seg.nii.gz", "Brats18_X_1"),
        ("BraTS-GLI-00001-000-seg.nii.gz", "BraTS-GLI-00001-000"),
        ("Case7.nii", "Case7"),
        ("Case7_pred.nrrd", "Case7"),
        ("seg.nii.gz", "folder"),
        ("myseg.mha", "myseg"),
    ],
)
def test_case_names(name: str, case: str) -> None:
    assert case_name(Path("/data/folder") / name) == case


def test_two_files_of_one_case_are_refused(tmp_path: Path) -> None:
    write(tmp_path / "one" / "x_seg.nii.gz", slab(2, slice(2, 4)))
    write(tmp_path / "two" / "x_seg.nii.gz", slab(2, slice(2, 4)))
    with pytest.raises(CaseLoadError, match="case 'x' has two label files"):
        find_label_files(tmp_path)


def test_two_single_files_pair_whatever_their_names(tmp_path: Path) -> None:
    pred = write(tmp_path / "model_output.nii.gz", slab(2, slice(2, 4)))
    ref = write(tmp_path / "Case1_seg.nii.gz", slab(2, slice(2, 4)))
    assert pair_label_files(pred, ref).pairs == {"Case1": (pred, ref)}


def test_oblique_grid_distances_in_mm(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    affine = oblique_affine(spacing=(1.0, 1.5, 2.0))
    pred = write(tmp_path / "p" / "case.nii.gz", slab(2, slice(3, 5)), affine)
    ref = write(tmp_path / "r" / "case_seg.nii.gz", slab(2, slice(2, 4)), affine)
    out = tmp_path / "out.csv"
    assert main(["evaluate", str(pred.parent), str(ref.parent), "--csv", str(out)]) == 0
    wt = next(
        row
        for row in csv.DictReader(out.read_text().splitlines())
        if row["case"] == "case" and row["region"] == "WT"
    )
    assert (float(wt["dice"]), float(wt["hd95"]), float(wt["asd"])) == (0.5, 2.0, 1.0)
    assert float(wt["volume_pred_cm3"]) == pytest.approx(72 * 3.0 / 1000, rel=1e-5)
    assert main(["evaluate", str(pred), str(ref), "--csv", str(tmp_path / "no" / "such" / "dir.csv")]) == 2
    assert f"{tmp_path / 'no' / 'such'} does not exist" in capsys.readouterr().err


@pytest.mark.parametrize("above", [".local/share", "data/.hidden/x", "run.d/.cache"])
def test_dot_folders_above_the_searched_folder_do_not_hide_its_files(tmp_path: Path, above: str) -> None:
    """Only hidden parts *below* the searched folder are skipped (``~/.local/...`` and ``../data`` work)."""
    folder = tmp_path / above / "labels"
    seg = write(folder / "a_seg.nii.gz", slab(2, slice(2, 4)))
    write(folder / ".trash" / "b_seg.nii.gz", slab(2, slice(2, 4)))  # hidden below: skipped
    assert find_label_files(folder) == {"a": seg}
    relative = Path("..") / folder.relative_to(tmp_path.parent)  # a path with ".." in it
    assert find_label_files(tmp_path / relative) == {"a": tmp_path / relative / "a_seg.nii.gz"}
