"""Retrain loop benchmark: the whole "add to training set → retrain → register → evaluate → activate →
segment → roll back" loop on tiny synthetic data with a tiny network on CPU, timed phase by phase.

Run: ``.venv/bin/python -m bench.retrain``. Target: the whole loop in under a minute. The training
runs as a real child process (``python -m segmentation_core train --json-progress``), as in the GUI.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

from bench._common import peak_rss_mb, save_results
from segmentation_core.types import Case

CASES, SHAPE, EPOCHS, ITERATIONS = 3, (24, 24, 24), 2, 2


def _timed(times: dict[str, float], name: str, fn):  # noqa: ANN001, ANN202 - any zero-argument callable
    start = time.perf_counter()
    value = fn()
    times[name] = round(time.perf_counter() - start, 3)
    return value


def _predict(bundle: Path, case: Case) -> np.ndarray:
    from segmentation_core.inference import Predictor, run_prediction
    from segmentation_core.models.bundle import ModelBundle

    return run_prediction(Predictor(ModelBundle.load(bundle), device="cpu"), case).labels


def main() -> None:
    from app.jobs.retrain import RetrainRequest, new_run_dir, read_held_out
    from segmentation_core.io import load_case
    from segmentation_core.registry import (
        DATA_DIR_ENV,
        ModelRegistry,
        add_to_training_library,
        evaluate_missing,
        library_cases,
        runs_dir,
        training_library_dir,
    )
    from segmentation_core.training.progress import parse_event
    from tests.core.io_fixtures import oblique_affine, write_brats_case
    from tests.core.model_fixtures import make_tiny_bundle

    times: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        os.environ[DATA_DIR_ENV] = str(tmp / "data")
        registry = ModelRegistry(default_bundle=make_tiny_bundle(tmp / "default", seed=1))
        sources = [
            write_brats_case(tmp / "src" / f"C{i}", SHAPE, oblique_affine(), case_id=f"C{i}", seed=i)
            for i in range(CASES)
        ]
        start = time.perf_counter()

        def add_all() -> None:
            for source in sources:
                case = load_case(source)
                add_to_training_library(case, case.labels.array)

        _timed(times, "add_to_training_set_s", add_all)
        request = RetrainRequest(
            data_dir=training_library_dir(),
            init_bundle=registry.active_bundle_path(),
            out_dir=new_run_dir(runs_dir()),
            epochs=EPOCHS,
            device="cpu",
            base_version=1,
            extra_args=("--iterations-per-epoch", str(ITERATIONS), "--val-every", str(EPOCHS)),
        )
        result = _timed(
            times, "train_child_s", lambda: subprocess.run(request.command(), capture_output=True, text=True)
        )
        if result.returncode != 0:
            raise SystemExit(f"training failed:\n{result.stderr}")
        events = [e for line in result.stdout.splitlines() if (e := parse_event(line))]
        version = _timed(
            times,
            "register_s",
            lambda: registry.register(
                request.out_dir,
                base_version=1,
                data_size=CASES - 1,
                validation_cases=read_held_out(request.out_dir),
            ),
        )
        evaluated = _timed(times, "evaluate_v1_v2_s", lambda: evaluate_missing(registry, device="cpu"))
        _timed(times, "activate_s", lambda: registry.activate(version.number))
        case = load_case(library_cases()[0])
        _timed(times, "segment_with_active_s", lambda: _predict(registry.active_bundle_path(), case))
        _timed(times, "roll_back_s", registry.roll_back)
        total = time.perf_counter() - start
    save_results(
        "retrain",
        {
            "cases": CASES,
            "shape": list(SHAPE),
            "epochs": EPOCHS,
            "iterations_per_epoch": ITERATIONS,
            "progress_events": len(events),
            "evaluated_versions": evaluated,
            "phases_s": times,
            "total_s": round(total, 3),
            "target_total_s": 60,
            "peak_rss_mb": round(peak_rss_mb(), 1),
            "peak_rss_child_mb": round(peak_rss_mb(children=True), 1),
        },
    )


if __name__ == "__main__":
    main()
