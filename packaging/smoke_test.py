"""Smoke test of the built one-folder app: the window's self-test, the frozen CLI and frozen retraining.

Usage: ``.venv/bin/python packaging/smoke_test.py [--app dist/brats-viewer/brats-viewer] [--work DIR]``

Checks, each with the frozen executable itself (never a ``python``):

1. ``--self-test`` renders every view and prints OK (under ``xvfb-run`` when there is no display);
2. ``--no-gui --help`` lists the info, predict, evaluate and train commands;
3. ``--no-gui train`` trains a tiny model from scratch on two small cases, then the retrain command the app
   itself builds (``app.jobs.retrain.RetrainRequest.command`` with the frozen executable) fine-tunes it;
4. ``--no-gui predict`` segments the small case with the bundled model (the tiny one when the build has
   none) and the label map is checked: source shape and affine, BraTS label values only;
5. ``--no-gui info`` and ``--no-gui evaluate`` run on the case and its prediction.

The small case is a 64 x 64 x 48 crop around the tumour of the bundled sample case, or a synthetic case
when the build has no sample; its left-right mirror image is the second training case.
Exits 0 when every check passes, 1 on a failed check, 2 on a missing build.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import nibabel as nib
import numpy as np

REPO = Path(__file__).resolve().parents[1]
DEFAULT_APP = REPO / "dist" / "brats-viewer" / "brats-viewer"
SEQUENCES = ("t1", "t1ce", "t2", "flair")
COMMANDS = ("info", "predict", "evaluate", "train")
BRATS_LABELS = {0, 1, 2, 4}
CASE_ID = "SmokeCase"
CROP_SHAPE = (64, 64, 48)
#: A tiny network and a short run: the point is that frozen training works, not what it learns.
TINY_TRAIN_ARGS = (
    "--iterations-per-epoch", "2", "--batch-size", "1", "--patch-size", "16", "16", "16",
    "--val-every", "0", "--threads", "2",
)  # fmt: skip
#: Training from scratch also loads patches in a DataLoader worker process of the frozen app.
SCRATCH_ARGS = ("--base-filters", "4", "--depth", "3", "--workers", "1")


class SmokeFailure(Exception):
    """One check of the smoke test failed; the message says which and why."""


@dataclass(frozen=True)
class Ran:
    """A finished command: exit status, captured output and wall time."""

    returncode: int
    stdout: str
    stderr: str
    seconds: float


#: Seconds any one command may take before it counts as hung (generous: CI machines may be shared).
TIMEOUT_S = float(os.environ.get("BRATS_SMOKE_TIMEOUT", "1800"))


def run(argv: list[str], env: dict[str, str] | None = None) -> Ran:
    """Run one command, capturing its output; a timeout (``BRATS_SMOKE_TIMEOUT``) is a failure, not a hang."""
    start = time.perf_counter()
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=TIMEOUT_S, env=env)
    except subprocess.TimeoutExpired as exc:
        raise SmokeFailure(f"{' '.join(argv[:3])} ... did not finish in {TIMEOUT_S:.0f} s") from exc
    return Ran(done.returncode, done.stdout, done.stderr, time.perf_counter() - start)


def expect_success(ran: Ran, what: str) -> Ran:
    """Raise ``SmokeFailure`` with the command's output when it exited non-zero."""
    if ran.returncode != 0:
        tail = (ran.stdout[-2000:] + "\n" + ran.stderr[-4000:]).strip()
        raise SmokeFailure(f"{what} exited with {ran.returncode}:\n{tail}")
    return ran


def gui_command(app: Path) -> tuple[list[str], dict[str, str]]:
    """The self-test command line: on the current display, else on a virtual one via ``xvfb-run``."""
    env = dict(os.environ, QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "xcb"))
    argv = [str(app), "--self-test"]
    if os.environ.get("DISPLAY"):
        return argv, env
    if shutil.which("xvfb-run") is None:
        raise SmokeFailure("no display and no xvfb-run: install xvfb (apt-get install xvfb xauth)")
    return ["xvfb-run", "-a", "-s", "-screen 0 1600x1200x24", *argv], env


