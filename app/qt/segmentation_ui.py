"""Assembles segmentation in the main window: AI, editing tools, volumes, export, autosave and recovery.

The main window creates one :class:`SegmentationUI`; this module wires the pieces to its menus,
docks and slice views so main_window.py stays a list of parts.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, QSettings, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDockWidget, QMainWindow, QMessageBox

from app.jobs.export import ExportRequest, ExportResult
from app.jobs.runner import JobHandle, start_job
from app.qt.dock_fit import fit_tabbed_docks
from app.qt.edit_tools import EditController, ToolPanel, install_edit_menu
from app.qt.export_dialog import ExportDialog
from app.qt.segment_controller import SegmentController, install_segment_menu
from app.qt.volumes_panel import VolumesPanel
from app.state.autosave import Autosaver, recovery_for, scan_recoveries, set_aside
from segmentation_core.types import Case

logger = logging.getLogger(__name__)


def case_sources(case: Case) -> list[str]:
    """The files a case was read from (identifies its recovery file)."""
    return sorted(str(p) for paths in case.source_files.values() for p in paths)


class SegmentationUI(QObject):
    """Everything a user does to the labels of the open case, attached to the main window."""

    def __init__(self, window: QMainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.state = window.state
        self.segment = SegmentController(
            window, self.state, confirm=lambda title, text: self.ask(title, text)
        )
        self.edit = EditController(window, self.state, window.slice_views)
        self.volumes = VolumesPanel(window)
        self.segment.tracker_changed.connect(self.volumes.attach)
        self.tools_panel = ToolPanel(self.edit, window)
        #: asks the user a yes/no question (tests replace it; a modal box would block them)
        self.ask: Callable[[str, str], bool] = self._ask_box
        self.autosaver: Autosaver | None = None
        self.export_job: JobHandle | None = None
        self.actions: dict[str, QAction] = {}
        self.state.case_changed.connect(self._on_case)
        self._add_docks()
        self._add_menus()

    def _add_docks(self) -> None:
        docks = {}
        for title, name, widget in (
            ("Tools", "tools_dock", self.tools_panel),
            ("Volumes", "volumes_dock", self.volumes),
        ):
            dock = QDockWidget(title, self.window)
            dock.setObjectName(name)
            dock.setWidget(widget)
            self.window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
            docks[name] = dock
        # Display and Tools share one place as tabs; the volumes stay visible below them
        self.window.tabifyDockWidget(self.window.display_dock, docks["tools_dock"])
        self.window.display_dock.raise_()
        fit_tabbed_docks(self.window, [self.window.display_dock, docks["tools_dock"]], docks["volumes_dock"])

    def _add_menus(self) -> None:
        menus = self.window.menus
        export = QAction("&Export segmentation…", self.window, shortcut=QKeySequence("Ctrl+E"))
        export.triggered.connect(self.export)
        file_menu = menus["File"]
        quit_action = next((a for a in file_menu.actions() if a.text() == "&Quit"), None)
        file_menu.insertAction(quit_action, export)
        self.actions["export"] = export
        self.actions.update(install_edit_menu(self.window, self.edit, menus["Edit"]))
        self.actions.update(install_segment_menu(self.window, self.segment, menus["Segment"]))

    # ------------------------------------------------------------------ case changes, autosave, recovery
    def _on_case(self, case: Case | None) -> None:
        if self.autosaver is not None:
            self.autosaver.close()
            self.autosaver = None
        if case is None or self.state.labels is None:
            return
        sources = case_sources(case)
        recovery = recovery_for(case.case_id, sources, on_problem=self.notify)
        self.autosaver = Autosaver(self.state.labels, case.case_id, sources)
        if recovery is not None and recovery.shape == case.shape:
            when = dt.datetime.fromtimestamp(recovery.saved_at).strftime("%Y-%m-%d %H:%M")
            if self.ask(
                "Recover unsaved labels?",
                f"Unsaved labels of {case.case_id} from {when} ({recovery.edits} edits) were found.\n"
                "Recover them? (No discards them.)",
            ):
                try:
                    self.state.labels.replace(recovery.load(), "Recovered unsaved labels")
                except ValueError as exc:
                    self.notify(set_aside(recovery.path, str(exc)))
            else:
                recovery.discard()

    def notify(self, message: str) -> None:
        """A notice the user must see once (a status-bar message that stays until the next one)."""
        self.window.statusBar().showMessage(message)

    def offer_recoveries_at_start(self) -> None:
        """After a crash: tell which cases have unsaved labels, and open the first to recover it."""
        scan = scan_recoveries()
        for message in scan.set_aside:
            self.notify(message)
        recoveries = [r for r in scan.recoveries if r.sources]
        if not recoveries:
            return
        names = ", ".join(r.case_id for r in recoveries)
        if self.ask(
            "Unsaved labels found",
            f"The last session ended with unsaved labels for: {names}.\nOpen {recoveries[0].case_id} now to recover them?",
        ):
            sources = [Path(s) for s in recoveries[0].sources]
            folders = sorted({p.parent for p in sources})
            self.window.case_opener.open_paths(folders if len(folders) == 1 else sources)

    def confirm_discard(self, action: str) -> bool:
        """Before closing or opening another case: False when the user wants to keep unsaved edits."""
        labels = self.state.labels
        if labels is None or not labels.modified:
            return True
        if not self.ask(
            "Unsaved changes",
            f"The labels have unsaved changes. {action} anyway?\n"
            "(They stay in the recovery file until you export or discard them.)",
        ):
            return False
        if self.autosaver is not None:
            self.autosaver.flush()
        return True

    def _ask_box(self, title: str, text: str) -> bool:
        return QMessageBox.question(self.window, title, text) == QMessageBox.StandardButton.Yes

    # ------------------------------------------------------------------ export
    def export(self) -> JobHandle | None:
        case, labels = self.state.case, self.state.labels
        if case is None or labels is None:
            QMessageBox.information(self.window, "Export segmentation", "Open a case first.")
            return None
        settings = QSettings()
        folder = Path(str(settings.value("export/folder", Path.home())))
        dialog = ExportDialog(
            folder / f"{case.case_id or 'case'}_seg.nii.gz", case.source_format == "dicom", self.window, case
        )
        if dialog.exec() != ExportDialog.DialogCode.Accepted:
            return None
        settings.setValue("export/folder", str(dialog.path.parent))
        return self.start_export(
            dialog.path, dialog.scheme, dialog.dicom_seg, dialog.add_to_library, overwrite=dialog.overwrite
        )

    def start_export(
        self, path: Path, scheme: str, dicom_seg: bool, add_to_library: bool, *, overwrite: bool = False
    ) -> JobHandle:
        """Export in a worker (a copy of the labels is taken now, so painting can go on)."""
        labels = self.state.labels
        tracker = self.segment.tracker
        extra = (
            {"edits": tracker.stats.to_dict()}
            if tracker is not None and self.segment.last_model_version
            else {}
        )
        request = ExportRequest(
            self.state.case,
            labels.data.copy(),
            path,
            scheme=scheme,
            model_version=self.segment.last_model_version,
            extra=extra,
            dicom_seg=dicom_seg,
            add_to_library=add_to_library,
            overwrite=overwrite,
        )
        top = labels.history.top

        def done(result: ExportResult) -> None:
            if self.state.labels is labels and labels.history.top is top:
                labels.mark_saved()
                if self.autosaver is not None:
                    self.autosaver.discard()
            extra_text = (
                f"; added to your training set ({result.library_case})" if result.library_case else ""
            )
            self.window.statusBar().showMessage(f"Exported and verified {result.nifti}{extra_text}", 10000)

        def failed(exc: BaseException) -> None:
            QMessageBox.critical(self.window, "Export failed", f"Nothing was overwritten.\n\n{exc}")

        self.export_job = start_job(
            ExportRequest.run, request, title="Export", on_result=done, on_error=failed
        )
        return self.export_job
