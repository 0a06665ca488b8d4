"""A modeless progress dialog for a background job: bar, done/total, elapsed and ETA, Cancel."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QDialog, QLabel, QProgressBar, QPushButton, QVBoxLayout, QWidget

from app.state.job import JobSnapshot


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

    def request_cancel(self) -> None:
        if self.cancel_button.isEnabled():
            self.cancel_button.setEnabled(False)
            self.cancel_button.setText("Cancelling…")
            self.cancel_requested.emit()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt override)
        self.request_cancel()
        super().closeEvent(event)