def check_self_test(app: Path) -> float:
    """``--self-test`` must print OK and exit 0; returns its wall time."""
    argv, env = gui_command(app)
    ran = expect_success(run(argv, env=env), "--self-test")
    if "OK" not in ran.stdout.split():
        raise SmokeFailure(f"--self-test did not print OK:\n{ran.stdout}\n{ran.stderr}")
    return ran.seconds


def check_cli_help(app: Path) -> float:
    """``--no-gui --help`` must list every sub-command (they are found by pkgutil when frozen)."""
    ran = expect_success(run([str(app), "--no-gui", "--help"]), "--no-gui --help")
    missing = [name for name in COMMANDS if name not in ran.stdout]
    if missing:
        raise SmokeFailure(f"--no-gui --help lacks the sub-commands {missing}:\n{ran.stdout}")
    return ran.seconds


def internal_dir(app: Path) -> Path:
    """The one-folder build's data folder (``_internal`` next to the executable, or the folder itself)."""
    inner = app.parent / "_internal"
    return inner if inner.is_dir() else app.parent


def bundled_sample(app: Path) -> Path | None:
    """The sample case inside the build, if it has one."""
    folder = internal_dir(app) / "resources" / "sample"
    cases = sorted(p for p in folder.glob("*") if p.is_dir()) if folder.is_dir() else []
    return cases[0] if cases else None


def bundled_model(app: Path) -> Path | None:
    """The default model bundle inside the build, if it has one."""
    folder = internal_dir(app) / "resources" / "models" / "default"
    return folder if (folder / "model.json").is_file() else None


def crop_window(seg: np.ndarray, shape: tuple[int, int, int]) -> tuple[slice, ...]:
    """A ``shape`` window centred on the labelled voxels (the volume's centre when there are none)."""
    nonzero = np.argwhere(seg > 0)
    centre = nonzero.mean(axis=0) if len(nonzero) else np.array(seg.shape) / 2
    window = []
    for c, size, full in zip(centre, shape, seg.shape):
        start = int(np.clip(round(c - size / 2), 0, max(full - size, 0)))
        window.append(slice(start, start + min(size, full)))
    return tuple(window)


def write_cropped_case(sample: Path, out: Path) -> Path:
    """Crop the four sequences and the labels of a BraTS-named case around its tumour into ``out``."""
    files = {role: next(sample.glob(f"*_{role}.nii*"), None) for role in (*SEQUENCES, "seg")}
    missing = [role for role, path in files.items() if path is None]
    if missing:
        raise SmokeFailure(f"sample case {sample} lacks {missing}")
    window = crop_window(np.asarray(nib.load(files["seg"]).dataobj), CROP_SHAPE)
    case = out / CASE_ID
    case.mkdir(parents=True, exist_ok=True)
    for role, path in files.items():
        nib.save(nib.load(path).slicer[window], case / f"{CASE_ID}_{role}.nii.gz")
    return case


def write_synthetic_case(out: Path) -> Path:
    """A synthetic case: four noisy sequences with a bright sphere, labelled NCR/ED/ET shells, 1 x 1 x 1.5 mm."""
    rng = np.random.default_rng(0)
    grid = np.indices(CROP_SHAPE).astype(np.float32)
    centre = (np.array(CROP_SHAPE) / 2).reshape(3, 1, 1, 1)
    radius = np.sqrt(((grid - centre) ** 2).sum(axis=0))
    seg = np.select([radius < 5, radius < 9, radius < 15], [1, 4, 2], 0).astype(np.uint8)
    affine = np.diag([-1.0, -1.0, 1.5, 1.0])
    case = out / CASE_ID
    case.mkdir(parents=True, exist_ok=True)
    for index, role in enumerate(SEQUENCES):
        image = 100 + 50 * (seg > 0) * (index + 1) + rng.normal(0, 5, CROP_SHAPE)
        nib.save(nib.Nifti1Image(image.astype(np.float32), affine), case / f"{CASE_ID}_{role}.nii.gz")
    nib.save(nib.Nifti1Image(seg, affine), case / f"{CASE_ID}_seg.nii.gz")
    return case


