"""A modeless progress dialog for a background job: bar, done/total, elapsed and ETA, Cancel."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QDialog, QLabel, QProgressBar, QPushButton, QVBoxLayout, QWidget

from app.jobs.runner import JobFunction, JobHandle, start_job
from app.state.job import JobSnapshot, JobState


class JobProgressDialog(QDialog):
    """Shows a JobSnapshot; Cancel (or closing the dialog) emits ``cancel_requested`` once."""

    cancel_requested = Signal()

    def __init__(self, title: str, detail: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setMinimumWidth(480)
        self.detail_label = QLabel(detail, self)
        self.detail_label.setWordWrap(True)
        self.bar = QProgressBar(self)
        self.bar.setRange(0, 0)  # busy until the first progress arrives
        self.status_label = QLabel("starting…", self)
        self.status_label.setWordWrap(True)  # file names and the time left are long: wrap, never cut
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.clicked.connect(self.request_cancel)
        layout = QVBoxLayout(self)
        for widget in (self.detail_label, self.bar, self.status_label, self.cancel_button):
            layout.addWidget(widget)

    def show_snapshot(self, snapshot: JobSnapshot) -> None:
        if snapshot.total > 0:
            self.bar.setRange(0, snapshot.total)
            self.bar.setValue(snapshot.done)
        self.status_label.setText(snapshot.text)

    def set_detail(self, text: str) -> None:
        """Show another detail text; the dialog grows when it needs more lines (never cuts them)."""
        if text == self.detail_label.text():
            return
        self.detail_label.setText(text)
        label = self.detail_label
        if label.height() < label.heightForWidth(label.width()):
            self.adjustSize()

    def request_cancel(self) -> None:
        if self.cancel_button.isEnabled():
            self.cancel_button.setEnabled(False)
            self.cancel_button.setText("Cancelling…")
            self.cancel_requested.emit()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt override)
        self.request_cancel()
        super().closeEvent(event)


def start_job_with_dialog(
    run: JobFunction,
    request: object,
    *,
    title: str,
    detail: str,
    parent: QWidget,
    on_result: Callable[[Any], None] | None = None,
    on_error: Callable[[BaseException], None] | None = None,
    on_cancelled: Callable[[], None] | None = None,
    detail_for: Callable[[JobSnapshot], str] | None = None,
) -> JobHandle:
    """Start a job with a progress dialog (bar, ETA, Cancel) that closes when the job ends.

    ``detail_for`` (optional) rewrites the dialog's detail text from each progress snapshot.
    """
    job_state = JobState(title)
    dialog = JobProgressDialog(title, detail, parent)
    job_state.changed.connect(dialog.show_snapshot)
    if detail_for is not None:
        job_state.changed.connect(lambda snapshot: dialog.set_detail(detail_for(snapshot)))

    def close_dialog() -> None:
        dialog.blockSignals(True)  # closing is not a cancel request
        dialog.close()
        dialog.deleteLater()

    handle = start_job(
        run,
        request,
        title=title,
        on_progress=job_state.update,
        on_result=on_result,
        on_error=on_error,
        on_cancelled=on_cancelled,
        on_finished=close_dialog,
    )
    dialog.cancel_requested.connect(handle.cancel)
    handle.dialog = dialog
    dialog.show()
    dialog.adjustSize()  # a multi-line detail text wraps: size the dialog for it
    return handle
