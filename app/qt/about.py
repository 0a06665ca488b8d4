"""Help ▸ About: versions of the app and its engines, the compute device, and data citations."""

from __future__ import annotations

import platform

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import Qt, qVersion
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from app import __version__ as app_version

BRATS_CITATION = (
    "Sample case and bundled model training data: BraTS 2018 (CBICA, University of Pennsylvania). "
    "Please cite: Menze et al., IEEE TMI 34(10), 2015; Bakas et al., Scientific Data 4:170117, 2017; "
    "Bakas et al., arXiv:1811.02629, 2018; for TCIA cases, doi:10.7937/K9/TCIA.2017.KLXWJJ1Q and "
    "doi:10.7937/K9/TCIA.2017.GJQ7R0EF."
)


def compute_device_description() -> tuple[str, str]:
    """(torch version, compute device found); imports torch lazily, only when asked."""
    import torch

    if torch.cuda.is_available():
        device = f"CUDA: {torch.cuda.get_device_name(0)}"
    elif getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        device = "Apple MPS"
    else:
        device = f"CPU ({torch.get_num_threads()} threads)"
    return torch.__version__, device


def about_text() -> str:
    """The About box body as HTML (imports torch, so call it on demand)."""
    from vtkmodules.vtkCommonCore import vtkVersion  # not `import vtk`: that loads all of VTK

    torch_version, device = compute_device_description()
    rows = [
        ("BraTS Viewer", app_version),
        ("Qt", f"{qVersion()} (PySide6 {pyside_version})"),
        ("VTK", vtkVersion.GetVTKVersion()),
        ("PyTorch", torch_version),
        ("Compute device", device),
        ("Python", platform.python_version()),
    ]
    table = "".join(f"<tr><td><b>{k}</b></td><td>{v}</td></tr>" for k, v in rows)
    return (
        "<h3>BraTS Viewer</h3><p>Brain-tumour MRI viewer with an on-board 3D U-Net. "
        "Research use only; not for diagnosis.</p>"
        f"<table>{table}</table><p><small>{BRATS_CITATION}</small></p>"
    )


def show_about(parent: QWidget) -> None:
    """Show the About box (torch is imported here, on first use)."""
    QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
    try:
        text = about_text()
    finally:
        QApplication.restoreOverrideCursor()
    QMessageBox.about(parent, "About BraTS Viewer", text)
