"""Grids and resampling through rigid transforms (steps 4 and 5 share these).

A grid is (shape, 4x4 RAS affine). ``resample`` samples a moving volume at the world points of a target
grid mapped through a reference->moving transform, in one interpolation (SimpleITK, multithreaded).
"""

from __future__ import annotations

import numpy as np
import SimpleITK as sitk

from segmentation_core.io.geometry import world_bounds
from segmentation_core.io.sitk_formats import from_sitk, to_sitk
from segmentation_core.types import Volume

Grid = tuple[tuple[int, int, int], np.ndarray]
_FLIP = np.diag([-1.0, -1.0, 1.0, 1.0])


def canonical_grid(volume: Volume, spacing: float = 1.0) -> Grid:
    """An axis-aligned RAS grid of ``spacing`` mm covering ``volume``'s world bounding box."""
    low, high = world_bounds(volume)
    shape = tuple(int(np.ceil((h - lo) / spacing)) for lo, h in zip(low, high))
    affine = np.diag([spacing, spacing, spacing, 1.0])
    affine[:3, 3] = low + spacing / 2.0
    return shape, affine  # type: ignore[return-value]


def crop_grid(grid: Grid, mask: np.ndarray, margin_mm: float) -> tuple[Grid, tuple[slice, slice, slice]]:
    """The sub-grid of ``grid`` around ``mask``'s bounding box grown by ``margin_mm``, and its slices."""
    shape, affine = grid
    spacing = np.linalg.norm(affine[:3, :3], axis=0)
    box = []
    for axis in range(3):
        hits = np.flatnonzero(mask.any(axis=tuple(a for a in range(3) if a != axis)))
        pad = int(np.ceil(margin_mm / spacing[axis]))
        box.append(slice(max(0, int(hits[0]) - pad), min(shape[axis], int(hits[-1]) + 1 + pad)))
    cropped = affine.copy()
    cropped[:3, 3] = affine[:3, :3] @ np.array([s.start for s in box]) + affine[:3, 3]
    return (tuple(s.stop - s.start for s in box), cropped), tuple(box)  # type: ignore[return-value]


def resample(
    moving: Volume,
    grid: Grid,
    transform: np.ndarray | None = None,
    *,
    order: int = 1,
) -> np.ndarray:
    """``moving`` sampled on ``grid`` (float32); ``transform``: 4x4 RAS grid-world -> moving-world.

    ``order`` 1 is linear, 3 B-spline, 0 nearest neighbour. Points outside the moving volume are 0.
    """
    shape, affine = grid
    image = to_sitk(np.asarray(moving.array, dtype=np.float32), moving.affine)
    target = to_sitk(np.zeros((1, 1, 1), dtype=np.uint8), affine)
    itk = sitk.AffineTransform(3)
    if transform is not None:
        lps = _FLIP @ np.asarray(transform, dtype=np.float64) @ _FLIP
        itk.SetMatrix(lps[:3, :3].ravel().tolist())
        itk.SetTranslation(lps[:3, 3].tolist())
    interpolator = {0: sitk.sitkNearestNeighbor, 1: sitk.sitkLinear, 3: sitk.sitkBSpline}[order]
    out = sitk.Resample(
        image,
        [int(s) for s in shape],
        itk,
        interpolator,
        target.GetOrigin(),
        target.GetSpacing(),
        target.GetDirection(),
        0.0,
        sitk.sitkFloat32,
    )
    array, _ = from_sitk(out)
    return np.asfortranarray(array)
