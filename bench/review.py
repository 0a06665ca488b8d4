"""Time from an AI result to its confidence map, review queue, lesion table and RANO on a real case.

Run: ``.venv/bin/python -m bench.review [CASE_FOLDER]``. The bundled model segments the case once (CPU);
then the review work that follows an AI result is timed (median of several runs): the confidence
map, the review queue, the lesion table with its axial diameters and midline distances, and RANO.
The mid-sagittal plane depends only on the images (computed when the case opens) and is timed on its
own, as are the whole report's data and what keeping the probabilities adds to the AI process
(quantising them to uint8 and sending them to the viewer). Target: <= 0.5 s after the AI result. Saves bench/results/review.json.
"""

from __future__ import annotations

import pickle
import statistics
import sys
import time
from pathlib import Path

from bench._common import save_results

DEFAULT_CASE = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "real" / "Brats18_CBICA_AME_1"
REPEATS = 7


def timed(function, repeats: int = REPEATS) -> tuple[float, object]:  # noqa: ANN001
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main() -> None:
    case_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_CASE
    from resources import default_model_dir
    from segmentation_core.inference import Predictor, run_prediction
    from segmentation_core.io import load_case
    from segmentation_core.labels import ET
    from segmentation_core.models.bundle import ModelBundle
    from segmentation_core.review.confidence import ConfidenceMap
    from segmentation_core.review.lesions import components, lesion_table
    from segmentation_core.review.midline import midsagittal_plane
    from segmentation_core.review.queue import ReviewQueue
    from segmentation_core.review.rano import rano_assessment
    from segmentation_core.review.report import brain_mask, build_report
    from segmentation_core.types import RegionProbabilities

    case = load_case(case_dir)
    bundle = ModelBundle.load(default_model_dir())
    prediction = run_prediction(Predictor(bundle, device="cpu"), case)
    labels, regions = prediction.labels, prediction.regions
    midline_s, midline = timed(lambda: midsagittal_plane(brain_mask(case), case.affine))
    floats = regions.full()[(slice(None), *regions.slices)]
    keep_s, _ = timed(lambda: RegionProbabilities.quantise(floats, regions.slices, case.shape))
    transfer_s, _ = timed(lambda: pickle.loads(pickle.dumps(regions, protocol=pickle.HIGHEST_PROTOCOL)))

    def after_ai_result():
        confidence = ConfidenceMap.from_regions(regions)
        queue = ReviewQueue.build(confidence, case.spacing)
        enhancing = components(labels == ET)
        table = lesion_table(labels, case.affine, midline, enhancing=enhancing)
        rano = rano_assessment(labels, case.affine, enhancing=enhancing)
        return queue, table, rano

    parts = {
        "confidence_map_s": timed(lambda: ConfidenceMap.from_regions(regions))[0],
        "review_queue_s": timed(lambda: ReviewQueue.build(ConfidenceMap.from_regions(regions), case.spacing))[
            0
        ],
        "lesion_table_and_rano_s": timed(
            lambda: (lesion_table(labels, case.affine, midline), rano_assessment(labels, case.affine))
        )[0],
    }
    total_s, (queue, table, rano) = timed(after_ai_result)
    report_s, _ = timed(lambda: build_report(case, labels, queue=queue), repeats=3)
    save_results(
        "review",
        {
            "case": case.case_id,
            "inference_s": round(prediction.seconds, 1),
            "kept_probabilities_mb": round(regions.nbytes / 2**20, 1),
            "keep_probabilities_s (in the AI process)": round(keep_s, 3),
            "pickle_round_trip_s (AI process -> viewer)": round(transfer_s, 3),
            "after_ai_result_s": round(total_s, 3),
            "target_s": 0.5,
            **{k: round(v, 3) for k, v in parts.items()},
            "midline_s (when the case opens)": round(midline_s, 3),
            "report_data_s (incl. midline)": round(report_s, 3),
            "clusters": len(queue),
            "lesions": len(table.lesions),
            "enhancing_lesions": len(rano.measurements),
            "sum_of_products_mm2": round(rano.sum_of_products_mm2, 1),
        },
    )


if __name__ == "__main__":
    main()
