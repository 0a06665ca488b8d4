"""File ▸ Report…: ask where, then write the one-page report (PDF, HTML and JSON together).

The data come from the sessions: the labels, the AI result (correction effort), the review queue
(coverage) and the model version. The report takes one to two seconds on a real case; it is written
on the GUI thread behind a wait cursor because Qt's PDF writer and text layout belong there.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QApplication, QFileDialog

from app.qt.shell import Shell
from app.report_cli import outputs, write_report
from app.session import CaseSession, ReviewSession
from segmentation_core.review.report import KeyImage


class ReportController:
    def __init__(
        self,
        shell: Shell,
        session: CaseSession,
        review: ReviewSession,
        settings: QSettings | None = None,
        view3d_picture: Callable[[], np.ndarray | None] | None = None,
    ) -> None:
        self.shell = shell
        #: The 3D view as an RGB(A) picture for the report (None: no 3D view).
        self.view3d_picture = view3d_picture
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
        model = self.review.model or (
            {"version": self.session.model_version} if self.session.model_version else None
        )
        extra = []
        picture = self.view3d_picture() if self.view3d_picture is not None else None
        if picture is not None and picture.ndim == 3 and picture.shape[2] in (3, 4) and picture.size:
            rgba = np.dstack([picture[..., :3], np.full(picture.shape[:2], 255, np.uint8)]).astype(np.uint8)
            extra.append((KeyImage("view-3d.png", None, None, "3D view"), rgba))
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
                extra_images=extra,
            )
        except (OSError, ValueError) as exc:
            self.shell.error("Report not written", str(exc))
            return []
        finally:
            QApplication.restoreOverrideCursor()
        self.shell.status(f"Report written: {', '.join(p.name for p in written)}", 10000)
        return written
