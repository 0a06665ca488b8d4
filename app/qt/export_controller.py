"""File ▸ Export segmentation…: ask where and how (ExportDialog), then export as a job.

The request (a copy of the labels, provenance, edit statistics) and what success means for the
unsaved-changes state come from the CaseSession.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings

from app.jobs.export import ExportRequest, ExportResult
from app.jobs.runner import JobHandle, start_job
from app.qt.export_dialog import ExportDialog
from app.qt.shell import Shell
from app.session import CaseSession


class ExportController:
    def __init__(self, shell: Shell, session: CaseSession, settings: QSettings | None = None) -> None:
        self.shell = shell
        self.session = session
        self.settings = settings or QSettings()
        self.job: JobHandle | None = None

    def export(self) -> JobHandle | None:
        """Ask for the file and options, then export."""
        case = self.session.state.case
        if case is None or self.session.state.labels is None:
            self.shell.inform("Export segmentation", "Open a case first.")
            return None
        folder = Path(str(self.settings.value("export/folder", Path.home())))
        dialog = ExportDialog(
            folder / f"{case.case_id or 'case'}_seg.nii.gz",
            case.source_format == "dicom",
            self.shell.parent,
            case,
            library_refusal=self.session.library_refusal(),
        )
        if dialog.exec() != ExportDialog.DialogCode.Accepted:
            return None
        self.settings.setValue("export/folder", str(dialog.path.parent))
        return self.start_export(
            dialog.path, dialog.scheme, dialog.dicom_seg, dialog.add_to_library, overwrite=dialog.overwrite
        )

    def start_export(
        self,
        path: Path,
        scheme: str,
        dicom_seg: bool = False,
        add_to_library: bool = False,
        *,
        overwrite: bool = False,
    ) -> JobHandle:
        """Export in a worker (the labels are copied now, so painting can go on)."""
        request, exported = self.session.export_request(
            path, scheme, dicom_seg, add_to_library, overwrite=overwrite
        )

        def done(result: ExportResult) -> None:
            exported()
            extra = f"; added to your training set ({result.library_case})" if result.library_case else ""
            self.shell.status(f"Exported and verified {result.nifti}{extra}", 10000)

        self.job = start_job(
            ExportRequest.run,
            request,
            title="Export",
            on_result=done,
            on_error=lambda exc: self.shell.error("Export failed", f"Nothing was overwritten.\n\n{exc}"),
        )
        return self.job
