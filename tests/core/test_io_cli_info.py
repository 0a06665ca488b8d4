"""``brats-seg info``: text and JSON descriptions of a case; bad input exits 2 with the message."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from segmentation_core.cli import main
from segmentation_core.types import SEQUENCES
from tests.core.io_fixtures import ANISOTROPIC_AFFINE, synthetic_labels, write_brats_case, write_dicom_case


def test_info_text(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = write_brats_case(tmp_path / "Case_001", (12, 10, 8))
    assert main(["info", str(folder)]) == 0
    out = capsys.readouterr().out
    assert "case        Case_001  (nifti)" in out
    assert "grid        12 x 10 x 8 voxels, spacing [1.0, 1.0, 1.0] mm" in out
    assert "orientation LPS on disk, RAS in memory" in out
    counts = np.bincount(synthetic_labels((12, 10, 8)).ravel(), minlength=4)
    assert (
        f"scheme brats (BraTS 2017-2021: 1 NCR, 2 ED, 4 ET); voxels: NCR {counts[1]}, ED {counts[2]}, ET {counts[3]}"
        in out
    )


def test_info_json_with_resampling_warning(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = write_brats_case(tmp_path / "c", (12, 10, 8), ANISOTROPIC_AFFINE, with_seg=False)
    other = write_brats_case(tmp_path / "d", (6, 5, 4), ANISOTROPIC_AFFINE, with_seg=False)
    (other / "Case_001_t2.nii.gz").replace(folder / "Case_001_t2.nii.gz")
    assert main(["info", "--json", str(folder)]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["shape"] == [10, 8, 12]
    assert info["spacing_mm"] == [1.2, 3.0, 0.9]
    assert info["source_orientation"] == "SRP"
    assert info["orientation"] == "RAS"
    assert info["labels"] is None
    # the smaller t2 is a different head placed at the same origin: resampled, and flagged misaligned
    assert len(info["warnings"]) == 2 and info["warnings"][1].startswith(
        "t2 (Case_001_t2.nii.gz) was resampled"
    )
    assert info["warnings"][0].startswith("POSSIBLY MISALIGNED: the t2 image (Case_001_t2.nii.gz)")


def test_info_dicom_with_role_override(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_dicom_case(tmp_path / "dcm")
    assert main(["info", "--json", "--dicom-role", "t2=3", str(tmp_path / "dcm")]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["format"] == "dicom" and info["sequences"]["t2"]["files"] == 4
    assert main(["info", "--dicom-role", "t2", str(tmp_path / "dcm")]) == 2
    assert "write it as SEQ=SERIES" in capsys.readouterr().err


def test_info_bad_input_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "empty").mkdir()
    assert main(["info", str(tmp_path / "empty")]) == 2
    assert f"error: {tmp_path / 'empty'}: the folder is empty" in capsys.readouterr().err


def test_info_with_explicit_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = write_brats_case(tmp_path / "c", (12, 10, 8), naming="brats2023", case_id="BraTS-GLI-1")
    flags = [
        f"--{r}={folder / f'BraTS-GLI-1-{t}.nii.gz'}" for r, t in zip(SEQUENCES, ("t1n", "t1c", "t2w", "t2f"))
    ]
    assert main(["info", "--json", *flags, f"--seg={folder / 'BraTS-GLI-1-seg.nii.gz'}"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["case_id"] == "BraTS-GLI-1" and info["labels"]["scheme"] == "brats2023"
    assert info["warnings"] == []  # BraTS 2023 names settle the 1/2/3 scheme without a guess
    assert info["sequences"]["t1ce"]["file"] == str(folder / "BraTS-GLI-1-t1c.nii.gz")
    assert main(["info", str(folder), flags[0]]) == 2
    assert "give either PATH or the --t1/--t1ce/--t2/--flair files, not both" in capsys.readouterr().err
    assert main(["info"]) == 2
    assert "give a case PATH" in capsys.readouterr().err
