"""File ▸ Report…: ask where, then write the one-page report (PDF, HTML and JSON together).

The data come from the sessions: the labels, the AI result (correction effort), the review queue
(coverage) and the model version. The report takes one to two seconds on a real case; it is written
on the GUI thread behind a wait cursor because Qt's PDF writer and text layout belong there.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QApplication, QFileDialog

from app.qt.shell import Shell
from app.report_cli import outputs, write_report
from app.session import CaseSession, ReviewSession


class ReportController:
    def __init__(
        self, shell: Shell, session: CaseSession, review: ReviewSession, settings: QSettings | None = None
    ) -> None:
        self.shell = shell
        self.session = session
        self.review = review
        self.settings = settings or QSettings()

    def ask_and_write(self) -> list[Path]:
        case = self.session.state.case
        if case is None or self.session.state.labels is None:
            self.shell.inform("Report", "Open a case first.")
            return []
        folder = Path(str(self.settings.value("report/folder", Path.home())))
        name, _ = QFileDialog.getSaveFileName(
            self.shell.parent,
            "Write report (PDF, with HTML and JSON beside it)",
            str(folder / f"{case.case_id or 'case'}_report.pdf"),
            "PDF (*.pdf)",
        )
        if not name:
            return []
        path = Path(name).with_suffix(".pdf")
        self.settings.setValue("report/folder", str(path.parent))
        return self.write(path, overwrite=True)  # the file dialog already asked before overwriting

    def write(self, path: Path, *, overwrite: bool = False) -> list[Path]:
        """Write the report of the open case next to ``path``; shows the outcome; returns the files."""
        state = self.session.state
        if state.case is None or state.labels is None:
            return []
        model = {"version": self.session.model_version} if self.session.model_version else None
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            written = write_report(
                state.case,
                state.labels.data.copy(),
                outputs(path),
                labels_source="viewer labels",
                ai_labels=self.review.ai_labels,
                queue=self.review.queue,
                model=model,
                overwrite=overwrite,
            )
        except (OSError, ValueError) as exc:
            self.shell.error("Report not written", str(exc))
            return []
        finally:
            QApplication.restoreOverrideCursor()
        self.shell.status(f"Report written: {', '.join(p.name for p in written)}", 10000)
        return written
