"""File ▸ Report…: ask where, then write the one-page report (PDF, HTML and JSON together).

The data come from the sessions: the labels, the AI result (correction effort), the review queue
(coverage) and the model version. Measuring and drawing the key images (a second or two on a real case)
run as a job; only the PDF, HTML and JSON are written on the GUI thread (Qt's PDF writer and text
layout belong there).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QFileDialog

from app.jobs.report import Prepared, ReportRequest
from app.jobs.runner import JobHandle, start_job
from app.qt.shell import Shell
from app.report_cli import outputs, write_report_files
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
        self.job: JobHandle | None = None
        #: The files the last report wrote.
        self.written: list[Path] = []
        self.session = session
        self.review = review
        self.settings = settings or QSettings()

    def ask_and_write(self) -> JobHandle | None:
        case = self.session.state.case
        if case is None or self.session.state.labels is None:
            self.shell.inform("Report", "Open a case first.")
            return None
        folder = Path(str(self.settings.value("report/folder", Path.home())))
        name, _ = QFileDialog.getSaveFileName(
            self.shell.parent,
            "Write report (PDF, with HTML and JSON beside it)",
            str(folder / f"{case.case_id or 'case'}_report.pdf"),
            "PDF (*.pdf)",
        )
        if not name:
            return None
        path = Path(name).with_suffix(".pdf")
        self.settings.setValue("report/folder", str(path.parent))
        return self.write(path, overwrite=True)  # the file dialog already asked before overwriting

    def write(self, path: Path, *, overwrite: bool = False) -> JobHandle | None:
        """Prepare the report of the open case in a job, then write it next to ``path`` (GUI thread)."""
        state = self.session.state
        if state.case is None or state.labels is None:
            return None
        model = self.review.model or (
            {"version": self.session.model_version} if self.session.model_version else None
        )
        extra = []
        picture = self.view3d_picture() if self.view3d_picture is not None else None
        if picture is not None and picture.ndim == 3 and picture.shape[2] in (3, 4) and picture.size:
            rgba = np.dstack([picture[..., :3], np.full(picture.shape[:2], 255, np.uint8)]).astype(np.uint8)
            extra.append((KeyImage("view-3d.png", None, None, "3D view"), rgba))
        case = state.case
        request = ReportRequest(
            case,
            state.labels.data.copy(),
            "viewer labels",
            self.review.ai_labels,
            model,
            False,
            self.review.queue,
            tuple(extra),
            self.review.rano,  # with the end points the user moved
        )

        def write(prepared: Prepared) -> None:
            report, pixels = prepared
            try:
                self.written = write_report_files(report, pixels, outputs(path), case, overwrite=overwrite)
            except (OSError, ValueError) as exc:
                self.shell.error("Report not written", str(exc))
                return
            self.shell.status(f"Report written: {', '.join(p.name for p in self.written)}", 10000)

        self.written = []
        self.job = start_job(
            ReportRequest.run,
            request,
            title="Report",
            on_result=write,
            on_error=lambda exc: self.shell.error("Report not written", str(exc)),
        )
        return self.job
