"""The brain's mid-sagittal plane, fitted to the mid-points of the brain's left-right extent.

For every line of voxels running left-right through the brain (lines at least half as wide as the
widest), the point half-way between its first and last brain voxel lies on the midline. A plane
``x = a + b*y + c*z`` (world mm, RAS+) is fitted to those points by least squares, with one pass that
drops outliers (lines cut by the edge of the head or a resection cavity), so a tilted head is followed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Every LINE_STEP-th line along each of the other two axes is used (the fit needs no more).
LINE_STEP = 2


@dataclass(frozen=True)
class MidlinePlane:
    """A plane through ``point`` with unit ``normal`` pointing to the patient's right (world +x)."""

    point: tuple[float, float, float]
    normal: tuple[float, float, float]

    def signed_distance(self, world: np.ndarray) -> np.ndarray:
        """Distance (mm) of world points (N, 3) from the plane: positive on the patient's right."""
        return (np.asarray(world, float) - np.asarray(self.point)) @ np.asarray(self.normal)

    def voxel_distance(self, affine: np.ndarray, voxels: np.ndarray) -> np.ndarray:
        """Signed distance (mm) of voxel coordinates (N, 3) on a grid with this affine."""
        voxels = np.asarray(voxels, float)
        world = voxels @ np.asarray(affine, float)[:3, :3].T + np.asarray(affine, float)[:3, 3]
        return self.signed_distance(world)

    def to_dict(self) -> dict[str, list[float]]:
        return {"point": list(self.point), "normal": list(self.normal)}


def left_right_axis(affine: np.ndarray) -> int:
    """The array axis closest to the patient's left-right direction."""
    directions = np.asarray(affine, float)[:3, :3]
    directions = directions / np.linalg.norm(directions, axis=0)
    return int(np.argmax(np.abs(directions[0])))


def midsagittal_plane(brain: np.ndarray, affine: np.ndarray) -> MidlinePlane:
    """The mid-sagittal plane of a brain mask (3-D bool) on a grid with ``affine``.

    Raises ValueError when the mask is empty.
    """
    brain = np.asarray(brain, bool)
    if not brain.any():
        raise ValueError("no brain voxels: the mid-sagittal plane cannot be found")
    affine = np.asarray(affine, float)
    axis = left_right_axis(affine)
    step = [1 if a == axis else LINE_STEP for a in range(3)]
    lines = brain[tuple(slice(None, None, s) for s in step)]
    n = lines.shape[axis]
    present = lines.any(axis=axis)
    first = np.argmax(lines, axis=axis)
    last = n - 1 - np.argmax(np.flip(lines, axis=axis), axis=axis)
    width = np.where(present, last - first, -1)
    chosen = width >= 0.5 * width.max()
    rows, cols = np.nonzero(chosen)
    middle = (first[chosen] + last[chosen]) / 2.0
    voxels = np.zeros((len(middle), 3))
    others = [a for a in range(3) if a != axis]
    voxels[:, others[0]], voxels[:, others[1]] = rows * LINE_STEP, cols * LINE_STEP
    voxels[:, axis] = middle
    world = voxels @ affine[:3, :3].T + affine[:3, 3]
    design = np.column_stack([np.ones(len(world)), world[:, 1], world[:, 2]])
    keep = np.ones(len(world), bool)
    for _ in range(2):
        coef, *_ = np.linalg.lstsq(design[keep], world[keep, 0], rcond=None)
        residual = world[:, 0] - design @ coef
        spread = 1.4826 * np.median(np.abs(residual[keep] - np.median(residual[keep])))
        keep = np.abs(residual) <= max(3.0 * spread, 2.0)
    normal = np.array([1.0, -coef[1], -coef[2]])
    normal /= np.linalg.norm(normal)
    return MidlinePlane((float(coef[0]), 0.0, 0.0), tuple(float(v) for v in normal))  # type: ignore[arg-type]
