"""Reading cases in every supported form and writing label maps back in their source geometry.

Public API: ``load_case``, ``find_cases``, ``read_label_file``, ``write_label_map``, ``write_dicom_seg``,
``to_canonical`` / ``to_source_orientation`` / ``from_source_orientation`` and ``CaseLoadError``.
Canonical arrays are RAS+, Fortran-ordered (like NIfTI); images float32, label maps uint8 internal labels.

Names are imported from their submodules on first use (PEP 562): nibabel, SimpleITK and highdicom take
most of a second to import, and the viewer's window should not wait for them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from segmentation_core.io.dicom_seg import write_dicom_seg
    from segmentation_core.io.errors import CaseLoadError
    from segmentation_core.io.export import ExportError, sidecar_path, write_label_map
    from segmentation_core.io.label_io import read_label_file
    from segmentation_core.io.loader import load_case
    from segmentation_core.io.naming import find_cases
    from segmentation_core.io.orientation import from_source_orientation, to_canonical, to_source_orientation

_SUBMODULE = {
    "CaseLoadError": "errors",
    "ExportError": "export",
    "find_cases": "naming",
    "from_source_orientation": "orientation",
    "load_case": "loader",
    "read_label_file": "label_io",
    "sidecar_path": "export",
    "to_canonical": "orientation",
    "to_source_orientation": "orientation",
    "write_dicom_seg": "dicom_seg",
    "write_label_map": "export",
}
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
    """Import a public name from its submodule when it is first asked for."""
    if name not in _SUBMODULE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_SUBMODULE[name]}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
