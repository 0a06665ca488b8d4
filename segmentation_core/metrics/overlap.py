"""Voxel-count metrics: Dice, sensitivity, specificity and label volumes.

Conventions for empty masks follow BraTS (and the BraTS 2023 reference code):
both masks empty -> Dice 1; exactly one empty -> Dice 0; empty reference -> sensitivity 1 when the
prediction is empty too, else 0; no reference background at all -> specificity 1 when the prediction
also covers everything, else 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from segmentation_core.labels import ED, ET, NCR

#: Voxel counts per cm^3 conversion: 1 cm^3 = 1000 mm^3.
MM3_PER_CM3 = 1000.0


@dataclass(frozen=True)
class Confusion:
    """Voxel counts of a predicted mask against a reference mask."""

    tp: int
    fp: int
    fn: int
    tn: int

    @property
    def pred(self) -> int:
        return self.tp + self.fp

    @property
    def ref(self) -> int:
        return self.tp + self.fn


def confusion(pred: np.ndarray, ref: np.ndarray, total: int | None = None) -> Confusion:
    """Confusion counts of two boolean masks of one shape.

    ``total`` is the voxel count of the whole image when ``pred``/``ref`` are crops of it that hold
    every foreground voxel (the true negatives outside the crop are then counted too).
    """
    pred, ref = _bool_pair(pred, ref)
    n_pred, n_ref = int(np.count_nonzero(pred)), int(np.count_nonzero(ref))
    tp = int(np.count_nonzero(pred & ref))
    total = pred.size if total is None else total
    return Confusion(tp=tp, fp=n_pred - tp, fn=n_ref - tp, tn=total - n_pred - n_ref + tp)


def dice_from(c: Confusion) -> float:
    """Dice of confusion counts. BraTS convention: both masks empty -> 1.0 (one empty -> 0.0 follows)."""
    if c.pred + c.ref == 0:
        return 1.0
    return 2.0 * c.tp / (c.pred + c.ref)


def sensitivity_from(c: Confusion) -> float:
    """TP / (TP + FN). Empty reference: 1.0 when the prediction is empty too, else 0.0 (BraTS 2023 code)."""
    if c.ref == 0:
        return 1.0 if c.pred == 0 else 0.0
    return c.tp / c.ref


def specificity_from(c: Confusion) -> float:
    """TN / (TN + FP). A reference without background: 1.0 when the prediction has no false positive."""
    if c.tn + c.fp == 0:
        return 1.0
    return c.tn / (c.tn + c.fp)


def dice(a: np.ndarray, b: np.ndarray) -> float:
    """Dice overlap 2|A∩B| / (|A| + |B|) of two boolean masks.

    BraTS convention: both empty -> 1.0; exactly one empty -> 0.0.
    """
    return dice_from(confusion(a, b))


def sensitivity(pred: np.ndarray, ref: np.ndarray) -> float:
    """Share of reference voxels predicted (see ``sensitivity_from`` for empty masks)."""
    return sensitivity_from(confusion(pred, ref))


def specificity(pred: np.ndarray, ref: np.ndarray) -> float:
    """Share of reference background left unpredicted (see ``specificity_from``)."""
    return specificity_from(confusion(pred, ref))


def voxel_volume_cm3(spacing: tuple[float, float, float]) -> float:
    """Volume of one voxel in cm^3 for a spacing in mm."""
    return float(np.prod(np.asarray(spacing, dtype=np.float64))) / MM3_PER_CM3


def volumes_cm3(labels: np.ndarray, spacing: tuple[float, float, float]) -> dict[str, float]:
    """Volumes in cm^3 of NCR, ED, ET and the regions WT (NCR+ED+ET) and TC (NCR+ET) of an internal map.

    Fast enough for a live display (about 6 ms for 240x240x155): one ``count_nonzero(labels == k)``
    per label, which beats ``np.bincount`` (that casts the voxels to int64 first) about tenfold.
    Raises ValueError for a map holding values other than the internal labels 0-3.
    """
    labels = np.asarray(labels)
    if labels.dtype.kind not in "ui":
        raise ValueError(f"labels must be an integer array of internal labels 0-3, got {labels.dtype}")
    if labels.size and (labels.max() > ET or labels.min() < 0):
        raise ValueError(
            f"labels hold values {int(labels.min())}..{int(labels.max())}; expected internal labels 0-3"
        )
    unit = voxel_volume_cm3(spacing)
    ncr, ed, et = (float(np.count_nonzero(labels == label)) * unit for label in (NCR, ED, ET))
    return {"NCR": ncr, "ED": ed, "ET": et, "WT": ncr + ed + et, "TC": ncr + et}


def _bool_pair(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a, b = np.asarray(a, dtype=bool), np.asarray(b, dtype=bool)
    if a.shape != b.shape:
        raise ValueError(f"masks differ in shape: {a.shape} vs {b.shape}")
    return a, b