def write_mirrored_case(case: Path) -> Path:
    """A second training case next to ``case``: its images and labels mirrored left-right."""
    twin = case.parent / f"{CASE_ID}Mirrored"
    twin.mkdir(exist_ok=True)
    for role in (*SEQUENCES, "seg"):
        image = nib.load(case / f"{CASE_ID}_{role}.nii.gz")
        mirrored = np.ascontiguousarray(np.flip(np.asarray(image.dataobj), axis=0))
        nib.save(nib.Nifti1Image(mirrored, image.affine, image.header), twin / f"{twin.name}_{role}.nii.gz")
    return twin


def bundle_from_stderr(stderr: str) -> Path:
    """The bundle folder ``train`` reports on its last ``model bundle written to`` line."""
    lines = [line for line in stderr.splitlines() if line.startswith("model bundle written to ")]
    if not lines:
        raise SmokeFailure(f"train did not say where it wrote the bundle:\n{stderr[-2000:]}")
    bundle = Path(lines[-1].removeprefix("model bundle written to ").strip())
    if not (bundle / "model.json").is_file():
        raise SmokeFailure(f"train reported {bundle}, which holds no model.json")
    return bundle


def check_train(app: Path, data: Path, work: Path) -> tuple[Path, float]:
    """Frozen ``train`` from scratch (tiny network): returns the bundle it wrote and its wall time."""
    argv = [str(app), "--no-gui", "train", "--data", str(data), "--out", str(work / "tiny")]
    argv += ["--epochs", "1", "--device", "cpu", *SCRATCH_ARGS, *TINY_TRAIN_ARGS]
    ran = expect_success(run(argv), "--no-gui train")
    return bundle_from_stderr(ran.stderr), ran.seconds


def retrain_command(app: Path, data: Path, init: Path, out: Path) -> list[str]:
    """The exact child command line the app's Retrain dialog runs when frozen."""
    sys.path.insert(0, str(REPO))
    from app.jobs.retrain import RetrainRequest

    request = RetrainRequest(
        data_dir=data, init_bundle=init, out_dir=out, epochs=1, device="cpu", extra_args=TINY_TRAIN_ARGS
    )
    return request.command(executable=str(app), frozen=True)


def check_retrain(app: Path, data: Path, init: Path, work: Path) -> float:
    """The retrain child (the frozen executable) must fine-tune, stream JSON lines and keep a checkpoint."""
    out = work / "retrain"
    argv = retrain_command(app, data, init, out)
    if argv[:3] != [str(app), "--no-gui", "train"]:
        raise SmokeFailure(f"the retrain child is not the frozen executable's train command: {argv}")
    ran = expect_success(run(argv), "retrain child")
    records = [json.loads(line) for line in ran.stdout.splitlines() if line.startswith("{")]
    if not records:
        raise SmokeFailure(f"the retrain child printed no JSON progress lines:\n{ran.stdout[-2000:]}")
    if not (out / "last.pt").is_file():
        raise SmokeFailure(f"the retrain child left no resumable checkpoint {out / 'last.pt'}")
    bundle_from_stderr(ran.stderr)
    return ran.seconds


def check_prediction(prediction: Path, reference: Path) -> None:
    """The label map must have the reference's shape and affine and only BraTS label values."""
    if not prediction.is_file():
        raise SmokeFailure(f"predict wrote no {prediction}")
    pred, ref = nib.load(prediction), nib.load(reference)
    if pred.shape != ref.shape:
        raise SmokeFailure(f"{prediction.name}: shape {pred.shape}, expected the source's {ref.shape}")
    if not np.allclose(pred.affine, ref.affine, atol=1e-4):
        raise SmokeFailure(
            f"{prediction.name}: affine differs from the source's:\n{pred.affine}\n{ref.affine}"
        )
    values = {int(v) for v in np.unique(np.asarray(pred.dataobj))}
    if not values <= BRATS_LABELS:
        raise SmokeFailure(
            f"{prediction.name}: label values {sorted(values)}, expected a subset of {{0, 1, 2, 4}}"
        )


