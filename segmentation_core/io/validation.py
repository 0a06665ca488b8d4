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


def check_finite(array: np.ndarray, path: Path) -> None:
    """Raise when a floating-point array holds NaN or infinite voxels (integer arrays always pass)."""
    if not np.issubdtype(array.dtype, np.floating):
        return
    finite = np.isfinite(array)
    if not finite.all():
        bad = int(finite.size - np.count_nonzero(finite))
        raise CaseLoadError(
            path,
            f"{bad} voxel(s) are NaN or infinite",
            "fix or re-export the image (e.g. replace NaN with 0) before loading it",
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
