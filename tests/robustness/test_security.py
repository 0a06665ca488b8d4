"""Issue 16 items 1-3: names from file contents, checkpoints and bundles are untrusted input."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
import torch

from segmentation_core.cli import main
from segmentation_core.cli.predict import output_path
from segmentation_core.io import load_case
from segmentation_core.io.safe_paths import inside, safe_name
from segmentation_core.models.bundle import BundleError, ModelBundle
from segmentation_core.training.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from tests.core.io_fixtures import write_dicom_case
from tests.core.model_fixtures import make_tiny_bundle


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("../x", "x"),
        ("/etc/passwd", "etc_passwd"),
        ("..", "case"),
        ("", "case"),
        ("Müller^Hans", "Muller_Hans"),
        ("a/../../b", "a_b"),
        ("C:\\\\evil", "C_evil"),
        (".hidden", "hidden"),
        ("TCGA-FG-6692", "TCGA-FG-6692"),
    ],
)
def test_names_from_file_contents_become_plain_file_names(text: str, expected: str) -> None:
    assert safe_name(text) == expected


@pytest.mark.parametrize("patient_id", ["../escaped", "/tmp/abs_escape", "../../x/../y"])
def test_a_dicom_patient_id_never_leads_predict_outside_its_output_folder(
    tmp_path: Path, patient_id: str, capsys
) -> None:
    write_dicom_case(tmp_path / "study", slices=6)
    for path in (tmp_path / "study").iterdir():
        import pydicom

        ds = pydicom.dcmread(path)
        ds.PatientID = patient_id
        ds.save_as(path)
    case = load_case(tmp_path / "study")
    out = tmp_path / "deep" / "out"
    target = output_path(out, case, single=False)
    assert target.parent == out and inside(out, target) == target
    assert "/" not in case.case_id and not case.case_id.startswith(".")
    model = make_tiny_bundle(tmp_path / "model")
    assert (
        main(
            [
                "predict",
                str(tmp_path / "study"),
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
    written = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*_pred.*"))
    assert [p.parent for p in written] == [Path("deep/out"), Path("deep/out")]


def test_inside_refuses_paths_that_leave_the_folder(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="refuses to write outside the output folder"):
        inside(tmp_path / "out", tmp_path / "out" / ".." / "x.nii.gz")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "link").symlink_to(tmp_path)
    with pytest.raises(ValueError):
        inside(tmp_path / "out", tmp_path / "out" / "link" / "x.nii.gz")


class _RunsCode:
    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):  # noqa: ANN204
        return (os.mkdir, (self.marker,))


def test_a_crafted_checkpoint_runs_no_code(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    with (tmp_path / "last.pt").open("wb") as fh:
        torch.save({"iteration": 1, "payload": _RunsCode(str(marker))}, fh, pickle_protocol=2)
    with pytest.raises(CheckpointError, match="cannot read the checkpoint safely"):
        load_checkpoint(tmp_path / "last.pt", torch.device("cpu"))
    assert not marker.exists()


def test_checkpoints_hold_only_tensors_and_plain_types(tmp_path: Path) -> None:
    from segmentation_core.training.checkpoint import rng_states

    path = save_checkpoint(tmp_path / "last.pt", {"iteration": 3, "history": [{"loss": 0.5}], "best": None})
    state = torch.load(path, weights_only=True)  # would raise for NumPy arrays or other objects
    assert state["iteration"] == 3 and set(state["rng"]) >= {"python", "numpy", "torch"}
    assert isinstance(rng_states()["numpy"]["state"], torch.Tensor)


@pytest.mark.parametrize("weights", ["../outside.pt", "/abs/weights.pt", "sub/weights.pt", "..", ""])
def test_bundle_weights_must_live_inside_the_bundle(tmp_path: Path, weights: str) -> None:
    folder = make_tiny_bundle(tmp_path / "bundle")
    shutil.copy(folder / "weights.pt", tmp_path / "outside.pt")
    card = json.loads((folder / "model.json").read_text())
    card["weights"] = weights
    (folder / "model.json").write_text(json.dumps(card))
    with pytest.raises(BundleError, match="must be a file inside the bundle folder"):
        ModelBundle.load(folder)


def test_bundle_weights_may_not_be_a_link_to_elsewhere(tmp_path: Path) -> None:
    folder = make_tiny_bundle(tmp_path / "bundle")
    (folder / "weights.pt").rename(tmp_path / "elsewhere.pt")
    (folder / "weights.pt").symlink_to(tmp_path / "elsewhere.pt")
    with pytest.raises(BundleError, match="symbolic link"):
        ModelBundle.load(folder)
