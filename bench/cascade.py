"""Cascade inference benchmark: the 2 mm model on the whole case, then a 1 mm model around the tumour.

    .venv/bin/python -m bench.cascade [--case DIR] [--coarse DIR] [--fine DIR] [--threads N]

What a user would wait for if the cascade (``segmentation_core.inference.CascadePredictor``) were the
default, against the issue's 15 s target:

1. cold: a fresh child process reads the case, runs coarse + fine and writes the labels (time, CPU time,
   peak RSS);
2. warm, in this process: the coarse model alone, then the whole cascade, so the fine stage's share is
   their difference; the size of the fine window (network voxels) is reported.

``--coarse`` defaults to the bundled model; without ``--fine`` a randomly initialised bundle of the
`cascade-1mm-p64` recipe's size (1 mm, 64³ patches, default width) is timed: the cost does not depend on
the weights, only the window does (it follows the coarse tumour). Saves bench/results/cascade.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CASE = REPO / ".." / "shared" / "data" / "real" / "Brats18_CBICA_AME_1"  # a validation case
# bench/ itself must not be on the path (bench/packaging.py would shadow the `packaging` library)
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.append(str(REPO))

from bench._common import peak_rss_mb, random_bundle, save_results  # noqa: E402


def random_fine_bundle(folder: Path) -> Path:
    """A randomly initialised bundle sized as the `cascade-1mm-p64` recipe trains it."""
    from segmentation_core.training.crossval import RECIPES

    recipe = RECIPES["cascade-1mm-p64"]
    random_bundle(
        folder, "random-cascade-1mm-p64", patch_size=recipe["patch_size"], spacing=recipe["spacing"]
    )
    return folder


def cascade(coarse: Path, fine: Path, threads: int, margin_mm: float):  # noqa: ANN201
    """The CascadePredictor of two bundles on the CPU."""
    from segmentation_core.inference import CascadePredictor, Predictor
    from segmentation_core.models.bundle import ModelBundle

    return CascadePredictor(
        Predictor(ModelBundle.load(coarse), device="cpu", threads=threads),
        Predictor(ModelBundle.load(fine), device="cpu", threads=threads),
        margin_mm=margin_mm,
    )


def cold(case_dir: Path, coarse: Path, fine: Path, out: Path, threads: int, margin_mm: float) -> dict:
    """Read -> cascade -> labels written, in this (fresh) process."""
    start = time.perf_counter()
    from segmentation_core.inference import run_prediction
    from segmentation_core.io import load_case, write_label_map

    imported = time.perf_counter()
    cpu_start = time.process_time()
    case = load_case(case_dir)
    loaded = time.perf_counter()
    predictor = cascade(coarse, fine, threads, margin_mm)
    prediction = run_prediction(predictor, case)  # type: ignore[arg-type]
    predicted = time.perf_counter()
    write_label_map(prediction.labels, case, out / f"{case.case_id}_cascade.nii.gz", model_version="bench")
    written = time.perf_counter()
    return {
        "import_s": round(imported - start, 3),
        "read_s": round(loaded - imported, 3),
        "predict_s": round(predicted - loaded, 3),
        "write_s": round(written - predicted, 3),
        "end_to_end_s": round(written - imported, 3),
        "end_to_end_cpu_s": round(time.process_time() - cpu_start, 3),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "tumour_voxels": int((prediction.labels != 0).sum()),
    }


def warm(case_dir: Path, coarse: Path, fine: Path, threads: int, margin_mm: float) -> dict:
    """Coarse alone, then the cascade (each after a warm-up run), and the fine stage's window."""
    from segmentation_core.inference import run_prediction
    from segmentation_core.inference.cascade import network_window, tumour_box
    from segmentation_core.io import load_case
    from segmentation_core.preprocessing import preprocess

    case = load_case(case_dir)
    predictor = cascade(coarse, fine, threads, margin_mm)

    def timed(run):  # noqa: ANN001, ANN202 (a Predictor or CascadePredictor; (seconds, Prediction))
        run_prediction(run, case)  # warm-up
        started = time.perf_counter()
        prediction = run_prediction(run, case)
        return round(time.perf_counter() - started, 3), prediction

    coarse_s, coarse_prediction = timed(predictor.coarse)
    cascade_s, _ = timed(predictor)
    box = tumour_box(coarse_prediction.labels != 0, case.spacing, margin_mm)
    fine_bundle = predictor.fine.bundle
    prepared = preprocess(case, fine_bundle.channels, fine_bundle.spacing)
    window = None if box is None else network_window(prepared, box, fine_bundle.patch_size)
    return {
        "coarse_s": coarse_s,
        "cascade_s": cascade_s,
        "fine_stage_s": round(cascade_s - coarse_s, 3),
        "fine_network_grid": list(prepared.image.shape[1:]),
        "fine_window": None if window is None else [s.stop - s.start for s in window],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", type=Path, default=CASE, help="case folder (default: Brats18_CBICA_AME_1)")
    parser.add_argument("--coarse", type=Path, help="coarse bundle (default: the bundled model)")
    parser.add_argument("--fine", type=Path, help="fine bundle (default: random, cascade-1mm-p64 sized)")
    parser.add_argument("--threads", type=int, default=2, help="CPU threads (default: %(default)s)")
    parser.add_argument("--margin-mm", type=float, default=16.0, help="box margin (default: %(default)s)")
    parser.add_argument(
        "--child", type=Path, nargs=3, metavar=("COARSE", "FINE", "OUT"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.child:
        coarse, fine, out = args.child
        print(json.dumps(cold(args.case, coarse, fine, out, args.threads, args.margin_mm)))
        return 0
    if not args.case.is_dir():
        print(f"skipped: {args.case} is absent (the real cases live in <repo>/../shared/data/real)")
        return 1
    from resources import default_model_dir

    coarse = args.coarse or default_model_dir()
    for bundle in (coarse, args.fine):
        if bundle is not None and not (bundle / "model.json").is_file():
            print(f"error: {bundle}: not a model bundle (no model.json)")
            return 1
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as scratch:
        fine = args.fine or random_fine_bundle(Path(scratch) / "fine")
        child = subprocess.run(
            [sys.executable, __file__, "--case", str(args.case), "--threads", str(args.threads)]
            + ["--margin-mm", str(args.margin_mm), "--child", str(coarse), str(fine), scratch],
            capture_output=True,
            text=True,
            check=True,
        )
        results = {
            "case": args.case.name,
            "coarse": str(coarse),
            "fine": str(args.fine) if args.fine else "random, cascade-1mm-p64 sized",
            "threads": args.threads,
            "margin_mm": args.margin_mm,
            "cold": json.loads(child.stdout.strip().splitlines()[-1]),
            "warm": warm(args.case, coarse, fine, args.threads, args.margin_mm),
        }
    results["load_average_before_after"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]
    save_results("cascade", results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
