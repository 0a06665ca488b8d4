"""NIfTI reading (nibabel): one decode per file, native dtype, geometry checked."""

from __future__ import annotations

import gzip
import stat
import zlib
from dataclasses import dataclass
from pathlib import Path

import nibabel as nib
import numpy as np

from segmentation_core.io.errors import CaseLoadError
from segmentation_core.io.validation import check_affine

NIFTI_SUFFIXES = (".nii", ".nii.gz")
#: Most voxels and bytes of one image this app allocates (a BraTS sequence is 8.9 M voxels, 36 MB).
MAX_VOXELS = 2**30
MAX_BYTES = 4 * 2**30
#: gzip (deflate) never compresses better than about 1032:1.
MAX_GZIP_RATIO = 1100


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
    """Open a NIfTI file (header only; pixels are read lazily); its size is checked before any read."""
    check_regular_file(path)
    try:
        img = nib.load(path, mmap=False)
    except PermissionError as exc:
        raise CaseLoadError(path, "permission denied", "ask for read access to the file, or copy it") from exc
    except Exception as exc:  # nibabel raises many types (HeaderDataError, ImageFileError, zlib.error...)
        raise CaseLoadError(
            path,
            f"not a readable NIfTI image ({exc.__class__.__name__}: {' '.join(str(exc).split())})",
            "check that the file is a complete .nii/.nii.gz image (re-download or re-export it)",
        ) from exc
    if not isinstance(img, (nib.Nifti1Image, nib.Nifti2Image)):
        raise CaseLoadError(path, f"is a {type(img).__name__}, not a NIfTI image", "convert it to NIfTI")
    check_claimed_size(img, path)
    return img


def check_claimed_size(img: nib.Nifti1Image | nib.Nifti2Image, path: Path) -> None:
    """Refuse a header whose voxel data cannot be in the file, or exceeds the memory limit, before reading."""
    shape = tuple(int(n) for n in img.shape)
    if len(shape) > 4:
        raise CaseLoadError(
            path, f"has {len(shape)} dimensions {shape}; a 3-D volume (or an MSD 4-D case) is needed"
        )
    dtype = img.header.get_data_dtype()
    voxels = int(np.prod(shape, dtype=object))
    claimed = voxels * dtype.itemsize
    offset = int(img.header.get("vox_offset", 0) or 0)
    size = path.stat().st_size
    if voxels > MAX_VOXELS or claimed > MAX_BYTES:
        raise CaseLoadError(
            path,
            f"the header claims {' x '.join(map(str, shape))} voxels ({_gib(claimed)}), more than this app "
            f"reads ({_gib(MAX_BYTES)} at most)",
            "check that the header is not damaged",
        )
    compressed = path.name.lower().endswith(".gz")
    if compressed:
        possible = size * MAX_GZIP_RATIO
        trailer = _gzip_size(path) if size >= 18 else None
        short = claimed + offset > possible or (
            trailer is not None and claimed + offset < 2**32 and trailer < claimed + offset
        )
    else:
        short = size - offset < claimed
    if short:
        raise CaseLoadError(
            path,
            f"the header claims {' x '.join(map(str, shape))} {dtype} voxels ({_gib(claimed)}) but the file "
            f"holds only {size} bytes{' compressed' if compressed else ''}: it is truncated or corrupt",
            "re-download or re-export the file",
        )


def _gib(n: int) -> str:
    if n >= 2**28:
        return f"{n / 2**30:.2f} GiB"
    return f"{n / 2**20:.1f} MiB" if n >= 2**20 else f"{n} bytes"


def _gzip_size(path: Path) -> int | None:
    """The uncompressed size recorded in a gzip file's trailer (modulo 2**32), or None if unreadable."""
    try:
        with path.open("rb") as fh:
            fh.seek(-4, 2)
            return int.from_bytes(fh.read(4), "little")
    except OSError:
        return None


def check_regular_file(path: Path) -> None:
    """Raise unless ``path`` is a regular file (a named pipe or device would block or never end)."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise CaseLoadError(path, "file not found", "check the path") from None
    except PermissionError as exc:
        raise CaseLoadError(path, "permission denied", "ask for read access to the file") from exc
    except OSError as exc:
        raise CaseLoadError(path, f"cannot be read ({exc.strerror})", "check the path") from exc
    if not stat.S_ISREG(mode):
        kind = (
            "a named pipe"
            if stat.S_ISFIFO(mode)
            else "a folder"
            if stat.S_ISDIR(mode)
            else "not a regular file"
        )
        raise CaseLoadError(path, f"is {kind}, not an image file", "give the image file itself")


def read_nifti(path: Path) -> RawImage:
    """Read a NIfTI file's voxels once, keeping the stored dtype unless scaling makes it float."""
    img = load_nifti_header(path)
    try:
        array = np.asanyarray(img.dataobj)
    except MemoryError as exc:
        raise CaseLoadError(
            path, "too large to read into memory", "close other programs or use a smaller image"
        ) from exc
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
