"""Retrain ▸ Manage models…: the registry's versions side by side; activate, roll back, delete, zip.

A view: everything that loads a network (activate, roll back, import, evaluate) runs as a job through
the one runner (``app.jobs.models``), with its progress shown here and Cancel for the evaluation.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.jobs.models import ActivateRequest, EvaluateRequest, ImportRequest, RollBackRequest
from app.jobs.runner import JobFunction, JobHandle, start_job
from app.session.text import plural
from segmentation_core.labels import REGION_NAMES as REGIONS
from segmentation_core.registry import ModelRegistry, ModelVersion, RegistryError, export_zip
from segmentation_core.types import Progress

COLUMNS = (
    ["Version", "Active", "Created", "Source", "Base", "Cases"]
    + [f"Dice {r}" for r in REGIONS]
    + [f"HD95 {r} (mm)" for r in REGIONS]
)


def _cell(version: ModelVersion, region: str, metric: str) -> str:
    value = version.mean_metric(region, metric)
    if value is None:
        return "–"
    return f"{value:.3f}" if metric == "dice" else f"{value:.1f}"


def row_texts(version: ModelVersion, active: int) -> list[str]:
    """The table row of one version (also used by tests)."""
    return [
        f"v{version.number}",
        "●" if version.number == active else "",
        version.created.replace("T", " ")[:16] if version.created else "bundled",
        version.source + (f" ({version.note})" if version.note else ""),
        "" if version.base_version is None else f"v{version.base_version}",
        "" if version.data_size is None else str(version.data_size),
        *(_cell(version, r, "dice") for r in REGIONS),
        *(_cell(version, r, "hd95") for r in REGIONS),
    ]


class ModelsDialog(QDialog):
    """Table of model versions with their validation metrics, and the actions on them."""

    active_changed = Signal(int)
    evaluated = Signal()
    #: A job of this dialog ended (after its result or error was shown).
    job_finished = Signal()

    def __init__(self, registry: ModelRegistry | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Manage models")
        self.registry = registry or ModelRegistry()
        self.job: JobHandle | None = None
        self.table = QTableWidget(0, len(COLUMNS), self)
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.validation_label = QLabel(self)
        self.validation_label.setWordWrap(True)
        self.message_label = QLabel(self)
        self.message_label.setWordWrap(True)

        self.buttons: dict[str, QPushButton] = {}
        row = QHBoxLayout()
        for key, text, slot in (
            ("activate", "Activate", self.activate_selected),
            ("roll_back", "Roll back", self.roll_back),
            ("delete", "Delete", self.delete_selected),
            ("export", "Export zip…", self._export_clicked),
            ("import", "Import zip…", self._import_clicked),
            ("validation", "Validation set…", self._choose_validation),
            ("evaluate", "Evaluate", self.evaluate_missing),
            ("cancel", "Cancel", self.cancel_job),
        ):
            button = QPushButton(text, self)
            button.clicked.connect(slot)
            self.buttons[key] = button
            row.addWidget(button)
        row.addStretch(1)
        close = QPushButton("Close", self)
        close.clicked.connect(self.accept)
        row.addWidget(close)

        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.validation_label)
        layout.addWidget(self.message_label)
        layout.addLayout(row)
        self.resize(980, 420)
        self.refresh()

    # ----------------------------------------------------------------- view
    def refresh(self) -> None:
        """Re-read the registry into the table (keeps the selected version selected)."""
        selected = self.selected_version()
        versions = self.registry.versions()
        active = self.registry.active_version
        self.table.setRowCount(len(versions))
        bold = QFont()
        bold.setBold(True)
        for index, version in enumerate(versions):
            for column, text in enumerate(row_texts(version, active)):
                item = QTableWidgetItem(text)
                item.setData(Qt.ItemDataRole.UserRole, version.number)
                if column >= 6 or column == 1:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                if version.number == active:
                    item.setFont(bold)
                self.table.setItem(index, column, item)
        self.select_version(selected if selected is not None else active)
        cases = self.registry.validation_cases()
        self.validation_label.setText(
            "Validation set: not chosen yet (the first retraining run's held-out cases become it)."
            if not cases
            else f"Validation set: {plural(len(cases), 'case')} ({', '.join(Path(c).name for c in cases[:4])}"
            + (", …)" if len(cases) > 4 else ")")
        )
        self._update_buttons()

    def select_version(self, number: int) -> None:
        for row in range(self.table.rowCount()):
            if self.table.item(row, 0).data(Qt.ItemDataRole.UserRole) == number:
                self.table.selectRow(row)
                return

    def selected_version(self) -> int | None:
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        if not rows:
            return None
        return int(self.table.item(rows[0].row(), 0).data(Qt.ItemDataRole.UserRole))

    def _update_buttons(self) -> None:
        selected = self.selected_version()
        active = self.registry.active_version
        self.buttons["export"].setEnabled(selected is not None)
        idle = not self.busy
        self.buttons["activate"].setEnabled(idle and selected is not None and selected != active)
        self.buttons["delete"].setEnabled(idle and selected is not None and selected not in (1, active))
        self.buttons["roll_back"].setEnabled(idle and len(self.registry.history()) > 1)
        self.buttons["import"].setEnabled(idle)
        self.buttons["validation"].setEnabled(idle)
        self.buttons["evaluate"].setEnabled(idle and bool(self.registry.validation_cases()))
        self.buttons["cancel"].setVisible(not idle)

    @property
    def busy(self) -> bool:
        return self.job is not None and self.job.running

    def _start(self, run: JobFunction, request: object, on_result, title: str) -> JobHandle | None:  # noqa: ANN001
        """Run one registry job (one at a time); its progress goes to the message line."""
        if self.busy:
            return None

        def failed(exc: BaseException) -> None:
            self._report(str(exc) if isinstance(exc, RegistryError) else f"{title} failed: {exc}", error=True)

        def progress(update: Progress) -> None:
            total = f" ({update.done}/{update.total})" if update.total > 1 else ""
            self._report(f"{title}: {update.message}{total}…")

        def finished() -> None:
            self.refresh()
            self.job_finished.emit()

        self.job = start_job(
            run,
            request,
            title=title,
            on_progress=progress,
            on_result=on_result,
            on_error=failed,
            on_cancelled=lambda: self._report(f"{title} cancelled."),
            on_finished=finished,
        )
        self._update_buttons()
        return self.job

    def cancel_job(self) -> None:
        if self.busy:
            assert self.job is not None
            self.job.cancel()

    def _report(self, text: str, error: bool = False) -> None:
        self.message_label.setStyleSheet("color: #b00020;" if error else "")
        self.message_label.setText(text)

    # ----------------------------------------------------------------- actions
    def activate_selected(self) -> JobHandle | None:
        number = self.selected_version()
        if number is None:
            return None

        def done(active: int) -> None:
            self._report(f"Version {active} is now active: Segment uses it.")
            self.active_changed.emit(active)

        return self._start(ActivateRequest.run, ActivateRequest(self.registry, number), done, "Activate")

    def roll_back(self) -> JobHandle | None:
        def done(number: int) -> None:
            self._report(f"Rolled back: version {number} is active again.")
            self.refresh()
            self.select_version(number)
            self.active_changed.emit(number)

        return self._start(RollBackRequest.run, RollBackRequest(self.registry), done, "Roll back")

    def delete_selected(self, confirm: bool = True) -> None:
        number = self.selected_version()
        if number is None:
            return
        if confirm and (
            QMessageBox.question(
                self, "Delete model", f"Delete model version {number}? This cannot be undone."
            )
            != QMessageBox.StandardButton.Yes
        ):
            return
        try:
            self.registry.delete(number)
        except RegistryError as exc:
            self._report(str(exc), error=True)
            return
        self._report(f"Version {number} deleted.")
        self.table.clearSelection()
        self.refresh()

    def export_selected(self, dest: Path) -> Path | None:
        number = self.selected_version()
        if number is None:
            return None
        try:
            path = export_zip(self.registry, number, dest)
        except (RegistryError, OSError) as exc:
            self._report(str(exc), error=True)
            return None
        self._report(f"Version {number} exported to {path}.")
        return path

    def import_from(self, zip_path: Path) -> JobHandle | None:
        zip_path = Path(zip_path)

        def done(version: ModelVersion) -> None:
            self._report(f"Imported {zip_path.name} as version {version.number} (not active yet).")
            self.refresh()
            self.select_version(version.number)

        return self._start(ImportRequest.run, ImportRequest(self.registry, zip_path), done, "Import")

    def set_validation_folder(self, folder: Path) -> None:
        from segmentation_core.io import CaseLoadError, find_cases

        try:
            cases = find_cases(folder)
            self.registry.set_validation_cases(cases)
        except (CaseLoadError, RegistryError) as exc:
            self._report(str(exc), error=True)
            return
        self._report(
            f"Validation set: {plural(len(cases), 'case')} from {folder}. Versions are re-evaluated after the next run."
        )
        self.refresh()

    def evaluate_missing(self) -> JobHandle | None:
        """Evaluate every version not yet scored on the validation set (a job; Cancel stops it)."""

        def done(numbers: list[int]) -> None:
            evaluated = ", ".join(f"v{n}" for n in numbers) or "nothing new"
            self._report(f"Evaluated: {evaluated}.")
            self.evaluated.emit()

        return self._start(EvaluateRequest.run, EvaluateRequest(self.registry, "cpu"), done, "Evaluate")

    def closeEvent(self, event) -> None:  # noqa: ANN001, N802 (Qt override)
        self.cancel_job()
        super().closeEvent(event)

    # ----------------------------------------------------------------- file dialogs
    def _export_clicked(self) -> None:
        number = self.selected_version()
        name = f"brats-model-v{number}.zip"
        dest, _ = QFileDialog.getSaveFileName(self, "Export model", str(Path.home() / name), "Zip (*.zip)")
        if dest:
            self.export_selected(Path(dest))

    def _import_clicked(self) -> None:
        source, _ = QFileDialog.getOpenFileName(self, "Import model", str(Path.home()), "Zip (*.zip)")
        if source:
            self.import_from(Path(source))

    def _choose_validation(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder of labelled validation cases")
        if folder:
            self.set_validation_folder(Path(folder))
