"""NIfTI reading (nibabel): one decode per file, native dtype, geometry checked."""

from __future__ import annotations

import gzip
import zlib
from dataclasses import dataclass
from pathlib import Path

import nibabel as nib
import numpy as np
from nibabel.filebasedimages import ImageFileError

from segmentation_core.io.errors import CaseLoadError
from segmentation_core.io.validation import check_affine

NIFTI_SUFFIXES = (".nii", ".nii.gz")


@dataclass(frozen=True, eq=False)
class RawImage:
    """Pixels exactly as stored (axes as in the file) with the file's NIfTI-style RAS affine."""

    array: np.ndarray
    affine: np.ndarray
    path: Path
    #: Things the user should know about this file (shown as case warnings).
    notes: tuple[str, ...] = ()


def is_nifti(path: Path) -> bool:
    return path.name.lower().endswith(NIFTI_SUFFIXES)


def load_nifti_header(path: Path) -> nib.Nifti1Image | nib.Nifti2Image:
    """Open a NIfTI file (header only; pixels are read lazily)."""
    if not path.is_file():
        raise CaseLoadError(path, "file not found", "check the path")
    try:
        img = nib.load(path, mmap=False)
    except (ImageFileError, OSError, EOFError, ValueError, zlib.error, gzip.BadGzipFile) as exc:
        raise CaseLoadError(
            path,
            f"not a readable NIfTI image ({exc.__class__.__name__}: {exc})",
            "check that the file is a complete .nii/.nii.gz image (re-download or re-export it)",
        ) from exc
    if not isinstance(img, (nib.Nifti1Image, nib.Nifti2Image)):
        raise CaseLoadError(path, f"is a {type(img).__name__}, not a NIfTI image", "convert it to NIfTI")
    return img


def read_nifti(path: Path) -> RawImage:
    """Read a NIfTI file's voxels once, keeping the stored dtype unless scaling makes it float."""
    img = load_nifti_header(path)
    try:
        array = np.asanyarray(img.dataobj)
    except (OSError, EOFError, ValueError, zlib.error, gzip.BadGzipFile) as exc:
        raise CaseLoadError(
            path,
            f"the voxel data cannot be read, the file is truncated or corrupt ({exc})",
            "re-download or re-export the file",
        ) from exc
    affine = img.affine
    check_affine(affine, path)
    notes: tuple[str, ...] = ()
    if int(img.header["sform_code"]) == 0 and int(img.header["qform_code"]) == 0:
        notes = (
            f"{path.name} has no orientation in its header (sform and qform codes are 0); "
            f"its axes were assumed to be {''.join(nib.aff2axcodes(affine))} (NIfTI's fallback) — check left/right",
        )
    return RawImage(array, np.asarray(affine, dtype=np.float64), path, notes)
