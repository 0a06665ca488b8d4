"""Read any supported single image file (NIfTI, NRRD, MHA/MHD) as a RawImage."""

from __future__ import annotations

from pathlib import Path

from segmentation_core.io.errors import CaseLoadError
from segmentation_core.io.nifti import RawImage, is_nifti, read_nifti
from segmentation_core.io.sitk_formats import is_sitk_format, read_sitk


def read_image(path: Path | str) -> RawImage:
    """Read one image file, choosing the reader from its name."""
    path = Path(path)
    if is_nifti(path):
        return read_nifti(path)
    if is_sitk_format(path):
        return read_sitk(path)
    raise CaseLoadError(
        path,
        f"unsupported file type {path.suffix or '(no suffix)'!r}",
        "use NIfTI (.nii/.nii.gz), NRRD (.nrrd) or MetaImage (.mha/.mhd) files, or a DICOM folder",
    )


def source_format(path: Path) -> str:
    """The storage kind: "dicom" for a series folder, else "nifti" or "sitk" from the file name."""
    if path.is_dir():
        return "dicom"
    return "nifti" if is_nifti(path) else "sitk"
