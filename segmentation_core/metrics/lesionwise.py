"""Lesion-wise Dice and HD95 as in the BraTS 2023 challenge (``rachitsaluja/BraTS-2023-Metrics``).

1. Reference and prediction are split into 26-connected components.
2. Reference components closer than the dilation reach are one lesion: the reference is dilated
   ``dilation`` times with the 18-connected structure and each component of the dilated mask groups the
   reference voxels inside it.
3. Each reference lesion, dilated the same way, gathers every predicted component it touches; Dice and
   HD95 compare the lesion with the union of those components. A lesion that gathers none is a false
   negative: Dice 0, HD95 374 mm.
4. Reference lesions of ``min_lesion_voxels`` (50) voxels or fewer are left out of the scores (their
   gathered predictions are not false positives either), as the reference code does (volumes <= 50).
5. Every predicted component gathered by no lesion is a false positive: Dice 0, HD95 374 mm.
6. Scores are means over scored lesions plus false positives. With nothing to score (no reference
   lesion above the threshold and no false positive) the case scores Dice 1 and HD95 0.

A lesion's HD95 is ``segmentation_core.metrics.hd95`` (voxel surfaces, like MONAI); the reference code
uses DeepMind's surfel-based ``compute_robust_hausdorff``, which can differ by a fraction of a voxel.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import ndimage

from segmentation_core.labels import convert, region_mask
from segmentation_core.metrics.overlap import dice
from segmentation_core.metrics.surface import bounding_box, hd95

#: HD95 of a missed or a false-positive lesion (BraTS 2023).
LESION_MISS_DISTANCE_MM = 374.0
_CONNECT_26 = ndimage.generate_binary_structure(3, 3)
_DILATE_18 = ndimage.generate_binary_structure(3, 2)


def lesion_wise(
    pred: np.ndarray,
    ref: np.ndarray,
    spacing: tuple[float, float, float],
    region: str,
    *,
    dilation: int = 3,
    min_lesion_voxels: int = 50,
    scheme: str = "internal",
) -> dict[str, Any]:
    """BraTS 2023 lesion-wise scores of one region (WT, TC, ET, NCR or ED) of label maps ``pred``, ``ref``.

    The maps hold internal labels unless ``scheme`` names another label scheme.
    Returns ``{"dice", "hd95", "tp", "fn", "fp", "lesions"}``: the lesion-wise means, the counts of
    scored reference lesions found (tp) and missed (fn) and of false-positive predicted components
    (fp), and per scored lesion ``{"voxels", "dice", "hd95", "matched"}`` (matched = number of
    predicted components gathered). See the module docstring for every rule.
    """
    pred, ref = np.asarray(pred), np.asarray(ref)
    if pred.shape != ref.shape or pred.ndim != 3:
        raise ValueError(f"prediction and reference must be 3-D of one shape: {pred.shape} vs {ref.shape}")
    if dilation < 1:
        raise ValueError(f"dilation must be at least 1 voxel, got {dilation}")
    if scheme != "internal":
        pred, ref = convert(pred, scheme, "internal"), convert(ref, scheme, "internal")
    pred_mask, ref_mask = region_mask(pred, region), region_mask(ref, region)
    box = bounding_box(pred_mask | ref_mask, pad=dilation + 1)
    if box is None:
        return _scores([], 0)
    pred_mask, ref_mask = pred_mask[box], ref_mask[box]
    pred_cc, _ = ndimage.label(pred_mask, structure=_CONNECT_26)
    grown = ndimage.binary_dilation(ref_mask, structure=_DILATE_18, iterations=dilation)
    grown_cc, _ = ndimage.label(grown, structure=_CONNECT_26)
    lesions = np.where(ref_mask, grown_cc, 0)
    gathered: set[int] = set()
    scored: list[dict[str, Any]] = []
    for index, window in enumerate(ndimage.find_objects(lesions), start=1):
        if window is None:
            continue
        grown_window = _grow(window, dilation, lesions.shape)
        local = lesions[grown_window] == index
        reach = ndimage.binary_dilation(local, structure=_DILATE_18, iterations=dilation)
        matched = np.unique(pred_cc[grown_window][reach])
        matched = matched[matched != 0]
        gathered.update(int(m) for m in matched)
        voxels = int(np.count_nonzero(local))
        if voxels <= min_lesion_voxels:
            continue
        if matched.size == 0:
            scored.append({"voxels": voxels, "dice": 0.0, "hd95": LESION_MISS_DISTANCE_MM, "matched": 0})
            continue
        whole = lesions == index
        found = np.isin(pred_cc, matched)
        scored.append(
            {
                "voxels": voxels,
                "dice": dice(found, whole),
                "hd95": hd95(found, whole, spacing),
                "matched": int(matched.size),
            }
        )
    false_positives = int(pred_cc.max()) - len(gathered)
    return _scores(scored, false_positives)


def _grow(window: tuple[slice, ...], margin: int, shape: tuple[int, ...]) -> tuple[slice, ...]:
    """``window`` grown by ``margin`` voxels on every side, clipped to ``shape``."""
    return tuple(slice(max(s.start - margin, 0), min(s.stop + margin, n)) for s, n in zip(window, shape))


def _scores(scored: list[dict[str, Any]], false_positives: int) -> dict[str, Any]:
    count = len(scored) + false_positives
    if count == 0:
        mean_dice, mean_hd95 = 1.0, 0.0
    else:
        mean_dice = sum(s["dice"] for s in scored) / count
        mean_hd95 = (sum(s["hd95"] for s in scored) + false_positives * LESION_MISS_DISTANCE_MM) / count
    found = sum(1 for s in scored if s["matched"])
    return {
        "dice": float(mean_dice),
        "hd95": float(mean_hd95),
        "tp": found,
        "fn": len(scored) - found,
        "fp": false_positives,
        "lesions": scored,
    }
