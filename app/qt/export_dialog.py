"""File ▸ Export segmentation…: where to, which label scheme, DICOM-SEG and "add to my training set"."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QWidget,
)

from segmentation_core.labels import SCHEMES
from segmentation_core.types import Case

EXPORT_SCHEMES = ("brats", "brats2023", "msd")


class ExportDialog(QDialog):
    """Collects the export options; ``path``, ``scheme``, ``dicom_seg``, ``add_to_library`` read them.

    Save refuses a name that would write over a file ``case`` was read from, and asks before
    replacing any other existing file (``overwrite`` is then True).
    """

    def __init__(
        self,
        default_path: Path,
        dicom_available: bool,
        parent: QWidget | None = None,
        case: Case | None = None,
        library_refusal: str | None = None,
    ) -> None:
        super().__init__(parent)
        self.case = case
        self.overwrite = False
        #: yes/no question and notice boxes (tests replace them; modal boxes would block)
        self.ask: Callable[[str, str], bool] = self._ask_box
        self.tell: Callable[[str, str], None] = self._tell_box
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
        #: why the case cannot join the training set, shown under the (disabled) checkbox
        self.library_note = QLabel(self)
        self.library_note.setWordWrap(True)
        self.library_note.setVisible(bool(library_refusal))
        if library_refusal:
            sentence = library_refusal[0].upper() + library_refusal[1:] + "."
            self.library_check.setEnabled(False)
            self.library_check.setToolTip(sentence)
            self.library_note.setText(sentence)
            self.library_note.setEnabled(False)  # drawn in the palette's muted text colour
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
        form.addRow(self.library_note)
        form.addRow(buttons)

    def _browse(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Export segmentation", self.path_edit.text(), "NIfTI (*.nii.gz *.nii)"
        )
        if path:
            self.path_edit.setText(path)

    def accept(self) -> None:
        """Check the names (source files: refuse; existing files: ask) before closing with Save."""
        from segmentation_core.io.export import conflicts, export_targets

        targets = export_targets(self.path, dicom_seg=self.dicom_seg)
        protected, existing = conflicts(self.case, targets) if self.case is not None else ([], [])
        if protected:
            names = "\n".join(str(p) for p in protected)
            self.tell(
                "Export segmentation",
                f"This would write over a file the open case was read from:\n{names}\n\n"
                "The case's own images are never overwritten; choose another name.",
            )
            return
        existing = existing if self.case is not None else [t for t in targets if t.exists()]
        if existing:
            names = "\n".join(str(p) for p in existing)
            if not self.ask(
                "Replace existing files?", f"These files exist already:\n{names}\n\nReplace them?"
            ):
                return
        self.overwrite = bool(existing)
        super().accept()

    def _ask_box(self, title: str, text: str) -> bool:
        buttons = QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No
        answer = QMessageBox.warning(self, title, text, buttons, QMessageBox.StandardButton.No)
        return answer == QMessageBox.StandardButton.Yes

    def _tell_box(self, title: str, text: str) -> None:
        QMessageBox.warning(self, title, text)

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
        return self.library_check.isEnabled() and self.library_check.isChecked()
