"""The retrain job (Qt-free): child command line, JSON-lines progress, resumable runs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from app.jobs.retrain import (
    RetrainRequest,
    TrainingHistory,
    held_out_names,
    new_run_dir,
    read_held_out,
    resumable_run,
)
from segmentation_core.training.progress import (
    DoneEvent,
    EpochEvent,
    ErrorEvent,
    ProgressReporter,
    ProgressSchemaError,
    event_from_record,
    parse_event,
)
from tests.core.io_fixtures import write_brats_case
from tests.core.model_fixtures import make_tiny_bundle

#: A stand-in for ``brats-seg train --json-progress``: same arguments, same JSON-lines protocol.
#: FAKE_EPOCH_S sets the time per epoch; FAKE_IGNORE_TERM=1 makes it ignore SIGTERM (to test kill).
FAKE_CHILD = r"""
import argparse, json, os, shutil, signal, sys, time
from pathlib import Path

p = argparse.ArgumentParser()
for name in ("--init", "--data", "--out", "--device"):
    p.add_argument(name)
p.add_argument("--epochs", type=int)
p.add_argument("--val-cases", nargs="+", default=[])
p.add_argument("--name", default="brats-unet")
p.add_argument("--json-progress", action="store_true")
p.add_argument("--resume", action="store_true")
a = p.parse_args(sys.argv[1:])
if os.environ.get("FAKE_IGNORE_TERM") == "1":
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
out = Path(a.out)
out.mkdir(parents=True, exist_ok=True)
ckpt = out / "last.pt"
delay = float(os.environ.get("FAKE_EPOCH_S", "0.02"))
def emit(event, **fields):
    print(json.dumps({"event": event, "time": time.time(), **fields}), flush=True)
print("log: starting", flush=True)
start = 0
if a.resume:
    start = json.loads(ckpt.read_text())["epoch"]
    emit("resumed", iteration=2 * start, checkpoint=str(ckpt))
emit("start", train_cases=[], val_cases=a.val_cases, iterations=2 * a.epochs, start_iteration=2 * start)
for epoch in range(start + 1, a.epochs + 1):
    time.sleep(delay)
    ckpt.write_text(json.dumps({"epoch": epoch}))
    mean = {r: {"dice": d + 0.04 * epoch, "hd95": 9.0} for r, d in (("WT", 0.5), ("TC", 0.4), ("ET", 0.3))}
    emit("epoch", epoch=epoch, step=2 * epoch, loss=1.0 / (epoch + 1), lr=0.01,
         eta_s=(a.epochs - epoch) * delay, val={"cases": {}, "mean": mean}, checkpoint=str(ckpt))
