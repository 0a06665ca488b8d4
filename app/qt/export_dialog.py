"""File ▸ Export segmentation…: where to, which label scheme, DICOM-SEG and "add to my training set"."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QWidget,
)

from segmentation_core.labels import SCHEMES

EXPORT_SCHEMES = ("brats", "brats2023", "msd")


class ExportDialog(QDialog):
    """Collects the export options; ``path``, ``scheme``, ``dicom_seg`` and ``add_to_library`` read them."""

    def __init__(self, default_path: Path, dicom_available: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export segmentation")
        self.setMinimumWidth(560)
        self.path_edit = QLineEdit(str(default_path), self)
        browse = QPushButton("Browse…", self, clicked=self._browse)
        row = QWidget(self)
        row_layout = QHBoxLayout(row)
        row_layout.setContentsMargins(0, 0, 0, 0)
        row_layout.addWidget(self.path_edit)
        row_layout.addWidget(browse)
        self.scheme_combo = QComboBox(self)
        for name in EXPORT_SCHEMES:
            self.scheme_combo.addItem(SCHEMES[name].description, name)
        self.dicom_check = QCheckBox("Also write a DICOM-SEG referencing the source series", self)
        self.dicom_check.setEnabled(dicom_available)
        self.dicom_check.setChecked(dicom_available)
        self.library_check = QCheckBox("Add to my training set (for Retrain ▸ Fine-tune)", self)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow("NIfTI file", row)
        form.addRow("Label values", self.scheme_combo)
        form.addRow(self.dicom_check)
        form.addRow(self.library_check)
        form.addRow(buttons)

    def _browse(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Export segmentation", self.path_edit.text(), "NIfTI (*.nii.gz *.nii)"
        )
        if path:
            self.path_edit.setText(path)

    @property
    def path(self) -> Path:
        text = self.path_edit.text().strip()
        return Path(text if text.endswith((".nii", ".nii.gz")) else text + ".nii.gz")

    @property
    def scheme(self) -> str:
        return str(self.scheme_combo.currentData())

    @property
    def dicom_seg(self) -> bool:
        return self.dicom_check.isEnabled() and self.dicom_check.isChecked()

    @property
    def add_to_library(self) -> bool:
        return self.library_check.isChecked()
