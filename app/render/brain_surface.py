"""A translucent brain surface for context in the 3D view, from a brain mask made from the images.

Skull-stripped images (BraTS: zero outside the brain) give the brain mask itself as "any sequence
non-zero"; other images are thresholded (Otsu's classes on the reference sequence, halfway between their means), keeping the largest connected part with its
holes filled. Computed on every ``STEP``-th voxel: context needs no full resolution. Pure computation:
run ``run_brain_surface`` as a job in a worker thread.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from dataclasses import dataclass

import numpy as np
import pyvista as pv

from app.render.surfaces import _image_data, _surface
from segmentation_core.types import CancelToken, Progress

STEP = 2
#: Images whose zero voxels are at least this fraction of the grid count as skull-stripped.
STRIPPED_ZERO_FRACTION = 0.3
SMOOTHING_ITERATIONS = 20


@dataclass(frozen=True, eq=False)
class BrainSurfaceRequest:
    """The sequences (name -> array on one grid) and the grid's affine."""

    images: Mapping[str, np.ndarray]
    affine: np.ndarray
    reference: str = "t1"


def brain_mask(images: Mapping[str, np.ndarray], reference: str = "t1") -> np.ndarray:
    """Which voxels are brain (or head, for images that are not skull-stripped), as a boolean array."""
    from scipy import ndimage
    from skimage.filters import threshold_otsu

    arrays = list(images.values())
    nonzero = np.zeros(arrays[0].shape, dtype=bool)
    for array in arrays:
        nonzero |= array != 0
    if 1.0 - nonzero.mean() >= STRIPPED_ZERO_FRACTION:
        mask = nonzero
    else:
        image = np.asarray(images.get(reference, arrays[0]), dtype=np.float32)
        finite = image[np.isfinite(image)]
        if finite.size == 0 or finite.min() == finite.max():
            return np.zeros(image.shape, dtype=bool)
        otsu = threshold_otsu(finite)
        # halfway between the two classes' means: Otsu alone may sit anywhere in a wide gap between them
        mask = image > (finite[finite <= otsu].mean() + finite[finite > otsu].mean()) / 2
    labelled, count = ndimage.label(mask)
    if count == 0:
        return mask
    sizes = np.bincount(labelled.ravel())
    sizes[0] = 0
    return ndimage.binary_fill_holes(labelled == int(np.argmax(sizes)))


def run_brain_surface(
    request: BrainSurfaceRequest, cancel: CancelToken
) -> Generator[Progress, None, pv.PolyData | None]:
    """The job: yields Progress, returns the brain's surface in world coordinates (None when empty)."""
    step = STEP
    yield Progress(0, 2, "brain mask")
    mask = brain_mask(
        {name: np.asarray(a)[::step, ::step, ::step] for name, a in request.images.items()},
        request.reference,
    )
    cancel.raise_if_cancelled()
    if not mask.any():
        return None
    yield Progress(1, 2, "brain surface")
    padded = np.pad(mask.astype(np.uint8), 1)  # closed at the grid's border
    mesh = _surface(_image_data(padded), 1, SMOOTHING_ITERATIONS)
    if mesh.n_points == 0:
        return None
    affine = np.asarray(request.affine, dtype=float)
    voxels = (np.asarray(mesh.points) - 1.0) * step
    mesh.points = voxels @ affine[:3, :3].T + affine[:3, 3]
    mesh.point_data.pop("Normals", None)  # recomputed by the renderer (smooth shading)
    return mesh
