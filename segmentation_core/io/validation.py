"""Checks every image and label array passes before it becomes part of a case."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from segmentation_core.io.errors import CaseLoadError


def check_3d(array: np.ndarray, path: Path, what: str = "image") -> np.ndarray:
    """Return ``array`` as 3-D (dropping trailing singleton axes) or raise naming the file."""
    while array.ndim > 3 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.ndim != 3:
        raise CaseLoadError(
            path,
            f"the {what} has {array.ndim} dimension(s) with shape {tuple(array.shape)}, a 3-D volume is needed",
            "give one 3-D volume per sequence (an MSD 4-D file must hold exactly 4 volumes)",
        )
    if min(array.shape) < 2:
        raise CaseLoadError(
            path,
            f"the {what} is a single 2-D slice (shape {tuple(array.shape)}), a 3-D volume is needed",
            "export the whole series / volume, not one slice",
        )
    return array


def check_finite(array: np.ndarray, path: Path, *, cast: bool = False) -> None:
    """Raise when a floating-point array holds NaN or infinite voxels (integer arrays always pass).

    ``cast``: the array was just converted to float32, so infinities come from values too large for it.
    """
    if not np.issubdtype(array.dtype, np.floating):
        return
    finite = np.isfinite(array)
    if not finite.all():
        bad = int(finite.size - np.count_nonzero(finite))
        problem = (
            f"{bad} voxel(s) exceed the float32 range (|value| > 3.4e38) and became infinite"
            if cast
            else f"{bad} voxel(s) are NaN or infinite"
        )
        raise CaseLoadError(
            path, problem, "fix or re-export the image (e.g. replace NaN with 0) before loading it"
        )


def check_voxel_type(array: np.ndarray, path: Path) -> np.ndarray:
    """Raise unless the voxels are real scalars (not complex, RGB or another record type)."""
    if np.issubdtype(array.dtype, np.complexfloating):
        raise CaseLoadError(
            path,
            f"holds complex voxels ({array.dtype}); taking the magnitude or real part silently is not safe",
            "save the magnitude image instead",
        )
    if array.dtype.names is not None or not (
        np.issubdtype(array.dtype, np.integer)
        or np.issubdtype(array.dtype, np.floating)
        or array.dtype == np.bool_
    ):
        raise CaseLoadError(
            path,
            f"holds {array.dtype} voxels (e.g. RGB colour), not scalar intensities",
            "save a grey-scale image",
        )
    return array


#: Fewest voxels of the reference sequence (4 x 4 x 4): anything smaller must not set the case's grid.
MIN_VOXELS = 64


def check_size(array: np.ndarray, path: Path) -> None:
    """Raise when the reference volume is too small to be an MRI sequence (it would become the grid)."""
    if array.size < MIN_VOXELS:
        raise CaseLoadError(
            path,
            f"the volume is only {' x '.join(map(str, array.shape))} voxels; an MRI sequence has at least "
            f"{MIN_VOXELS}",
            "check that the right file was chosen",
        )


def check_affine(affine: np.ndarray, path: Path) -> None:
    """Raise when the voxel-to-world matrix is missing, singular or not finite."""
    linear = np.asarray(affine, dtype=np.float64)[:3, :3]
    if not np.isfinite(affine).all() or abs(np.linalg.det(linear)) < 1e-12:
        raise CaseLoadError(
            path,
            "the voxel-to-world affine is singular or not finite, so the image has no usable geometry",
            "repair the header (sform/qform or spacing/direction) and save the image again",
        )
    spacing = np.linalg.norm(linear, axis=0)
    if spacing.min() < MIN_SPACING_MM or spacing.max() > MAX_SPACING_MM:
        raise CaseLoadError(
            path,
            f"the voxel spacing {tuple(float(f'{v:.4g}') for v in spacing)} mm is implausible for MRI "
            f"(expected {MIN_SPACING_MM} to {MAX_SPACING_MM} mm)",
            "repair the header's pixel dimensions (pixdim / spacing) and save the image again",
        )


#: Plausible voxel sizes of an MRI sequence (mm).
MIN_SPACING_MM = 0.01
MAX_SPACING_MM = 100.0
