"""Issue 16 items 10 and 12-17: bad input gives one clear line or a correct result, never a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
import torch

from segmentation_core.cli import main
from segmentation_core.inference import Predictor, run_prediction
from segmentation_core.io import find_cases, load_case, write_label_map
from segmentation_core.models.bundle import BundleError, ModelBundle
from tests.core.io_fixtures import make_case, write_brats_case, write_dicom_series
from tests.core.model_fixtures import make_tiny_bundle

SHAPE = (16, 16, 16)
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_tiny_bundle(tmp_path_factory.mktemp("model"))


def _error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = [line for line in capsys.readouterr().err.splitlines() if not line.startswith("[")]
    assert len(err) == 1 and err[0].startswith("error: "), err
    return err[0]


# ---------------------------------------------------------------- item 10: garbage in, no confident result
def test_nan_weights_are_refused(tmp_path: Path, capsys) -> None:
    folder = make_tiny_bundle(tmp_path / "model")
    state = torch.load(folder / "weights.pt", weights_only=True)
    next(iter(state.values()))[...] = float("nan")
    torch.save(state, folder / "weights.pt")
    with pytest.raises(BundleError, match="hold NaN or infinite values"):
        ModelBundle.load(folder).load_network()
    case = write_brats_case(tmp_path / "Case_001", SHAPE)
    assert (
        main(
            [
                "predict",
                str(case),
                "-o",
                str(tmp_path / "out"),
                "--model",
                str(folder),
                "--device",
                "cpu",
                "--brats-like",
            ]
        )
        == 2
    )
    assert "weights.pt: 1 weight tensor(s) hold NaN" in _error_line(capsys)
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


def test_non_finite_model_outputs_give_no_result(model: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    case = make_case(SHAPE, with_labels=False)
    predictor = Predictor(ModelBundle.load(model), device="cpu")

    def nan_logits(image, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        yield from ()
        return np.full((3, *image.shape[1:]), np.nan, np.float32)

    monkeypatch.setattr("segmentation_core.inference.predictor.sliding_window", nan_logits)
    with pytest.raises(ValueError, match="produced NaN or infinite outputs; no result was made"):
        run_prediction(predictor, case)


def test_blank_sequences_are_refused_by_the_predictor_itself(model: Path) -> None:
    case = make_case(SHAPE, with_labels=False)
    case.channels["flair"].array[...] = 0
    with pytest.raises(ValueError, match=r"cannot segment: flair \(Synthetic_001_flair.nii.gz\) is blank"):
        run_prediction(Predictor(ModelBundle.load(model), device="cpu"), case)


# ---------------------------------------------------------------- item 12: bundle fields, patch size
@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [
        ("patch_size", "abc", "field 'patch_size' must be list"),
        ("patch_size", [1024, 1024, 1024], "larger than 512 voxels per side"),
        ("architecture", [4, 3], "field 'architecture' must be dict"),
        ("channels", 4, "field 'channels' must be list"),
        ("spacing", ["x", 1, 1], "field 'spacing' must be a list of numbers"),
        ("weights", 5, "field 'weights' must be str"),
        ("format_version", "1", "field 'format_version' must be int"),
    ],
)
def test_bundle_fields_of_the_wrong_type_are_one_clear_line(
    tmp_path: Path, field, value, problem, capsys
) -> None:
    folder = make_tiny_bundle(tmp_path / "model")
    card = json.loads((folder / "model.json").read_text())
    card[field] = value
    (folder / "model.json").write_text(json.dumps(card))
    with pytest.raises(BundleError, match="model.json: "):
        ModelBundle.load(folder)
    case = write_brats_case(tmp_path / "Case_001", SHAPE)
    assert (
        main(["predict", str(case), "-o", str(tmp_path / "o"), "--model", str(folder), "--brats-like"]) == 2
    )
    line = _error_line(capsys)
    assert problem in line and "model.json" in line


# ---------------------------------------------------------------- item 14: batch predict
def test_batch_predict_tries_every_case_and_lists_failures(
    tmp_path: Path, model: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    root = tmp_path / "cases"
    for name in ("Case_A", "Case_B", "Case_C"):
        write_brats_case(root / name, SHAPE, case_id=name)
    real = load_case

    def flaky(source, **kwargs):  # noqa: ANN001, ANN003, ANN202
        if Path(source).name == "Case_A":
            raise RuntimeError("an unexpected failure\nover two lines")
        return real(source, **kwargs)

    monkeypatch.setattr("segmentation_core.io.load_case", flaky)
    (root / "Case_C" / "Case_C_t2.nii.gz").write_bytes(b"broken")
    assert (
        main(
            [
                "predict",
                str(root),
                "-o",
                str(tmp_path / "out"),
                "--model",
                str(model),
                "--device",
                "cpu",
                "--brats-like",
            ]
        )
        == 1
    )
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert "2 of 3 cases failed: Case_A, Case_C" in err
    assert "  Case_A: an unexpected failure over two lines" in err
    assert sorted(p.name for p in (tmp_path / "out").glob("*.nii.gz")) == ["Case_B_pred.nii.gz"]


# ---------------------------------------------------------------- item 15: DICOM study, --dicom-role
def _study(folder: Path) -> Path:
    descriptions = {"t1": "AX T1 SE", "t1ce": "AX T1 +C", "t2": "AX T2 FSE", "flair": "AX T2 FLAIR"}
    for number, (role, text) in enumerate(descriptions.items(), start=1):
        write_dicom_series(folder / f"series_{role}", text, slices=6, series_number=number)
    return folder


def test_a_dicom_study_with_one_subfolder_per_series_is_one_case(tmp_path: Path, model: Path, capsys) -> None:
    study = _study(tmp_path / "root" / "study")
    assert find_cases(tmp_path / "root") == [study]
    out = tmp_path / "out"
    assert (
        main(
            [
                "predict",
                str(tmp_path / "root"),
                "-o",
                str(out),
                "--model",
                str(model),
                "--device",
                "cpu",
                "--brats-like",
            ]
        )
        == 0
    )
    assert len(list(out.glob("*_pred.nii.gz"))) == 1


def test_predict_takes_dicom_roles(tmp_path: Path, model: Path, capsys) -> None:
    study = tmp_path / "flat"
    for number, text in enumerate(["AX T1 SE", "MYSTERY", "AX T2 FSE", "AX T2 FLAIR"], start=1):
        write_dicom_series(study, text, slices=6, series_number=number)
    args = ["predict", str(study), "--model", str(model), "--device", "cpu", "--brats-like"]
    assert main([*args, "-o", str(tmp_path / "a")]) == 2
    assert "2 series look like t2" in _error_line(capsys)  # MYSTERY is taken for a T2
    roles = ["--dicom-role", "t1ce=2", "--dicom-role", "t2=AX T2 FSE"]
    assert main([*args, "-o", str(tmp_path / "b"), *roles]) == 0
    assert len(list((tmp_path / "b").glob("*_pred.nii.gz"))) == 1
    assert main([*args, "-o", str(tmp_path / "c"), "--dicom-role", "t1ce"]) == 2
    assert "write it as SEQ=SERIES" in _error_line(capsys)


# ---------------------------------------------------------------- item 16: evaluate reads the sidecar
def test_evaluate_reads_the_scheme_from_the_prediction_sidecar(tmp_path: Path, capsys) -> None:
    case = load_case(write_brats_case(tmp_path / "Case_001", (24, 24, 24)))
    labels = case.labels.array
    pred = write_label_map(
        labels,
        case,
        tmp_path / "pred" / "Case_001.nii.gz" if (tmp_path / "pred").mkdir() is None else None,
        scheme="msd",
    )
    ref = tmp_path / "Case_001_seg.nii.gz"
    nib.save(nib.load(tmp_path / "Case_001" / "Case_001_seg.nii.gz"), ref)
    csv = tmp_path / "scores.csv"
    assert main(["evaluate", str(pred), str(ref), "--csv", str(csv)]) == 0
    rows = {r.split(",")[1]: float(r.split(",")[2]) for r in csv.read_text().splitlines()[1:4]}
    assert rows == {"WT": 1.0, "TC": 1.0, "ET": 1.0}
    capsys.readouterr()
    (
        tmp_path / "pred" / "Case_001.json"
    ).unlink()  # without its sidecar the scheme is guessed, with a warning
    assert main(["evaluate", str(pred), str(ref), "--csv", str(csv)]) == 0
    assert "warning: Case_001.nii.gz: label scheme read as BraTS 2023" in capsys.readouterr().err
    assert {r.split(",")[1]: float(r.split(",")[2]) for r in csv.read_text().splitlines()[1:4]}["TC"] < 1.0


# ---------------------------------------------------------------- item 17: the smaller ones
def test_no_cases_found_names_the_missing_sequence(tmp_path: Path, model: Path, capsys) -> None:
    root = tmp_path / "cases"
    write_brats_case(root / "Case_001", SHAPE)
    (root / "Case_001" / "Case_001_flair.nii.gz").unlink()
    assert main(["predict", str(root), "-o", str(tmp_path / "o"), "--model", str(model), "--brats-like"]) == 2
    line = _error_line(capsys)
    assert "Case_001: no complete case found: this folder lacks the flair sequence(s)" in line


def test_permission_denied_is_said_as_such(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    folder = write_brats_case(tmp_path / "Case_001", SHAPE)

    def denied(path, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr("segmentation_core.io.nifti.nib.load", denied)
    assert main(["info", str(folder)]) == 2
    line = _error_line(capsys)
    assert "permission denied" in line and "re-download" not in line


def test_non_utf8_file_names_print_under_a_strict_utf8_locale(tmp_path: Path) -> None:
    folder = Path(os.fsdecode(os.fsencode(tmp_path) + b"/Case\xff"))
    write_brats_case(folder, SHAPE, case_id=os.fsdecode(b"Case\xff"))
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONIOENCODING": "utf-8:strict", "LC_ALL": "C.UTF-8"}
    code = "import sys; from segmentation_core.cli import main; sys.exit(main(sys.argv[1:]))"
    done = subprocess.run(
        [sys.executable, "-c", code, "info", folder], capture_output=True, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    assert b"Case\\udcff_t1.nii.gz" in done.stdout and b"Traceback" not in done.stderr


def test_multi_line_errors_are_printed_as_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    def fail(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise ValueError("first line\nsecond line\n\n  third")

    monkeypatch.setattr("segmentation_core.cli.info.load_case", fail)
    assert main(["info", str(tmp_path)]) == 2
    assert _error_line(capsys) == "error: first line second line third"
    monkeypatch.setattr("segmentation_core.cli.info.load_case", lambda *a, **k: {}["missing key"])
    assert main(["info", str(tmp_path)]) == 2  # even an unexpected error type is one line, no traceback
    assert _error_line(capsys).startswith("error: unexpected KeyError: 'missing key'")
