"""Surface distances in mm: HD95 and average surface distance (ASD), from Euclidean distance transforms.

Surfaces are the mask voxels that have a 6-connected background neighbour (``mask ^ erode(mask)``, as
MONAI's ``get_mask_edges``). The distance from every surface voxel of one mask to the nearest surface
voxel of the other comes from ``scipy.ndimage.distance_transform_edt(..., sampling=spacing)``, computed
only inside the bounding box of both masks padded by one voxel (no all-pairs distances).

HD95 is the larger of the two directed 95th percentiles (linear interpolation, like MONAI's
``HausdorffDistanceMetric(percentile=95)``); ASD is the mean of both directed distance sets together
(MONAI's symmetric ``SurfaceDistanceMetric``).

BraTS conventions for empty masks: both empty -> 0 mm; exactly one empty -> ``EMPTY_MASK_DISTANCE_MM``
(373.13 mm, the diagonal of the 240x240x155 mm BraTS volume, as CaPTk reports it). Both HD95 and ASD use them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

#: Distance reported when exactly one of the two masks is empty (BraTS / CaPTk convention).
EMPTY_MASK_DISTANCE_MM = 373.13


@dataclass(frozen=True)
class SurfaceDistances:
    """Distances in mm from each surface voxel of ``pred`` to ``ref`` and from ``ref`` to ``pred``.

    ``None`` when exactly one mask is empty; both empty arrays when both masks are empty.
    """

    pred_to_ref: np.ndarray | None
    ref_to_pred: np.ndarray | None

    @property
    def one_empty(self) -> bool:
        return self.pred_to_ref is None

    @property
    def both_empty(self) -> bool:
        return self.pred_to_ref is not None and self.pred_to_ref.size == 0

    def hd95(self) -> float:
        """Symmetric 95th-percentile Hausdorff distance; 0 for two empty masks, 373.13 for one."""
        return self.percentile(95.0)

    def percentile(self, q: float) -> float:
        """max(q-th percentile pred->ref, q-th percentile ref->pred); BraTS values for empty masks."""
        if self.one_empty:
            return EMPTY_MASK_DISTANCE_MM
        if self.both_empty:
            return 0.0
        return float(max(np.percentile(self.pred_to_ref, q), np.percentile(self.ref_to_pred, q)))

    def asd(self) -> float:
        """Mean of all surface distances in both directions; 0 for two empty masks, 373.13 for one."""
        if self.one_empty:
            return EMPTY_MASK_DISTANCE_MM
        if self.both_empty:
            return 0.0
        total = float(self.pred_to_ref.sum()) + float(self.ref_to_pred.sum())
        return total / (self.pred_to_ref.size + self.ref_to_pred.size)


def bounding_box(mask: np.ndarray, pad: int = 0) -> tuple[slice, ...] | None:
    """Slices of the smallest box holding every True voxel, grown by ``pad`` (clipped); None if empty."""
    box = []
    for axis in range(mask.ndim):
        other = tuple(a for a in range(mask.ndim) if a != axis)
        hits = np.flatnonzero(np.any(mask, axis=other))
        if hits.size == 0:
            return None
        box.append(slice(max(int(hits[0]) - pad, 0), min(int(hits[-1]) + 1 + pad, mask.shape[axis])))
    return tuple(box)


def surface(mask: np.ndarray) -> np.ndarray:
    """Voxels of ``mask`` with a 6-connected neighbour outside it (the image border counts as outside)."""
    return mask & ~ndimage.binary_erosion(mask, border_value=0)


def surface_distances(
    pred: np.ndarray, ref: np.ndarray, spacing: tuple[float, float, float]
) -> SurfaceDistances:
    """Directed surface distances (mm) between two boolean masks on one grid with voxel ``spacing``."""
    pred, ref = np.asarray(pred, dtype=bool), np.asarray(ref, dtype=bool)
    if pred.shape != ref.shape:
        raise ValueError(f"masks differ in shape: {pred.shape} vs {ref.shape}")
    if len(spacing) != pred.ndim:
        raise ValueError(f"spacing {tuple(spacing)} does not match a {pred.ndim}-D mask")
    box = bounding_box(pred | ref, pad=1)
    if box is None:
        empty = np.zeros(0)
        return SurfaceDistances(empty, empty)
    pred, ref = pred[box], ref[box]
    if not pred.any() or not ref.any():
        return SurfaceDistances(None, None)
    pred_edge, ref_edge = surface(pred), surface(ref)
    sampling = tuple(float(s) for s in spacing)
    to_ref = ndimage.distance_transform_edt(~ref_edge, sampling=sampling)
    to_pred = ndimage.distance_transform_edt(~pred_edge, sampling=sampling)
    return SurfaceDistances(to_ref[pred_edge], to_pred[ref_edge])


def hd95(a: np.ndarray, b: np.ndarray, spacing: tuple[float, float, float]) -> float:
    """95th-percentile Hausdorff distance in mm between boolean masks ``a`` and ``b``.

    BraTS conventions: both empty -> 0.0; exactly one empty -> 373.13 mm.
    """
    return surface_distances(a, b, spacing).hd95()


def average_surface_distance(a: np.ndarray, b: np.ndarray, spacing: tuple[float, float, float]) -> float:
    """Symmetric average surface distance in mm; both empty -> 0.0, exactly one empty -> 373.13 mm."""
    return surface_distances(a, b, spacing).asd()
