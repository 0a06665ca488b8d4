"""Canonical (RAS+) orientation: axis permutations and flips only, never resampling.

Works like nibabel's ``as_closest_canonical``: every array is stored with its axes as close as possible
to Right, Anterior, Superior; ``to_source_orientation`` undoes that exactly for export. Arrays are kept
Fortran-ordered (as NIfTI stores them), so reorienting and converting a NIfTI volume is one sequential
pass.
"""

from __future__ import annotations

import nibabel as nib
import numpy as np
from nibabel.orientations import apply_orientation, inv_ornt_aff, io_orientation, ornt_transform

from segmentation_core.types import Case

_RAS = np.array([[0, 1], [1, 1], [2, 1]], dtype=float)


def canonical_ornt(affine: np.ndarray) -> np.ndarray:
    """The nibabel orientation transform taking an array with ``affine`` to RAS+ axes."""
    return io_orientation(np.asarray(affine, dtype=np.float64))


def canonical_view(array: np.ndarray, affine: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A RAS+ view of ``array`` (first three axes permuted/flipped, no copy) and its affine."""
    ornt = canonical_ornt(affine)
    view = array if np.array_equal(ornt, _RAS) else apply_orientation(array, ornt)
    return view, np.asarray(affine, dtype=np.float64) @ inv_ornt_aff(ornt, array.shape[:3])


def to_canonical(
    array: np.ndarray, affine: np.ndarray, dtype: np.dtype | type | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Reorient ``array`` to RAS+; returns a Fortran-contiguous array and its new affine.

    ``dtype`` converts in the same pass as the reorientation copy; an array that is already RAS+,
    Fortran-ordered and of that dtype is returned without copying.
    """
    view, new_affine = canonical_view(array, affine)
    return np.asfortranarray(view, dtype=dtype), new_affine


def from_source_orientation(array: np.ndarray, case: Case) -> np.ndarray:
    """Reorient an array laid out like the case's source files to the case's canonical grid."""
    source_affine, source_shape = _source_geometry(case)
    if tuple(array.shape[:3]) != tuple(source_shape):
        raise ValueError(f"array shape {array.shape} does not match the source grid {source_shape}")
    return np.asfortranarray(apply_orientation(array, canonical_ornt(source_affine)))


def to_source_orientation(array: np.ndarray, case: Case) -> np.ndarray:
    """Inverse of the canonical reorientation: lay a canonical-grid array out like the source files."""
    source_affine, source_shape = _source_geometry(case)
    ornt = canonical_ornt(source_affine)
    back = ornt_transform(_RAS, ornt)
    out = np.asfortranarray(apply_orientation(array, back))
    if tuple(out.shape[:3]) != tuple(source_shape):
        raise ValueError(f"array shape {array.shape} does not match the case's canonical grid {case.shape}")
    return out


def _source_geometry(case: Case) -> tuple[np.ndarray, tuple[int, int, int]]:
    if case.source_affine is None or case.source_shape is None:
        return case.affine, case.shape
    return case.source_affine, case.source_shape


def axis_codes(affine: np.ndarray) -> str:
    """Orientation codes such as ``"LPS"``."""
    return "".join(nib.aff2axcodes(affine))