shutil.copy(Path(a.init) / "weights.pt", out / "weights.pt")
model = json.loads((Path(a.init) / "model.json").read_text())
# as the real trainer: the run's name, and without --val-cases the first case is held out to validate
data = Path(a.data)
held_out = a.val_cases or sorted(p.name for p in data.iterdir() if p.is_dir())[:1] if data.is_dir() else []
model.update(name=a.name, training={"data": a.data, "val_cases": held_out})
(out / "model.json").write_text(json.dumps(model))
(out / "cache").mkdir(exist_ok=True)
emit("done", bundle=str(out), iteration=2 * a.epochs)
"""


def write_fake_child(folder: Path) -> Path:
    path = folder / "fake_train.py"
    path.write_text(FAKE_CHILD)
    return path


def fake_command(script: Path):  # noqa: ANN201 (a command factory for RetrainRequest)
    """Command factory running the fake child with the arguments the real one would get."""

    def command(request: RetrainRequest) -> list[str]:
        real = request.command(frozen=False)
        return [sys.executable, str(script), *real[4:]]

    return command


def request(tmp_path: Path, **kw) -> RetrainRequest:  # noqa: ANN003
    return RetrainRequest(
        data_dir=tmp_path / "lib", init_bundle=tmp_path / "init", out_dir=tmp_path / "run", epochs=3, **kw
    )


def test_command_line_from_source_and_frozen(tmp_path: Path) -> None:
    req = request(tmp_path, device="cpu")
    tail = [
        "--init", str(tmp_path / "init"), "--data", str(tmp_path / "lib"), "--out", str(tmp_path / "run"),
        "--epochs", "3", "--device", "cpu", "--json-progress",
    ]  # fmt: skip
    assert req.command(executable="/py", frozen=False) == ["/py", "-m", "segmentation_core", "train", *tail]
    assert req.command(executable="/app/brats-viewer", frozen=True) == [
        "/app/brats-viewer", "--no-gui", "train", *tail,
    ]  # fmt: skip
    resumed = request(tmp_path, resume=True, val_cases=("A", "B")).command(executable="/py", frozen=False)
    assert resumed[-5:] == ["--json-progress", "--val-cases", "A", "B", "--resume"]
    extra = request(tmp_path, extra_args=("--iterations-per-epoch", "2")).command(
        executable="/py", frozen=False
    )
    assert extra[-3:] == ["--json-progress", "--iterations-per-epoch", "2"]
    assert request(tmp_path).command()[:2] == [sys.executable, "-m"]


def test_parse_event_reads_only_events_of_the_schema() -> None:
    event = parse_event('{"event": "epoch", "epoch": 2, "epochs": 5, "loss": 0.5, "eta_s": 12}\n')
    assert event == EpochEvent(2, 5, None, 0.5, None, 12.0, {}, None)
    assert parse_event('{"event": "done", "bundle": "/r", "iteration": 8}') == DoneEvent("/r", 8)
    assert parse_event('{"epoch": 1, "loss": 0.5}') is None  # no event kind: not progress
    assert parse_event('{"event": "epoch", "loss": 0.5}') is None  # the epoch is required
    assert parse_event('{"event": "epoch", "epoch": "one"}') is None
    for text in ("Epoch 1 loss 0.5", "{broken", "[1, 2]", ""):
        assert parse_event(text) is None


def test_history_accumulates_loss_dice_eta_and_checkpoint() -> None:
    def epoch(n: int, **fields: object) -> EpochEvent:
        return EpochEvent.from_record({"event": "epoch", "epoch": n, **fields})

    history = TrainingHistory(epochs=3)
    history.feed(epoch(1, loss=0.9, eta_s=30))
    history.feed(epoch(2, loss=0.6, eta_s=-3))
    mean = {"WT": {"dice": 0.8, "hd95": 3.0}, "TC": {"dice": 0.6}, "ET": {"dice": float("nan")}}
    history.feed(epoch(2, val={"cases": {}, "mean": mean}, checkpoint="/r/last.pt"))
    history.feed(epoch(3, val={"cases": {"A": {}}, "mean": {"WT": {"dice": 0.9}, "ET": {"dice": 0.1}}}))
    history.feed(ErrorEvent("out of memory"))
    assert history.loss == [(1.0, 0.9), (2.0, 0.6)]
    assert history.dice == {"WT": [(2.0, 0.8), (3.0, 0.9)], "TC": [(2.0, 0.6)], "ET": [(3.0, 0.1)]}
    assert history.eta_s == 0.0 and history.checkpoint == "/r/last.pt" and history.error == "out of memory"
    assert history.epoch == 3 and history.fraction == 1.0 and history.events == 5


def test_the_reporter_refuses_events_outside_the_schema() -> None:
    import io

    stream = io.StringIO()
    reporter = ProgressReporter(json_lines=True, stream=stream)
    reporter.emit("epoch", epoch=1, epochs=2, loss=0.25)
    assert parse_event(stream.getvalue()) == EpochEvent(1, 2, None, 0.25, None, None, {}, None)
    with pytest.raises(ProgressSchemaError, match="unknown training event 'epoch_end'"):
        reporter.emit("epoch_end", epoch=1)
    with pytest.raises(ProgressSchemaError, match="'loss' must be a number"):
        reporter.emit("epoch", epoch=1, loss="low")


def test_held_out_names_keep_the_validation_set_out_of_training(tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    cases = [lib / "A", lib / "B", lib / "C"]
    assert held_out_names(cases, None) == ()
    assert held_out_names(cases, [lib / "C", lib / "A", tmp_path / "elsewhere" / "B"]) == ("A", "C")
    assert held_out_names(cases, cases) == ()  # nothing would be left to train on


def test_read_held_out_from_the_run_bundle(tmp_path: Path) -> None:
    for name in ("P1", "P2", "P3"):
        write_brats_case(tmp_path / "lib" / name, shape=(8, 8, 8), case_id=name)
    bundle = make_tiny_bundle(tmp_path / "run")
    card = json.loads((bundle / "model.json").read_text())
    card["training"] = {"data": str(tmp_path / "lib"), "val_cases": ["P3", "P1"]}
    (bundle / "model.json").write_text(json.dumps(card))
    assert read_held_out(bundle) == [tmp_path / "lib" / "P1", tmp_path / "lib" / "P3"]
    assert read_held_out(make_tiny_bundle(tmp_path / "plain")) is None


def test_new_run_dir_never_reuses_a_folder(tmp_path: Path) -> None:
    first = new_run_dir(tmp_path)
    first.mkdir()
    second = new_run_dir(tmp_path)
    assert second != first and second.parent == tmp_path and not second.exists()


def test_resumable_run_finds_the_newest_cancelled_run_with_a_checkpoint(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    assert resumable_run(runs) is None
    for name, status, has_ckpt in (
        ("20260101-000000", "cancelled", True),
        ("20260102-000000", "cancelled", False),
        ("20260103-000000", "registered", True),
    ):
        req = RetrainRequest(
            tmp_path / "lib", tmp_path / "init", runs / name, 5, "cpu", base_version=2, val_cases=("V",)
        )
        req.write_record(status)
        if has_ckpt:
            (runs / name / "last.pt").write_bytes(b"x")
        else:  # bundle weights from validation are not a resumable checkpoint
            (runs / name / "best").mkdir()
            (runs / name / "best" / "weights.pt").write_bytes(b"x")
    found = resumable_run(runs)
    assert found == RetrainRequest(
        tmp_path / "lib", tmp_path / "init", runs / "20260101-000000", 5, "cpu", True, 2, ("V",)
    )


def test_fake_child_speaks_the_protocol_and_resumes(tmp_path: Path) -> None:
    """The stand-in child used by the GUI tests prints what TrainingHistory expects."""
    init = make_tiny_bundle(tmp_path / "init")
    script = write_fake_child(tmp_path)
    out = subprocess.run(fake_command(script)(request(tmp_path)), capture_output=True, text=True, check=True)
    history = TrainingHistory(epochs=3)
    for line in out.stdout.splitlines():
        if (event := parse_event(line)) is not None:
            history.feed(event)
    assert history.loss == [(1.0, 0.5), (2.0, 1 / 3), (3.0, 0.25)]
    assert [(x, round(y, 6)) for x, y in history.dice["WT"]] == [(1.0, 0.54), (2.0, 0.58), (3.0, 0.62)]
    assert history.bundle == str(tmp_path / "run")
    partial = RetrainRequest(tmp_path / "lib", init, tmp_path / "run2", 3, resume=True, val_cases=("A",))
    partial.out_dir.mkdir()
    (partial.out_dir / "last.pt").write_text('{"epoch": 2}')
    resumed = subprocess.run(fake_command(script)(partial), capture_output=True, text=True, check=True).stdout
    events = [e for line in resumed.splitlines() if (e := parse_event(line)) is not None]
    assert [(e.kind, getattr(e, "epoch", None)) for e in events] == [
        ("resumed", None), ("start", None), ("epoch", 3), ("done", None),
    ]  # fmt: skip
    assert events[1].val_cases == ("A",)


def test_real_cli_is_reachable() -> None:
    """``python -m segmentation_core train --help`` exists (the training CLI is installed)."""
    req = RetrainRequest(Path("d"), Path("i"), Path("o"), 1)
    argv = req.command(frozen=False)[:4] + ["--help"]
    result = subprocess.run(argv, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    for flag in ("--init", "--data", "--out", "--epochs", "--device", "--json-progress", "--resume"):
        assert flag in result.stdout


def test_find_run_bundle_prefers_the_reported_folder(tmp_path: Path) -> None:
    from app.jobs.retrain import find_run_bundle
    from segmentation_core.registry import RegistryError

    out = tmp_path / "run"
    (out / "bundle").mkdir(parents=True)
    with pytest.raises(RegistryError, match="wrote no model bundle"):
        find_run_bundle(out, TrainingHistory())
    (out / "bundle" / "model.json").write_text("{}")
    assert find_run_bundle(out, TrainingHistory()) == out / "bundle"
    (out / "model.json").write_text("{}")
    assert find_run_bundle(out, TrainingHistory()) == out
    reported = tmp_path / "elsewhere"
    reported.mkdir()
    (reported / "model.json").write_text("{}")
    assert find_run_bundle(out, TrainingHistory(bundle=str(reported))) == reported


def test_step_events_give_progress_inside_an_epoch() -> None:
    history = TrainingHistory(epochs=2)
    history.feed(event_from_record({"event": "start", "iterations": 8, "start_iteration": 0}))
    assert history.fraction == 0.0
    history.feed(
        event_from_record(
            {"event": "step", "epoch": 1, "epochs": 2, "iteration": 3, "iterations": 8, "step_loss": 0.9}
        )
    )
    assert history.fraction == 3 / 8 and history.loss == []  # a step's loss is not an epoch's mean
    assert history.step_loss == [(0.75, 0.9)]
    history.feed(event_from_record({"event": "epoch", "epoch": 1, "epochs": 2, "step": 4, "loss": 0.8}))
    assert (history.iteration, history.fraction, history.loss) == (4, 0.5, [(1.0, 0.8)])
    history.feed(
        event_from_record(
            {"event": "step", "epoch": 2, "epochs": 2, "iteration": 6, "iterations": 8, "step_loss": 0.7}
        )
    )
    assert history.fraction == 6 / 8 and history.step_loss[-1] == (1.5, 0.7)


def test_too_few_cases_and_the_training_case_count(tmp_path: Path) -> None:
    from app.jobs.retrain import fine_tuned_name, too_few_cases, training_case_count

    cases = [tmp_path / "A", tmp_path / "B", tmp_path / "C"]
    assert too_few_cases(cases, tmp_path) is None
    assert too_few_cases(cases[:1], tmp_path).startswith(f"{tmp_path}: one case with labels.")
    assert too_few_cases([], tmp_path).startswith(f"{tmp_path}: no cases with labels.")
    assert training_case_count(cases, [tmp_path / "B"]) == 2
    assert training_case_count(cases, None) == 3
    bundle = make_tiny_bundle(tmp_path / "bundle")
    name = json.loads((bundle / "model.json").read_text())["name"]
    assert fine_tuned_name(bundle) == f"{name}-finetuned"
    data = json.loads((bundle / "model.json").read_text())
    (bundle / "model.json").write_text(json.dumps({**data, "name": f"{name}-finetuned"}))
    assert fine_tuned_name(bundle) == f"{name}-finetuned"  # not "-finetuned-finetuned"
