"""Opening cases: File menu entries (folder, files, DICOM folder, sample, recent), drag and drop, and
loading in a worker with a progress dialog. Errors are shown in a dialog and the open case stays open.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from functools import partial
from pathlib import Path

from PySide6.QtCore import QObject, QSettings, QUrl, Signal
from PySide6.QtWidgets import QFileDialog, QMenu, QMessageBox, QWidget

import resources
from app.jobs.load_case import LoadCaseRequest, run_load_case
from app.jobs.runner import JobHandle
from app.qt.job_dialog import start_job_with_dialog
from app.qt.shell import Shell
from app.state.viewer_state import ViewerState
from segmentation_core.io import CaseLoadError
from segmentation_core.types import Case

log = logging.getLogger(__name__)
RECENT_KEY = "recent_cases"
MAX_RECENT = 8
IMAGE_FILTER = "Images (*.nii *.nii.gz *.nrrd *.nhdr *.mha *.mhd);;All files (*)"


def show_load_error(parent: QWidget, exc: BaseException) -> None:
    """The dialog for a case that could not be opened (tests replace it)."""
    QMessageBox.critical(parent, "Could not open the case", f"{exc}\n\nThe case that was open stays open.")


def local_paths(urls: list[QUrl]) -> list[Path]:
    """The local files or folders among dropped URLs."""
    return [Path(url.toLocalFile()) for url in urls if url.isLocalFile()]


class CaseOpener(QObject):
    """Owns the case-opening actions of a window and the one load job that may be running."""

    case_opened = Signal(object)  # Case

    def __init__(
        self,
        shell: Shell,
        state: ViewerState,
        before_open: Callable[[], bool] = lambda: True,
        settings: QSettings | None = None,
    ) -> None:
        super().__init__(shell.parent)
        self.shell = shell
        self.state = state
        self.settings = settings or QSettings()
        self.job: JobHandle | None = None
        #: Asked once before another case replaces the open one ("discard unsaved edits?"); False stops.
        self.before_open = before_open
        self.recent_menu = QMenu("Open &recent", shell.parent)
        self.recent_menu.aboutToShow.connect(self._fill_recent)

    # ------------------------------------------------------------------ asking
    def ask_folder(self, title: str) -> None:
        folder = QFileDialog.getExistingDirectory(self.shell.parent, title)
        if folder:
            self.open_paths([Path(folder)])

    def ask_files(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(
            self.shell.parent, "Open the files of one case", "", IMAGE_FILTER
        )
        if files:
            self.open_paths([Path(f) for f in files])

    def open_sample(self) -> JobHandle | None:
        return self.open_paths([resources.sample_case_dir()])

    # ------------------------------------------------------------------ recent cases
    def recent(self) -> list[list[str]]:
        """Recently opened cases, newest first; each is the list of paths that opened it."""
        try:
            entries = json.loads(str(self.settings.value(RECENT_KEY, "[]")))
        except ValueError:
            return []
        return [e for e in entries if isinstance(e, list) and all(isinstance(p, str) for p in e)]

    def _remember(self, paths: list[Path]) -> None:
        entry = [str(Path(p).resolve()) for p in paths]  # absolute: the working folder changes
        entries = [entry, *(e for e in self.recent() if e != entry)][:MAX_RECENT]
        self.settings.setValue(RECENT_KEY, json.dumps(entries))

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        entries = self.recent()
        for entry in entries:
            paths = [Path(p) for p in entry]
            text = str(paths[0]) if len(paths) == 1 else f"{paths[0].parent}  ({len(paths)} files)"
            self.recent_menu.addAction(text, partial(self.open_paths, paths))
        if not entries:
            self.recent_menu.addAction("(none)").setEnabled(False)

    # ------------------------------------------------------------------ loading
    def open_paths(self, paths: list[Path]) -> JobHandle | None:
        """Load a case from a folder, an MSD file or a case's files, in a worker (one load at a time)."""
        if self.job is not None and self.job.running:
            self.shell.status("A case is still loading; cancel it first.", 5000)
            return None
        if self.state.case is not None and not self.before_open():
            return None
        try:
            request = LoadCaseRequest.from_paths(paths)
        except CaseLoadError as exc:
            show_load_error(self.shell.parent, exc)
            return None
        self.shell.status(f"Opening {request.label}…", 0)
        self.job = start_job_with_dialog(
            run_load_case,
            request,
            title=f"Opening {request.label}",
            detail="Reading the sequences…",
            parent=self.shell.parent,
            on_result=lambda case: self._loaded(case, paths),
            on_error=self._failed,
            on_cancelled=lambda: self.shell.status("Opening cancelled.", 5000),
        )
        return self.job

    def _loaded(self, case: Case, paths: list[Path]) -> None:
        self.state.set_case(case)
        self._remember(paths)
        labels = "with labels" if case.labels is not None else "no labels"
        note = f"  Warning: {' '.join(case.warnings)}" if case.warnings else ""
        self.shell.status(f"Opened {case.case_id} ({labels}).{note}", 10000)
        self.case_opened.emit(case)

    def _failed(self, exc: BaseException) -> None:
        self.shell.status("The case could not be opened.", 5000)
        show_load_error(self.shell.parent, exc)
