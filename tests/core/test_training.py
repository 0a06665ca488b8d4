"""Training pipeline on tiny synthetic cases: loss goes down, exact resume, fine-tuning, bad data, DDP."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from segmentation_core.io import CaseLoadError
from segmentation_core.models.bundle import ModelBundle
from segmentation_core.training.checkpoint import LAST, load_checkpoint
from segmentation_core.training.config import TrainConfig
from segmentation_core.training.data import DatasetError
from segmentation_core.training.progress import ProgressReporter
from segmentation_core.training.trainer import Trainer
from tests.core.io_fixtures import write_brats_case
from tests.core.model_fixtures import make_tiny_bundle

REPO = Path(__file__).resolve().parents[2]
SHAPE = (24, 24, 24)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("data")
    for i in range(3):
        write_brats_case(root / f"Case_{i:03d}", shape=SHAPE, case_id=f"Case_{i:03d}", seed=i)
    return root


def tiny_config(data: Path, out: Path, **overrides) -> TrainConfig:
    settings = dict(
        epochs=2,
        iterations_per_epoch=4,
        batch_size=2,
        patch_size=(16, 16, 16),
        spacing=None,
        base_filters=4,
        depth=3,
        lr=1e-2,
        val_every=0,
        seed=3,
    )
    settings.update(overrides)
    return TrainConfig(data=data, out=out, **settings)


def test_two_epochs_lower_the_loss_and_write_a_bundle(dataset, tmp_path) -> None:
    trainer = Trainer(tiny_config(dataset, tmp_path / "run", epochs=3))
    out = trainer.run()
    losses = [record["loss"] for record in trainer.history]
    assert len(losses) == 3 and losses[-1] < losses[0]
    bundle = ModelBundle.load(out)
    assert bundle.training["iterations_done"] == 12
    assert bundle.training["val_cases"] == ["Case_001"]  # the seeded hold-out for seed 3
    assert sorted(bundle.data_fingerprint) == ["Case_000", "Case_002"]
    assert len(bundle.data_fingerprint["Case_000"]["Case_000_t1.nii.gz"]) == 64
    assert bundle.load_network()(torch.zeros(1, 4, 16, 16, 16)).shape == (1, 3, 16, 16, 16)


@pytest.mark.parametrize("augmentation", ["default", "strong"])
def test_resume_after_interruption_matches_an_uninterrupted_run(dataset, tmp_path, augmentation) -> None:
    straight = Trainer(tiny_config(dataset, tmp_path / "a", augmentation=augmentation))
    straight.run()
    interrupted = Trainer(tiny_config(dataset, tmp_path / "b", augmentation=augmentation))
    interrupted.run(stop_after=4)  # as if killed right after the first epoch's checkpoint
    assert (
        load_checkpoint(tmp_path / "b" / LAST, torch.device("cpu"))["config"]["augmentation"] == augmentation
    )
    resumed = Trainer(tiny_config(dataset, tmp_path / "b", augmentation=augmentation))
    resumed.resume()
    assert resumed.iteration == 4
    resumed.run()
    a, b = straight.network.state_dict(), resumed.network.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert [r["loss"] for r in straight.history] == [r["loss"] for r in resumed.history]
    assert straight.optimizer.param_groups[0]["lr"] == resumed.optimizer.param_groups[0]["lr"]


def test_fine_tune_starts_from_the_bundle_weights(dataset, tmp_path) -> None:
    base = make_tiny_bundle(tmp_path / "base")
    trainer = Trainer(tiny_config(dataset, tmp_path / "ft", init=base, base_filters=8, epochs=1))
    start = ModelBundle.load(base).load_network().state_dict()
    assert all(torch.equal(start[k], v) for k, v in trainer.network.state_dict().items())
    out = trainer.run()
    bundle = ModelBundle.load(out)
    assert bundle.architecture["base_filters"] == 4  # taken from the base bundle, not the config
    assert bundle.training["base_model"] == "tiny-test-model v1"


def test_fine_tune_with_deep_supervision_adds_the_lower_heads_to_the_bundle_weights(
    dataset, tmp_path
) -> None:
    base = make_tiny_bundle(tmp_path / "base")
    trainer = Trainer(tiny_config(dataset, tmp_path / "ds", init=base, deep_supervision=True, epochs=1))
    start = ModelBundle.load(base).load_network().state_dict()
    state = trainer.network.state_dict()
    assert sorted(set(state) - set(start)) == ["heads.1.bias", "heads.1.weight"]  # depth 3: one lower head
    assert all(torch.equal(start[k], state[k]) for k in start)
    trainer.network.train()
    outputs = trainer.network(torch.zeros(1, 4, 16, 16, 16))
    assert [tuple(o.shape) for o in outputs] == [(1, 3, 16, 16, 16), (1, 3, 8, 8, 8)]
    out = trainer.run()
    assert ModelBundle.load(out).load_network()(torch.zeros(1, 4, 16, 16, 16)).shape == (1, 3, 16, 16, 16)


def test_json_progress_lines(dataset, tmp_path, capsys, monkeypatch) -> None:
    import segmentation_core.training.trainer as trainer_module

    monkeypatch.setattr(trainer_module, "STEP_REPORT_S", 0.0)  # every step inside the epoch
    trainer = Trainer(tiny_config(dataset, tmp_path / "j", epochs=1), ProgressReporter(json_lines=True))
    trainer.run()
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["event"] for line in lines] == ["start", "step", "step", "step", "epoch", "done"]
    steps = lines[1:4]
    assert [(s["epoch"], s["epochs"], s["iteration"], s["iterations"]) for s in steps] == [
        (1, 1, 1, 4),
        (1, 1, 2, 4),
        (1, 1, 3, 4),
    ]
    assert all(s["step_loss"] > 0 and s["eta_s"] >= 0 for s in steps)
    epoch = lines[4]
    assert epoch["epoch"] == 1 and epoch["step"] == 4
    assert epoch["epochs"] == 1 and set(epoch) >= {"loss", "lr", "eta_s", "checkpoint"}
    assert Path(epoch["checkpoint"]).name == "last.pt"


def test_step_reports_are_throttled(dataset, tmp_path, capsys, monkeypatch) -> None:
    import segmentation_core.training.trainer as trainer_module

    monkeypatch.setattr(trainer_module, "STEP_REPORT_S", 1e9)
    Trainer(tiny_config(dataset, tmp_path / "t", epochs=2), ProgressReporter(json_lines=True)).run()
    events = [json.loads(line)["event"] for line in capsys.readouterr().out.splitlines()]
    assert events == ["start", "step", "epoch", "epoch", "done"]  # only the very first step


def test_single_case_is_refused(tmp_path) -> None:
    write_brats_case(tmp_path / "data" / "Only", shape=SHAPE, case_id="Only")
    with pytest.raises(DatasetError, match="found 1 case.*at least 2"):
        Trainer(tiny_config(tmp_path / "data", tmp_path / "out"))


def test_case_without_labels_is_refused(tmp_path) -> None:
    for i in range(3):
        write_brats_case(tmp_path / "data" / f"C{i}", shape=SHAPE, case_id=f"C{i}", with_seg=i != 1)
    trainer = Trainer(tiny_config(tmp_path / "data", tmp_path / "out", val_cases=["C0"]))
    with pytest.raises(DatasetError, match="'C1' has no reference labels"):
        trainer.run()


def test_unknown_label_values_are_refused(tmp_path) -> None:
    import nibabel as nib

    for i in range(3):
        write_brats_case(tmp_path / "data" / f"C{i}", shape=SHAPE, case_id=f"C{i}")
    seg_path = tmp_path / "data" / "C2" / "C2_seg.nii.gz"
    seg = nib.load(seg_path)
    data = np.asarray(seg.dataobj).copy()
    data[0, 0, 0] = 7
    nib.save(nib.Nifti1Image(data, seg.affine, seg.header), seg_path)
    trainer = Trainer(tiny_config(tmp_path / "data", tmp_path / "out", val_cases=["C0"]))
    with pytest.raises(CaseLoadError, match="7"):
        trainer.run()


def _first_failure(stderr: str) -> str:
    """Every rank's own lines (the rank that crashed first may not be the one torchrun reports)."""
    rank_lines = [line for line in stderr.splitlines() if line.startswith("[rank")]
    others = [line for line in rank_lines if not line.startswith("[rank0]")]
    return "\n".join(others[-40:] + rank_lines[-40:]) or stderr[-3000:]


