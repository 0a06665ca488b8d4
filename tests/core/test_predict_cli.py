"""``brats-seg predict``: one case or a folder, labels written in the source geometry, clear errors."""

from __future__ import annotations

import io
import json

import nibabel as nib
import numpy as np
import pytest

import resources
from segmentation_core.cli import main
from segmentation_core.cli.predict import ProgressBar
from segmentation_core.inference import Predictor, run_prediction
from segmentation_core.io import load_case, to_source_orientation
from segmentation_core.labels import convert
from segmentation_core.models import ModelBundle
from segmentation_core.types import Progress
from tests.core.io_fixtures import LPS_AFFINE, oblique_affine, write_brats_case
from tests.core.model_fixtures import make_tiny_bundle


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return make_tiny_bundle(tmp_path_factory.mktemp("model"), spacing=(2.0, 2.0, 2.0))


def expected_labels(case_dir, model) -> np.ndarray:
    case = load_case(case_dir)
    prediction = run_prediction(Predictor(ModelBundle.load(model), device="cpu"), case)
    return to_source_orientation(convert(prediction.labels, "internal", "brats"), case)


def test_one_case_is_written_in_the_source_geometry(tmp_path, model, capsys) -> None:
    case_dir = write_brats_case(tmp_path / "Case_001", shape=(24, 20, 16), affine=oblique_affine())
    out = tmp_path / "out"
    code = main(
        [
            "predict",
            str(case_dir),
            "-o",
            str(out),
            "--model",
            str(model),
            "--device",
            "cpu",
            "--probabilities",
            "--brats-like",  # a 24-voxel synthetic case is too small for the raw-study detector
        ]
    )
    assert code == 0
    written = nib.load(out / "Case_001_pred.nii.gz")
    assert written.shape == (24, 20, 16) and written.get_data_dtype() == np.uint8
    np.testing.assert_allclose(written.affine, oblique_affine(), atol=1e-5)
    np.testing.assert_array_equal(np.asanyarray(written.dataobj), expected_labels(case_dir, model))
    sidecar = json.loads((out / "Case_001_pred.json").read_text())
    assert (sidecar["model_version"], sidecar["label_scheme"], sidecar["device"]) == ("1", "brats", "cpu")
    assert set(sidecar["cleanup"]) == {"islands_removed", "removed_cm3"}  # what the clean-up removed
    assert sidecar["postprocessing"] == {  # the tiny bundle has no settings: the defaults
        "min_component_mm3": 100.0,
        "min_et_mm3": 200.0,
        "min_core_component_mm3": 0.0,
        "min_component_core_fraction": 0.0,
        "keep_component_within_mm": 0.0,
    }
    assert (case_dir / "Case_001_seg.nii.gz").is_file()  # the reference is there, but not a source
    sources = sorted((s["role"], s["path"]) for s in sidecar["source_files"])
    assert sources == sorted(
        (r, str(case_dir / f"Case_001_{r}.nii.gz")) for r in ("t1", "t1ce", "t2", "flair")
    )
    probabilities = nib.load(out / "Case_001_pred_probabilities.nii.gz")
    assert probabilities.shape == (24, 20, 16, 3) and probabilities.get_data_dtype() == np.float32
    captured = capsys.readouterr()
    assert "Case_001_pred.nii.gz" in captured.out
    assert "[1/1] Case_001 [" in captured.err and "ETA" in captured.err


def test_a_folder_of_cases_continues_past_a_broken_one(tmp_path, model, capsys) -> None:
    root = tmp_path / "cases"
    write_brats_case(root / "Case_001", shape=(16, 16, 16), case_id="Case_001")
    write_brats_case(root / "Case_002", shape=(16, 16, 16), affine=LPS_AFFINE, case_id="Case_002", seed=1)
    (root / "Case_002" / "Case_002_t2.nii.gz").write_bytes(b"not a nifti")
    out = tmp_path / "out"
    args = ["predict", str(root), "-o", str(out), "--model", str(model), "--device", "cpu", "--brats-like"]
    assert main(args) == 1
    assert sorted(p.name for p in out.glob("*.nii.gz")) == ["Case_001_pred.nii.gz"]
    err = capsys.readouterr().err
    assert "Case_002_t2.nii.gz" in err and "1 of 2 cases failed: Case_002" in err


def test_a_nifti_output_name_for_one_case(tmp_path, model) -> None:
    case_dir = write_brats_case(tmp_path / "Case_001", shape=(16, 16, 16))
    target = tmp_path / "sub" / "mine.nii.gz"
    assert (
        main(
            [
                "predict",
                str(case_dir),
                "-o",
                str(target),
                "--model",
                str(model),
                "--scheme",
                "brats2023",
                "--brats-like",
            ]
        )
        == 0
    )
    values = set(np.unique(np.asanyarray(nib.load(target).dataobj)).tolist())
    assert values <= {0, 1, 2, 3}


def test_missing_default_model_is_a_clear_error(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setattr(resources, "default_model_dir", lambda: tmp_path / "default")
    case_dir = write_brats_case(tmp_path / "Case_001", shape=(16, 16, 16))
    assert main(["predict", str(case_dir), "-o", str(tmp_path / "out")]) == 2
    assert "no default model is bundled with this build; pass --model DIR" in capsys.readouterr().err


def test_broken_model_and_missing_input_name_the_file(tmp_path, model, capsys) -> None:
    assert main(["predict", str(tmp_path / "nowhere"), "-o", str(tmp_path), "--model", str(model)]) == 2
    assert "nowhere: no such file or folder" in capsys.readouterr().err
    case_dir = write_brats_case(tmp_path / "Case_001", shape=(16, 16, 16))
    assert main(["predict", str(case_dir), "-o", str(tmp_path / "o"), "--model", str(tmp_path)]) == 2
    assert "model.json" in capsys.readouterr().err


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_redraws_in_place_on_a_terminal_and_only_finishes_elsewhere() -> None:
    terminal, log = FakeTerminal(), io.StringIO()
    for stream in (terminal, log):
        bar = ProgressBar("case", stream, width=10)
        bar.update(Progress(1, 5))
        bar.update(Progress(5, 5))
    lines = terminal.getvalue().split("\r")[1:]
    assert lines[0].startswith("case [##--------] 1/5") and "ETA" in lines[0] and not lines[0].endswith("\n")
    assert lines[1].startswith("case [##########] 5/5") and lines[1].endswith("ETA   0.0s\n")
    assert log.getvalue().count("\n") == 1 and log.getvalue().startswith("case [##########] 5/5")
