"""Is the confidence map where the model is wrong? Measured on the three validation cases.

Run: ``.venv/bin/python -m bench.confidence [--tta] [--threads N]``. For each case the bundled model
segments the images (CPU); the low-confidence set (uncertainty >= threshold) is compared with the
model's errors (voxels whose label differs from the reference):

- ``error_share``: the share of all error voxels that lie in the low-confidence set;
- ``tumour_share``: the share of the tumour volume (predicted or reference tumour) in that set;
- ``enrichment``: error_share / tumour_share (> 1: errors are over-represented where confidence is low);
- ``error_rate_low`` / ``error_rate_rest``: the fraction of voxels that are wrong inside the set and in
  the rest of the tumour.

The same for the queue's clusters (the part of the set the review queue offers), and at 0.5 for
whole-tumour errors only (tumour vs background, ignoring NCR/ED/ET mix-ups). Saves
bench/results/confidence[-tta].json.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from bench._common import save_results

REAL = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "real"
VALIDATION = ("Brats18_2013_20_1", "Brats18_CBICA_AME_1", "Brats18_TCIA10_628_1")
THRESHOLDS = (0.3, 0.5, 0.7)


def shares(low: np.ndarray, errors: np.ndarray, tumour: np.ndarray) -> dict:
    error_share = float((errors & low).sum() / max(1, errors.sum()))
    tumour_share = float((tumour & low).sum() / max(1, tumour.sum()))
    rest = tumour & ~low
    return {
        "low_voxels": int(low.sum()),
        "error_share": error_share,
        "tumour_share": tumour_share,
        "enrichment": error_share / tumour_share if tumour_share else None,
        "error_rate_low": float((errors & low).sum() / max(1, low.sum())),
        "error_rate_rest": float((errors & rest).sum() / max(1, rest.sum())),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tta", action="store_true", help="8-flip test-time augmentation (slow on a CPU)")
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    from resources import default_model_dir
    from segmentation_core.inference import Predictor, run_prediction
    from segmentation_core.io import load_case
    from segmentation_core.models.bundle import ModelBundle
    from segmentation_core.review.confidence import ConfidenceMap
    from segmentation_core.review.queue import QueueSettings, ReviewQueue

    bundle = ModelBundle.load(default_model_dir())
    predictor = Predictor(bundle, device="cpu", tta=args.tta, threads=args.threads)
    cases = {}
    totals = {t: {"errors": 0, "errors_low": 0, "tumour": 0, "tumour_low": 0} for t in THRESHOLDS}
    for case_id in VALIDATION:
        case = load_case(REAL / case_id)
        start = time.perf_counter()
        prediction = run_prediction(predictor, case)
        seconds = time.perf_counter() - start
        reference = case.labels.array
        errors = prediction.labels != reference
        tumour = (prediction.labels > 0) | (reference > 0)
        confidence = ConfidenceMap.from_regions(prediction.regions)
        row: dict = {
            "inference_s": round(seconds, 1),
            "error_voxels": int(errors.sum()),
            "tumour_voxels": int(tumour.sum()),
        }
        for threshold in THRESHOLDS:
            low = confidence.low(threshold)
            row[f"uncertainty>={threshold}"] = shares(low, errors, tumour)
            totals[threshold]["errors"] += int(errors.sum())
            totals[threshold]["errors_low"] += int((errors & low).sum())
            totals[threshold]["tumour"] += int(tumour.sum())
            totals[threshold]["tumour_low"] += int((tumour & low).sum())
        wt_errors = (prediction.labels > 0) != (reference > 0)
        row["whole_tumour_only"] = {
            "error_voxels": int(wt_errors.sum()),
            **shares(confidence.low(0.5), wt_errors, tumour),
        }
        queue = ReviewQueue.build(confidence, case.spacing, QueueSettings())
        queued = np.zeros(case.shape, bool)
        queued.ravel()[queue.voxel_index] = True
        row["queue"] = {"clusters": len(queue), **shares(queued, errors, tumour)}
        cases[case_id] = row
    pooled = {
        f"uncertainty>={t}": {
            "error_share": v["errors_low"] / v["errors"],
            "tumour_share": v["tumour_low"] / v["tumour"],
            "enrichment": (v["errors_low"] / v["errors"]) / (v["tumour_low"] / v["tumour"]),
        }
        for t, v in totals.items()
    }
    save_results(
        "confidence-tta" if args.tta else "confidence",
        {"model": f"{bundle.name} v{bundle.version}", "tta": args.tta, "cases": cases, "pooled": pooled},
    )


if __name__ == "__main__":
    main()
