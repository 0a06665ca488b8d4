"""Reading cases in every supported form and writing label maps back in their source geometry.

Public API: ``load_case``, ``find_cases``, ``read_label_file``, ``write_label_map``, ``write_dicom_seg``,
``to_canonical`` / ``to_source_orientation`` / ``from_source_orientation`` and ``CaseLoadError``.
Canonical arrays are RAS+, Fortran-ordered (like NIfTI); images float32, label maps uint8 internal labels.
"""

from __future__ import annotations

from segmentation_core.io.errors import CaseLoadError
from segmentation_core.io.export import ExportError, sidecar_path, write_label_map
from segmentation_core.io.label_io import read_label_file
from segmentation_core.io.loader import load_case
from segmentation_core.io.naming import find_cases
from segmentation_core.io.orientation import from_source_orientation, to_canonical, to_source_orientation

__all__ = [
    "CaseLoadError",
    "ExportError",
    "find_cases",
    "from_source_orientation",
    "load_case",
    "read_label_file",
    "sidecar_path",
    "to_canonical",
    "to_source_orientation",
    "write_dicom_seg",
    "write_label_map",
]


def __getattr__(name: str) -> object:
    """``write_dicom_seg`` is imported on first use (highdicom is slow to import)."""
    if name == "write_dicom_seg":
        from segmentation_core.io.dicom_seg import write_dicom_seg

        return write_dicom_seg
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
