"""In-plane diameters of a lesion: the longest one on an axial slice and the longest perpendicular to it.

Measured on the lesion's outline (the 0.5 iso-contour of its mask, i.e. half-way between inside and
outside voxels), in millimetres through the affine, so anisotropic voxels and oblique grids measure
true lengths. End points are kept in voxel coordinates (floats) so they can be drawn and moved.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial import ConvexHull, QhullError
from skimage.measure import find_contours

Point = tuple[float, float, float]


def axial_axis(affine: np.ndarray) -> int:
    """The array axis closest to the patient's inferior-superior direction (the axial slice axis)."""
    directions = np.asarray(affine, float)[:3, :3]
    directions = directions / np.linalg.norm(directions, axis=0)
    return int(np.argmax(np.abs(directions[2])))


def in_plane_axes(slice_axis: int) -> tuple[int, int]:
    return tuple(a for a in range(3) if a != slice_axis)  # type: ignore[return-value]


def length_mm(affine: np.ndarray, start: Point, end: Point) -> float:
    """Distance in mm between two points given in (fractional) voxel coordinates."""
    delta = np.asarray(end, float) - np.asarray(start, float)
    return float(np.linalg.norm(np.asarray(affine, float)[:3, :3] @ delta))


@dataclass(frozen=True)
class Diameters:
    """The longest diameter and the longest perpendicular to it on one slice (voxel-coordinate ends)."""

    slice_axis: int
    slice_index: int
    long: tuple[Point, Point]
    short: tuple[Point, Point]
    long_mm: float
    short_mm: float


class _PlaneFrame:
    """An orthonormal 2-D frame (mm) of the plane spanned by two array axes of an affine."""

    def __init__(self, affine: np.ndarray, axes: tuple[int, int]) -> None:
        columns = np.asarray(affine, float)[:3, list(axes)]
        e1 = columns[:, 0] / np.linalg.norm(columns[:, 0])
        second = columns[:, 1] - (columns[:, 1] @ e1) * e1
        e2 = second / np.linalg.norm(second)
        self.to_mm = np.array([[columns[:, 0] @ e1, columns[:, 1] @ e1], [0.0, columns[:, 1] @ e2]])
        self.to_voxel = np.linalg.inv(self.to_mm)

    def mm(self, points: np.ndarray) -> np.ndarray:
        return points @ self.to_mm.T

    def voxel(self, points: np.ndarray) -> np.ndarray:
        return points @ self.to_voxel.T


def slice_diameters(
    mask: np.ndarray, affine: np.ndarray, slice_axis: int, slice_index: int
) -> Diameters | None:
    """The diameters of ``mask`` (3-D bool) on slice ``slice_index`` of ``slice_axis``; None when empty."""
    key: list[int | slice] = [slice(None)] * 3
    key[slice_axis] = int(slice_index)
    plane = np.asarray(mask[tuple(key)], bool)
    if not plane.any():
        return None
    axes = in_plane_axes(slice_axis)
    contours = find_contours(np.pad(plane, 1).astype(np.float32), 0.5)
    frame = _PlaneFrame(affine, axes)
    polygons = [frame.mm(contour - 1.0) for contour in contours]
    points = np.concatenate(polygons)
    a, b = _farthest_pair(points)
    direction = (points[b] - points[a]) / np.linalg.norm(points[b] - points[a])
    short = _widest_perpendicular(polygons, points[a], direction)

    def voxel_point(xy: np.ndarray) -> Point:
        ij = frame.voxel(xy)
        out = [0.0, 0.0, 0.0]
        out[slice_axis] = float(slice_index)
        out[axes[0]], out[axes[1]] = float(ij[0]), float(ij[1])
        return tuple(out)  # type: ignore[return-value]

    long_ends = (voxel_point(points[a]), voxel_point(points[b]))
    short_ends = (voxel_point(short[0]), voxel_point(short[1]))
    return Diameters(
        slice_axis,
        int(slice_index),
        long_ends,
        short_ends,
        length_mm(affine, *long_ends),
        length_mm(affine, *short_ends),
    )


def largest_slice(mask: np.ndarray, slice_axis: int) -> int:
    """Index of the slice (along ``slice_axis``) holding the most voxels of ``mask``."""
    counts = np.count_nonzero(mask, axis=tuple(a for a in range(3) if a != slice_axis))
    return int(np.argmax(counts))


def _farthest_pair(points: np.ndarray) -> tuple[int, int]:
    """Indices of the two points farthest apart (on the convex hull when there is one)."""
    candidates = np.arange(len(points))
    if len(points) > 3:
        try:
            candidates = ConvexHull(points).vertices
        except QhullError:  # collinear points
            pass
    hull = points[candidates]
    distances = np.linalg.norm(hull[:, None, :] - hull[None, :, :], axis=-1)
    i, j = np.unravel_index(int(np.argmax(distances)), distances.shape)
    return int(candidates[i]), int(candidates[j])


def _widest_perpendicular(
    polygons: list[np.ndarray], origin: np.ndarray, direction: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The longest chord across the outline perpendicular to ``direction`` (its two end points, mm)."""
    normal = np.array([-direction[1], direction[0]])
    starts = np.concatenate([p[:-1] for p in polygons]) - origin
    ends = np.concatenate([p[1:] for p in polygons]) - origin
    u0, u1 = starts @ direction, ends @ direction
    v0, v1 = starts @ normal, ends @ normal
    # max(v) - min(v) over the edges crossing a line u = const is convex between two vertices' u, so
    # its largest value is at a vertex: those positions are the only ones to try
    samples = np.unique(np.clip(u0, 0.0, None))[:, None]
    crossing = (np.minimum(u0, u1) <= samples) & (samples <= np.maximum(u0, u1)) & (u0 != u1)
    with np.errstate(divide="ignore", invalid="ignore"):
        v = v0 + (samples - u0) / (u1 - u0) * (v1 - v0)
    high = np.where(crossing, v, -np.inf).max(axis=1)
    low = np.where(crossing, v, np.inf).min(axis=1)
    width = np.where(np.isfinite(high) & np.isfinite(low), high - low, -1.0)
    best = int(np.argmax(width))
    u = float(samples[best, 0])
    if width[best] <= 0:  # a single line of voxels: no width across
        point = origin + u * direction
        return point, point
    return origin + u * direction + low[best] * normal, origin + u * direction + high[best] * normal
