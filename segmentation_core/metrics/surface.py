"""Surface distances in mm: HD95 and average surface distance (ASD).

Surfaces are the mask voxels that have a 6-connected neighbour outside the mask or the image (the same
voxels as ``mask ^ binary_erosion(mask)``, MONAI's ``get_mask_edges``). The distance from every surface
voxel of one mask to the nearest surface voxel of the other comes from a Euclidean distance transform,
``scipy.ndimage.distance_transform_edt(..., sampling=spacing)``, computed only inside the bounding box
of both surfaces (no all-pairs distances). When stray voxels far apart make that box large and almost
empty (over ``EDT_MAX_VOXELS``), the same exact distances come from a KD-tree over the surface voxels
instead, so a stray voxel in a corner cannot make the metric take seconds.

HD95 is the larger of the two directed 95th percentiles (linear interpolation, like MONAI's
``HausdorffDistanceMetric(percentile=95)``); ASD is the mean of both directed distance sets together
(MONAI's symmetric ``SurfaceDistanceMetric``).

BraTS conventions for empty masks: both empty -> 0 mm; exactly one empty -> ``EMPTY_MASK_DISTANCE_MM``
(373.13 mm, the diagonal of the 240x240x155 mm BraTS volume, as CaPTk reports it). HD95 and ASD both
use them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import ndimage
from scipy.spatial import cKDTree

#: Distance reported when exactly one of the two masks is empty (BraTS / CaPTk convention).
EMPTY_MASK_DISTANCE_MM = 373.13
#: Largest box (voxels) searched with a distance transform in "auto" mode; larger ones use a KD-tree.
EDT_MAX_VOXELS = 2_000_000
Method = Literal["auto", "edt", "kdtree"]


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
        if self.pred_to_ref is None or self.ref_to_pred is None:
            return EMPTY_MASK_DISTANCE_MM
        if self.both_empty:
            return 0.0
        return float(max(np.percentile(self.pred_to_ref, q), np.percentile(self.ref_to_pred, q)))

    def asd(self) -> float:
        """Mean of all surface distances in both directions; 0 for two empty masks, 373.13 for one."""
        if self.pred_to_ref is None or self.ref_to_pred is None:
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
    """Voxels of a 3-D ``mask`` with a 6-connected neighbour outside it or outside the image.

    Equal to ``mask & ~ndimage.binary_erosion(mask)`` but about five times faster (six shifted ANDs).
    """
    padded = np.pad(mask, 1)
    inner = padded[1:-1, 1:-1, 1:-1].copy()
    for axis in range(3):
        for start in (0, 2):
            window = [slice(1, -1)] * 3
            window[axis] = slice(start, start + mask.shape[axis])
            inner &= padded[tuple(window)]
    return mask & ~inner


def surface_points(mask: np.ndarray) -> np.ndarray:
    """(N, 3) voxel indices of the surface of ``mask`` (found within the mask's bounding box)."""
    box = bounding_box(mask, pad=1)
    if box is None:
        return np.zeros((0, 3), dtype=np.intp)
    offset = np.array([s.start for s in box], dtype=np.intp)
    return np.argwhere(surface(mask[box])) + offset


def surface_distances(
    pred: np.ndarray, ref: np.ndarray, spacing: tuple[float, float, float], method: Method = "auto"
) -> SurfaceDistances:
    """Directed surface distances (mm) between two boolean 3-D masks on one grid with voxel ``spacing``.

    ``method``: "edt" (distance transform), "kdtree", or "auto" (the transform unless the box of
    both surfaces exceeds ``EDT_MAX_VOXELS``). All three give the same exact Euclidean distances.
    """
    pred, ref = np.asarray(pred, dtype=bool), np.asarray(ref, dtype=bool)
    if pred.shape != ref.shape or pred.ndim != 3:
        raise ValueError(f"masks must be 3-D of one shape: {pred.shape} vs {ref.shape}")
    if len(spacing) != 3:
        raise ValueError(f"spacing {tuple(spacing)} must give 3 voxel sizes in mm")
    sampling = np.asarray(spacing, dtype=np.float64)
    pred_points, ref_points = surface_points(pred), surface_points(ref)
    if len(pred_points) == 0 and len(ref_points) == 0:
        return SurfaceDistances(np.zeros(0), np.zeros(0))
    if len(pred_points) == 0 or len(ref_points) == 0:
        return SurfaceDistances(None, None)
    low = np.minimum(pred_points.min(axis=0), ref_points.min(axis=0))
    size = np.maximum(pred_points.max(axis=0), ref_points.max(axis=0)) - low + 1
    if method == "kdtree" or (method == "auto" and int(np.prod(size)) > EDT_MAX_VOXELS):
        return SurfaceDistances(
            _kdtree_distances(pred_points, ref_points, sampling),
            _kdtree_distances(ref_points, pred_points, sampling),
        )
    if method not in ("auto", "edt"):
        raise ValueError(f"unknown method {method!r}; choose auto, edt or kdtree")
    pred_local, ref_local = pred_points - low, ref_points - low
    return SurfaceDistances(
        _edt_distances(pred_local, ref_local, tuple(size), sampling),
        _edt_distances(ref_local, pred_local, tuple(size), sampling),
    )


def _edt_distances(
    query: np.ndarray, target: np.ndarray, shape: tuple[int, ...], sampling: np.ndarray
) -> np.ndarray:
    """Distance from each ``query`` voxel to the nearest ``target`` voxel, by a distance transform."""
    background = np.ones(shape, dtype=bool)
    background[tuple(target.T)] = False
    distance = ndimage.distance_transform_edt(background, sampling=tuple(sampling))
    return distance[tuple(query.T)]


def _kdtree_distances(query: np.ndarray, target: np.ndarray, sampling: np.ndarray) -> np.ndarray:
    """Distance from each ``query`` voxel to the nearest ``target`` voxel, by a KD-tree in mm."""
    return cKDTree(target * sampling).query(query * sampling, k=1)[0]


def hd95(a: np.ndarray, b: np.ndarray, spacing: tuple[float, float, float]) -> float:
    """95th-percentile Hausdorff distance in mm between boolean masks ``a`` and ``b``.

    BraTS conventions: both empty -> 0.0; exactly one empty -> 373.13 mm.
    """
    return surface_distances(a, b, spacing).hd95()


def average_surface_distance(a: np.ndarray, b: np.ndarray, spacing: tuple[float, float, float]) -> float:
    """Symmetric average surface distance in mm; both empty -> 0.0, exactly one empty -> 373.13 mm."""
    return surface_distances(a, b, spacing).asd()
