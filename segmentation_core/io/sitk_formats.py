"""NRRD, MHA/MHD (and any other SimpleITK format), plus Volume <-> SimpleITK image conversion.

SimpleITK stores physical points in LPS and arrays as (z, y, x); ``Volume`` uses NIfTI's RAS affine
with arrays indexed (i, j, k). These helpers convert both ways without touching the voxels' order
beyond a transposed view.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import SimpleITK as sitk

from segmentation_core.io.errors import CaseLoadError
from segmentation_core.io.nifti import MAX_VOXELS, RawImage, check_regular_file
from segmentation_core.io.validation import check_affine

SITK_SUFFIXES = (".nrrd", ".nhdr", ".mha", ".mhd")
_LPS_TO_RAS = np.diag([-1.0, -1.0, 1.0, 1.0])


def is_sitk_format(path: Path) -> bool:
    return path.name.lower().endswith(SITK_SUFFIXES)


def sitk_affine(image: sitk.Image) -> np.ndarray:
    """The RAS voxel-to-world affine of a 3-D SimpleITK image."""
    direction = np.asarray(image.GetDirection(), dtype=np.float64).reshape(3, 3)
    affine = np.eye(4)
    affine[:3, :3] = direction * np.asarray(image.GetSpacing(), dtype=np.float64)
    affine[:3, 3] = image.GetOrigin()
    return _LPS_TO_RAS @ affine


def from_sitk(image: sitk.Image) -> tuple[np.ndarray, np.ndarray]:
    """(array indexed i, j, k, Fortran-ordered without a copy; RAS affine) of a 3-D SimpleITK image."""
    return sitk.GetArrayFromImage(image).transpose(2, 1, 0), sitk_affine(image)


def to_sitk(array: np.ndarray, affine: np.ndarray) -> sitk.Image:
    """A SimpleITK image holding ``array`` (indexed i, j, k) with the geometry of a RAS ``affine``."""
    lps = _LPS_TO_RAS @ np.asarray(affine, dtype=np.float64)
    spacing = np.linalg.norm(lps[:3, :3], axis=0)
    image = sitk.GetImageFromArray(np.ascontiguousarray(array.transpose(2, 1, 0)))
    image.SetSpacing(tuple(float(s) for s in spacing))
    image.SetOrigin(tuple(float(o) for o in lps[:3, 3]))
    image.SetDirection(tuple(float(d) for d in (lps[:3, :3] / spacing).ravel()))
    return image


def read_sitk(path: Path) -> RawImage:
    """Read a 3-D image SimpleITK understands (NRRD, MHA, MHD...)."""
    check_regular_file(path)
    try:
        reader = sitk.ImageFileReader()
        reader.SetFileName(str(path))
        reader.ReadImageInformation()
        claimed = int(np.prod(reader.GetSize(), dtype=object)) * reader.GetNumberOfComponents()
        if claimed > MAX_VOXELS:
            raise CaseLoadError(
                path,
                f"the header claims {' x '.join(map(str, reader.GetSize()))} voxels, more than this app reads",
                "check that the header is not damaged",
            )
        image = reader.Execute()
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()[-1] if str(exc).strip() else ""
        raise CaseLoadError(
            path,
            f"not a readable image ({first})",
            "check that the file is complete and an NRRD/MHA/MHD image",
        ) from exc
    if image.GetNumberOfComponentsPerPixel() != 1:
        raise CaseLoadError(
            path,
            f"has {image.GetNumberOfComponentsPerPixel()} components per voxel, one scalar volume is needed",
            "save each sequence as its own scalar 3-D image",
        )
    if image.GetDimension() != 3:
        raise CaseLoadError(
            path,
            f"is {image.GetDimension()}-D with size {image.GetSize()}, a 3-D volume is needed",
            "give one 3-D volume per sequence",
        )
    array, affine = from_sitk(image)
    check_affine(affine, path)
    return RawImage(array, affine, path)
