"""Per-region BraTS metrics of a predicted label map against a reference, and summaries over cases."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np

from segmentation_core.labels import LABEL_NAMES, REGION_NAMES, REGIONS, convert
from segmentation_core.metrics.overlap import (
    confusion,
    dice_from,
    sensitivity_from,
    specificity_from,
    voxel_volume_cm3,
)
from segmentation_core.metrics.surface import bounding_box, surface_distances

#: Regions scored by default: whole tumour, tumour core, enhancing tumour.
DEFAULT_REGIONS: tuple[str, ...] = REGION_NAMES
#: Metric names of ``region_metrics``, in display order.
METRIC_NAMES: tuple[str, ...] = (
    "dice",
    "hd95",
    "asd",
    "sensitivity",
    "specificity",
    "volume_pred_cm3",
    "volume_ref_cm3",
)


def region_labels(region: str) -> frozenset[int]:
    """Internal labels making up ``region``: WT/TC/ET or a single label name (NCR, ED, ET)."""
    if region in REGIONS:
        return REGIONS[region]
    members = frozenset(k for k, name in LABEL_NAMES.items() if name == region)
    if not members:
        choices = sorted({*REGIONS, *LABEL_NAMES.values()})
        raise ValueError(f"unknown region {region!r}; choose from {choices}")
    return members


def internal_region(labels: np.ndarray, members: frozenset[int]) -> np.ndarray:
    """Boolean mask of the voxels holding any of ``members`` (``labels`` holds internal labels only)."""
    if members == frozenset(LABEL_NAMES):
        return labels > 0
    values = sorted(members)
    mask = labels == values[0]
    for value in values[1:]:
        mask |= labels == value
    return mask


def region_metrics(
    pred: np.ndarray,
    ref: np.ndarray,
    spacing: tuple[float, float, float],
    regions: Iterable[str] = DEFAULT_REGIONS,
    *,
    scheme: str = "internal",
) -> dict[str, dict[str, float]]:
    """Dice, HD95 (mm), ASD (mm), sensitivity, specificity and volumes (cm^3) per region.

    ``pred`` and ``ref`` are label maps on one grid, in the internal scheme (0 bg, 1 NCR, 2 ED, 3 ET)
    unless ``scheme`` names another (see ``segmentation_core.labels.SCHEMES``); ``regions`` are WT, TC,
    ET or single label names (NCR, ED).
    Returns ``{region: {metric: value}}`` with the metrics of ``METRIC_NAMES``. Empty masks follow
    the BraTS conventions: both empty -> Dice 1, HD95 0; exactly one empty -> Dice 0, HD95 373.13 mm
    (see ``overlap`` and ``surface`` for each rule). All work happens in the bounding box of the
    tumour in either map.
    """
    pred, ref = _label_pair(pred, ref)
    if scheme != "internal":
        pred, ref = convert(pred, scheme, "internal"), convert(ref, scheme, "internal")
    unit = voxel_volume_cm3(spacing)
    total = pred.size
    box = bounding_box((pred != 0) | (ref != 0), pad=1)
    if box is not None:
        pred, ref = pred[box], ref[box]
        _check_internal(pred, "prediction")
        _check_internal(ref, "reference")
    wanted = {region: region_labels(region) for region in regions}
    results: dict[str, dict[str, float]] = {}
    for region, members in wanted.items():
        pred_mask, ref_mask = internal_region(pred, members), internal_region(ref, members)
        counts = confusion(pred_mask, ref_mask, total=total)
        distances = surface_distances(pred_mask, ref_mask, spacing)
        results[region] = {
            "dice": dice_from(counts),
            "hd95": distances.hd95(),
            "asd": distances.asd(),
            "sensitivity": sensitivity_from(counts),
            "specificity": specificity_from(counts),
            "volume_pred_cm3": counts.pred * unit,
            "volume_ref_cm3": counts.ref * unit,
        }
    return results


def summarize(values: Iterable[float]) -> dict[str, float]:
    """Mean, median and (population) standard deviation of per-case values; NaN for none."""
    array = np.asarray(list(values), dtype=np.float64)
    if array.size == 0:
        return {"mean": float("nan"), "median": float("nan"), "std": float("nan")}
    return {"mean": float(array.mean()), "median": float(np.median(array)), "std": float(array.std())}


def summarize_cases(
    cases: Mapping[str, Mapping[str, Mapping[str, float]]],
) -> dict[str, dict[str, dict[str, float]]]:
    """``{region: {metric: {"mean", "median", "std"}}}`` over ``{case: {region: {metric: value}}}``."""
    regions: dict[str, list[str]] = {}
    for scores in cases.values():
        for region, metrics in scores.items():
            names = regions.setdefault(region, [])
            names.extend(m for m in metrics if m not in names)
    return {
        region: {
            metric: summarize(s[region][metric] for s in cases.values() if metric in s.get(region, {}))
            for metric in names
        }
        for region, names in regions.items()
    }


def _label_pair(pred: np.ndarray, ref: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    pred, ref = np.asarray(pred), np.asarray(ref)
    if pred.shape != ref.shape:
        raise ValueError(f"prediction and reference differ in shape: {pred.shape} vs {ref.shape}")
    if pred.ndim != 3:
        raise ValueError(f"label maps must be 3-D, got shape {pred.shape}")
    for name, array in (("prediction", pred), ("reference", ref)):
        if array.dtype.kind not in "ui":
            raise ValueError(f"{name} labels must be integers, got {array.dtype}")
    return pred, ref


def _check_internal(array: np.ndarray, name: str) -> None:
    if array.size and (array.min() < 0 or array.max() > max(LABEL_NAMES)):
        raise ValueError(
            f"{name} holds values {int(array.min())}..{int(array.max())}; expected internal labels 0-3 "
            "(convert with segmentation_core.labels.convert)"
        )
