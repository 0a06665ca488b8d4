"""Metrics benchmark: ``region_metrics`` (WT/TC/ET) on a real case vs MONAI on the same arrays.

Run: ``.venv/bin/python -m bench.metrics [CASE_FOLDER]``. Targets: all classic metrics for the three
regions <= 1 s, and >= 2x faster than MONAI's DiceMetric + HausdorffDistanceMetric(percentile=95) +
SurfaceDistanceMetric (ASD), whose one-hot inputs are built outside the timing; MONAI is timed with 1 and
2 torch threads and the faster counts. The prediction is the reference with WT grown and TC/ET shrunk by one voxel.
Best of several alternating repeats; also times ``volumes_cm3`` and ``lesion_wise`` (not part of MONAI).
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from monai.metrics import DiceMetric, HausdorffDistanceMetric, SurfaceDistanceMetric
from scipy import ndimage

from bench._common import peak_rss_mb, save_results
from segmentation_core.io import read_label_file
from segmentation_core.labels import ED, NCR, region_mask
from segmentation_core.labels import REGION_NAMES as REGIONS
from segmentation_core.metrics import lesion_wise, region_metrics, volumes_cm3

DEFAULT_CASE = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "real" / "Brats18_CBICA_AME_1"

REPEATS = 5


def perturbed(ref: np.ndarray) -> np.ndarray:
    """The reference with ET's surface turned NCR, TC's surface turned ED and WT grown by one voxel (ED)."""
    pred = ref.copy()
    for region, value in (("ET", NCR), ("TC", ED)):
        mask = region_mask(ref, region)
        pred[mask & ~ndimage.binary_erosion(mask)] = value
    pred[ndimage.binary_dilation(ref > 0) & (ref == 0)] = ED
    return pred


def one_hot(labels: np.ndarray) -> torch.Tensor:
    """MONAI's input: a (1, 3, H, W, D) float tensor of the WT/TC/ET masks (built outside the timing)."""
    return torch.from_numpy(np.stack([region_mask(labels, r) for r in REGIONS])[None].astype(np.float32))


def monai_metrics(
    p: torch.Tensor, r: torch.Tensor, spacing: tuple[float, ...]
) -> dict[str, dict[str, float]]:
    """Dice, HD95 and ASD per region with MONAI on one-hot region masks."""
    dice = DiceMetric(include_background=True, reduction="none")
    hd95 = HausdorffDistanceMetric(include_background=True, percentile=95, reduction="none")
    asd = SurfaceDistanceMetric(include_background=True, symmetric=True, reduction="none")
    values = {
        "dice": dice(p, r)[0],
        "hd95": hd95(p, r, spacing=list(spacing))[0],
        "asd": asd(p, r, spacing=list(spacing))[0],
    }
    return {region: {k: float(v[i]) for k, v in values.items()} for i, region in enumerate(REGIONS)}


def _timed(fn: Callable[[], object], runs: list[float]) -> object:
    start = time.perf_counter()
    result = fn()
    runs.append(time.perf_counter() - start)
    return result


def main() -> None:
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_CASE.resolve()
    seg = folder / f"{folder.name}_seg.nii.gz"
    if not seg.is_file():
        raise SystemExit(f"reference segmentation not found: {seg}")
    labels = read_label_file(seg)
    ref = labels.array
    pred = perturbed(ref)
    spacing = labels.volume.spacing
    runs: dict[str, list[float]] = {
        k: [] for k in ("ours", "monai_1_thread", "monai_2_threads", "volumes_cm3", "lesion_wise")
    }
    pred_hot, ref_hot = one_hot(pred), one_hot(ref)
    ours = theirs = {}
    for _ in range(REPEATS):
        ours = _timed(lambda: region_metrics(pred, ref, spacing), runs["ours"])
        for threads in (1, 2):
            torch.set_num_threads(threads)
            key = "monai_1_thread" if threads == 1 else "monai_2_threads"
            theirs = _timed(lambda: monai_metrics(pred_hot, ref_hot, spacing), runs[key])
        _timed(lambda: volumes_cm3(pred, spacing), runs["volumes_cm3"])
        _timed(lambda: [lesion_wise(pred, ref, spacing, r) for r in REGIONS], runs["lesion_wise"])
    best = {k: min(v) for k, v in runs.items()}
    monai_best = min(best["monai_1_thread"], best["monai_2_threads"])
    results = {
        "case": folder.name,
        "shape": list(ref.shape),
        "spacing": list(spacing),
        "tumour_voxels": int(np.count_nonzero(ref)),
        "repeats": REPEATS,
        "best_s": {k: round(v, 4) for k, v in best.items()},
        "median_s": {k: round(statistics.median(v), 4) for k, v in runs.items()},
        "speedup_vs_monai": round(monai_best / best["ours"], 2),
        "targets": {"ours_s": 1.0, "speedup_vs_monai": 2.0},
        "max_abs_difference": {
            metric: max(abs(ours[r][metric] - theirs[r][metric]) for r in REGIONS)
            for metric in ("dice", "hd95", "asd")
        },
        "ours": {r: {k: round(v, 4) for k, v in ours[r].items()} for r in REGIONS},
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }
    save_results("metrics", results)


if __name__ == "__main__":
    main()
