"""Grid comparison and resampling onto a reference grid (SimpleITK)."""

from __future__ import annotations

import numpy as np
import SimpleITK as sitk

from segmentation_core.io.sitk_formats import from_sitk, to_sitk
from segmentation_core.types import Volume


def world_bounds(volume: Volume) -> tuple[np.ndarray, np.ndarray]:
    """(min corner, max corner) in world mm of the volume's voxel-centre box, padded by half a voxel."""
    shape = np.asarray(volume.shape, dtype=np.float64)
    corners = np.array(np.meshgrid(*[[-0.5, s - 0.5] for s in shape], indexing="ij")).reshape(3, -1)
    world = volume.affine[:3, :3] @ corners + volume.affine[:3, 3:4]
    return world.min(axis=1), world.max(axis=1)


#: Head centres further apart than this (mm, or one voxel of the coarser grid) are called misaligned.
RIGID_TOLERANCE_MM = 3.0


def head_centre_mm(volume: Volume, step: int = 2) -> np.ndarray | None:
    """World position (mm) of the centre of the head: the centroid of the voxels above 10 % of the
    99th-percentile intensity (every ``step``-th voxel per axis); None for an empty image."""
    sample = np.asarray(volume.array[::step, ::step, ::step], dtype=np.float32)
    positive = sample[sample > 0]
    if positive.size == 0:
        return None
    threshold = 0.1 * float(np.percentile(positive, 99))
    index = np.argwhere(sample > threshold)
    if index.size == 0:
        return None
    centre = index.mean(axis=0) * step
    return volume.affine[:3, :3] @ centre + volume.affine[:3, 3]


def misalignment_mm(moving: Volume, reference: Volume) -> float:
    """How far apart (mm) the heads in the two images lie in world space (0 when either is empty).

    Grids of different resolution or coverage of one head give a small value; a sequence whose header
    puts it elsewhere (a shifted or rotated affine) gives the size of that shift.
    """
    a, b = head_centre_mm(moving), head_centre_mm(reference)
    return 0.0 if a is None or b is None else float(np.linalg.norm(a - b))


def alignment_tolerance_mm(moving: Volume, reference: Volume) -> float:
    """The rigid tolerance: 3 mm, or one voxel of the coarser grid when that is larger."""
    return max(RIGID_TOLERANCE_MM, *moving.spacing, *reference.spacing)


def overlap_fraction(moving: Volume, reference: Volume) -> float:
    """Fraction of the reference's world bounding box that the moving volume's box covers (0 = disjoint)."""
    lo_m, hi_m = world_bounds(moving)
    lo_r, hi_r = world_bounds(reference)
    inter = np.clip(np.minimum(hi_m, hi_r) - np.maximum(lo_m, lo_r), 0.0, None)
    return float(np.prod(inter) / np.prod(hi_r - lo_r))


def resample_to(volume: Volume, reference: Volume, *, nearest: bool = False) -> Volume:
    """``volume`` resampled onto ``reference``'s grid: linear for images, nearest neighbour for labels.

    Voxels outside the moving image become 0. The result keeps the moving volume's dtype for labels
    and is float32 for images.
    """
    moving = to_sitk(volume.array if nearest else volume.array.astype(np.float32, copy=False), volume.affine)
    target = to_sitk(np.zeros((1, 1, 1), dtype=np.uint8), reference.affine)
    resampler = sitk.ResampleImageFilter()
    resampler.SetSize(tuple(int(s) for s in reference.shape))
    resampler.SetOutputOrigin(target.GetOrigin())
    resampler.SetOutputSpacing(target.GetSpacing())
    resampler.SetOutputDirection(target.GetDirection())
    resampler.SetInterpolator(sitk.sitkNearestNeighbor if nearest else sitk.sitkLinear)
    resampler.SetDefaultPixelValue(0)
    array, _ = from_sitk(resampler.Execute(moving))
    return Volume(array, reference.affine, volume.source)