def check_predict(app: Path, case: Path, model: Path | None, work: Path) -> tuple[Path, float]:
    """Frozen ``predict`` on the small case; returns the checked label map and the wall time."""
    out = work / "predictions"
    argv = [str(app), "--no-gui", "predict", str(case), "-o", str(out), "--device", "cpu"]
    argv += ["--model", str(model)] if model else []
    ran = expect_success(run(argv), "--no-gui predict")
    prediction = out / f"{CASE_ID}_pred.nii.gz"
    check_prediction(prediction, case / f"{CASE_ID}_flair.nii.gz")
    return prediction, ran.seconds


def smoke(app: Path, work: Path) -> dict[str, object]:
    """Run every check; returns the timings (raises ``SmokeFailure`` on the first failed check)."""
    report: dict[str, object] = {"app": str(app)}
    report["self_test_s"] = round(check_self_test(app), 2)
    print(f"ok  --self-test ({report['self_test_s']} s)", flush=True)
    report["cli_help_s"] = round(check_cli_help(app), 2)
    print(f"ok  --no-gui --help lists {', '.join(COMMANDS)} ({report['cli_help_s']} s)", flush=True)

    data = work / "cases"
    sample = bundled_sample(app)
    case = write_cropped_case(sample, data) if sample else write_synthetic_case(data)
    report["case"] = f"crop of {sample.name}" if sample else "synthetic"
    ran = expect_success(run([str(app), "--no-gui", "info", str(case)]), "--no-gui info")
    print(f"ok  --no-gui info on the {report['case']} case ({ran.seconds:.1f} s)", flush=True)

    write_mirrored_case(case)  # training holds one case out, so it needs two
    tiny, seconds = check_train(app, data, work)
    print(f"ok  --no-gui train from scratch wrote {tiny} ({seconds:.1f} s)", flush=True)
    report["retrain_s"] = round(check_retrain(app, data, tiny, work), 2)
    print(f"ok  retrain child (frozen executable) fine-tuned and kept last.pt ({report['retrain_s']} s)")

    model = bundled_model(app)
    report["model"] = "bundled" if model else "tiny (the build has no bundled model)"
    prediction, seconds = check_predict(app, case, None if model else tiny, work)
    report["predict_s"] = round(seconds, 2)
    print(f"ok  --no-gui predict with the {report['model']} model ({seconds:.1f} s)", flush=True)
    evaluate = [str(app), "--no-gui", "evaluate", str(prediction), str(case / f"{CASE_ID}_seg.nii.gz")]
    ran = expect_success(run(evaluate), "--no-gui evaluate")
    print(f"ok  --no-gui evaluate ({ran.seconds:.1f} s)\n{ran.stdout.strip()}", flush=True)
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--app", type=Path, default=DEFAULT_APP, help=f"the built executable (default {DEFAULT_APP})"
    )
    parser.add_argument(
        "--work", type=Path, help="keep the test files in this folder (default: a temporary one)"
    )
    args = parser.parse_args(argv)
    app = args.app.resolve()
    if not (app.is_file() and os.access(app, os.X_OK)):
        print(
            f"error: no built app at {app}: build it first with 'bash packaging/build.sh' (or pass --app)",
            file=sys.stderr,
        )
        return 2
    with tempfile.TemporaryDirectory(prefix="brats-smoke-") as tmp:
        work = args.work or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        try:
            report = smoke(app, work)
        except SmokeFailure as exc:
            print(f"FAILED: {exc}", file=sys.stderr)
            return 1
    print(json.dumps(report))
    print("smoke test passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