def test_loopback_interface_is_found() -> None:
    from segmentation_core.training.distributed import loopback_interface

    assert loopback_interface() in {"lo", "lo0"}


def test_two_process_ddp_on_cpu(dataset, tmp_path) -> None:
    out = tmp_path / "ddp"
    command = [
        sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
        "-m", "segmentation_core.training", "--data", str(dataset), "--out", str(out), "--epochs", "1",
        "--iterations-per-epoch", "2", "--patch-size", "16", "16", "16", "--native-spacing",
        "--base-filters", "4", "--depth", "3", "--val-every", "0", "--threads", "1", "--json-progress",
    ]  # fmt: skip
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=540)
    assert result.returncode == 0, _first_failure(result.stderr)
    events = [json.loads(line)["event"] for line in result.stdout.splitlines() if line.startswith("{")]
    assert events.count("start") == 2  # both ranks started
    assert events.count("done") == 1  # only rank 0 writes the bundle
    assert ModelBundle.load(out).training["iterations_done"] == 2


def test_validation_runs_the_inference_engine_and_keeps_the_best_bundle(dataset, tmp_path) -> None:
    trainer = Trainer(tiny_config(dataset, tmp_path / "v", epochs=2, val_every=1))
    out = trainer.run()
    val = [record["val"] for record in trainer.history]
    assert len(val) == 2 and set(val[0]["cases"]) == {"Case_001"}
    assert set(val[0]["mean"]) == {"WT", "TC", "ET"} and set(val[0]["mean"]["WT"]) == {"dice", "hd95"}
    best_epoch = trainer.best["epoch"]
    assert ModelBundle.load(out).validation_metrics == val[best_epoch - 1]
    assert (tmp_path / "v" / "best" / "model.json").is_file()


def test_deep_supervision_trains_and_the_bundle_has_a_single_head(dataset, tmp_path) -> None:
    trainer = Trainer(tiny_config(dataset, tmp_path / "ds", epochs=1, deep_supervision=True))
    bundle = ModelBundle.load(trainer.run())
    assert bundle.architecture["deep_supervision"] is False
    assert bundle.load_network()(torch.zeros(1, 4, 16, 16, 16)).shape == (1, 3, 16, 16, 16)


def test_cli_reports_a_bad_dataset_as_a_json_error_line(tmp_path) -> None:
    write_brats_case(tmp_path / "data" / "Only", shape=SHAPE, case_id="Only")
    command = [
        sys.executable, "-m", "segmentation_core.training", "--data", str(tmp_path / "data"),
        "--out", str(tmp_path / "out"), "--json-progress",
    ]  # fmt: skip
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode == 2
    event = json.loads(result.stdout.splitlines()[-1])
    assert event["event"] == "error" and "found 1 case(s); training needs at least 2" in event["error"]
    assert "error: " in result.stderr and "Traceback" not in result.stderr
