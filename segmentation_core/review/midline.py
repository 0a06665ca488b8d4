"""The brain's mid-sagittal plane, fitted to the mid-points of the brain's left-right chords.

Lines are cast through the brain along the patient's left-right axis (world x, whatever the grid's
orientation); the point half-way between where each line enters and leaves the brain lies on the
midline of a head that is upright in the scanner (BraTS and other atlas-registered input). A plane is
fitted to those mid-points by least squares (lines at least half as long as the longest, with one
pass that drops outliers such as lines cut by a resection cavity). For a head rolled or turned in the
scanner the plane still goes through the brain's centre but tilts less than the head (mid-points of
oblique chords lie on the conjugate plane, not the plane of symmetry).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

#: Distance between neighbouring lines and between samples along a line (mm).
LINE_SPACING_MM = 3.0
SAMPLE_STEP_MM = 0.5


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


def midsagittal_plane(brain: np.ndarray, affine: np.ndarray) -> MidlinePlane:
    """The mid-sagittal plane of a brain mask (3-D bool) on a grid with ``affine``.

    Raises ValueError when the mask is empty.
    """
    brain = np.asarray(brain, bool)
    if not brain.any():
        raise ValueError("no brain voxels: the mid-sagittal plane cannot be found")
    affine = np.asarray(affine, float)
    voxels = np.argwhere(brain[::4, ::4, ::4]) * 4.0  # centre and extent need no more
    world = voxels @ affine[:3, :3].T + affine[:3, 3]
    point, normal = _fit(brain.astype(np.uint8), affine, world, np.array([1.0, 0.0, 0.0]))
    if normal[0] < 0:
        normal = -normal
    return MidlinePlane(tuple(float(v) for v in point), tuple(float(v) for v in normal))  # type: ignore[arg-type]


def _fit(
    image: np.ndarray, affine: np.ndarray, world: np.ndarray, direction: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Cast lines along ``direction`` through the brain (``world``: its voxels' world coordinates);
    a point on and the normal of the plane fitted to the chords' mid-points."""
    d = direction / np.linalg.norm(direction)
    helper = np.array([0.0, 0.0, 1.0]) if abs(d[2]) < 0.9 else np.array([0.0, 1.0, 0.0])
    e2 = np.cross(d, helper)
    e2 /= np.linalg.norm(e2)
    e3 = np.cross(d, e2)
    centre = world.mean(axis=0)
    frame = (world - centre) @ np.stack([d, e2, e3]).T
    low, high = frame.min(axis=0) - 2.0, frame.max(axis=0) + 2.0
    steps = np.arange(low[0], high[0], SAMPLE_STEP_MM)
    a, b = np.meshgrid(
        np.arange(low[1], high[1], LINE_SPACING_MM),
        np.arange(low[2], high[2], LINE_SPACING_MM),
        indexing="ij",
    )
    u, v = a.ravel(), b.ravel()
    to_voxel = np.linalg.inv(affine)
    origins = centre + u[:, None] * e2 + v[:, None] * e3
    base = (origins @ to_voxel[:3, :3].T + to_voxel[:3, 3]).T.astype(np.float32)  # (3, L)
    step = (to_voxel[:3, :3] @ d).astype(np.float32)  # voxels per mm along d
    coords = base[:, :, None] + step[:, None, None] * steps.astype(np.float32)[None, None, :]
    inside = ndimage.map_coordinates(image, coords, order=0, mode="constant", cval=0).astype(bool)
    hit = inside.any(axis=1)
    first = np.argmax(inside, axis=1)
    last = len(steps) - 1 - np.argmax(inside[:, ::-1], axis=1)
    width = np.where(hit, last - first, -1)
    chosen = width >= 0.5 * width.max()
    middle = (steps[first[chosen]] + steps[last[chosen]]) / 2.0  # along d, from each line's origin
    u, v = u[chosen], v[chosen]
    design = np.column_stack([np.ones(len(u)), u, v])
    keep = np.ones(len(u), bool)
    for _ in range(2):
        coef, *_ = np.linalg.lstsq(design[keep], middle[keep], rcond=None)
        residual = middle - design @ coef
        spread = 1.4826 * np.median(np.abs(residual[keep] - np.median(residual[keep])))
        keep = np.abs(residual) <= max(3.0 * spread, 2.0)
    # the plane: t = c0 + c1 u + c2 v along d, i.e. normal ∝ d - c1 e2 - c2 e3 in world coordinates
    normal = d - coef[1] * e2 - coef[2] * e3
    normal /= np.linalg.norm(normal)
    return centre + coef[0] * d, normal
