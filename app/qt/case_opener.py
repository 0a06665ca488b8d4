"""Opening cases: File menu entries (folder, files, DICOM folder, sample, recent), drag and drop, and
loading in a worker with a progress dialog. Errors are shown in a dialog and the open case stays open.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QSettings, QTimer, QUrl, Signal
from PySide6.QtWidgets import QFileDialog, QMenu, QMessageBox, QWidget

import resources
from app.jobs.load_case import LabelSchemeUnclear, LoadCaseRequest, run_load_case
from app.jobs.runner import JobHandle
from app.qt.gui_wording import for_the_gui
from app.qt.job_dialog import start_job_with_dialog
from app.qt.label_scheme_dialog import choose_label_scheme
from app.qt.segment_controller import raw_mode
from app.qt.shell import Shell
from app.state.alignment import StudyAlignment
from app.state.viewer_state import ViewerState
from segmentation_core.io import CaseLoadError
from segmentation_core.types import Case

if TYPE_CHECKING:
    from segmentation_core.raw.native import OpenedStudy

log = logging.getLogger(__name__)
RECENT_KEY = "recent_cases"
MAX_RECENT = 8
IMAGE_FILTER = "Images (*.nii *.nii.gz *.nrrd *.nhdr *.mha *.mhd);;All files (*)"


def show_load_error(parent: QWidget, exc: BaseException) -> None:
    """The dialog for a case that could not be opened (tests replace it)."""
    QMessageBox.critical(
        parent, "Could not open the case", f"{for_the_gui(str(exc))}\n\nThe case that was open stays open."
    )


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
        #: The paths of the open case (File ▸ Reopen with another label scheme opens them again).
        self.last_paths: list[Path] = []
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
    def reopen_with_scheme(self) -> JobHandle | None:
        """Open the case again, asking which label scheme its label file follows."""
        if not self.last_paths:
            self.shell.status("Open a case first.", 5000)
            return None
        return self._ask_scheme_and_open(self.last_paths, "Reading its label values as another scheme.")

    def _ask_scheme_and_open(self, paths: list[Path], problem: str) -> JobHandle | None:
        choice = choose_label_scheme(self.shell.parent, problem)
        if choice is None:
            return None
        return self.open_paths(paths, scheme=choice or None, labels=bool(choice))

    def open_paths(
        self, paths: list[Path], scheme: str | None = None, labels: bool = True
    ) -> JobHandle | None:
        """Load a case from a folder, an MSD file or a case's files, in a worker (one load at a time).

        ``scheme`` names the label file's scheme (None: detect it); ``labels=False`` opens the images only.
        """
        if self.job is not None and self.job.running:
            self.shell.status("A case is still loading; cancel it first.", 5000)
            return None
        if self.state.case is not None and not self.before_open():
            return None
        try:
            request = dataclasses.replace(
                LoadCaseRequest.from_paths(paths), scheme=scheme, labels=labels, raw=raw_mode(self.settings)
            )
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
            on_error=lambda exc: self._failed(exc, paths),
            on_cancelled=lambda: self.shell.status("Opening cancelled.", 5000),
        )
        return self.job

    def _loaded(self, loaded: Case | OpenedStudy, paths: list[Path]) -> None:
        case = loaded if isinstance(loaded, Case) else loaded.case
        self.state.set_case(case)
        if not isinstance(loaded, Case):  # a raw study: the others placed by their headers until the AI runs
            self.state.set_alignment(StudyAlignment(case.reference, header_only=dict(loaded.header_only)))
        self.last_paths = list(paths)
        self._remember(paths)
        labels = "with labels" if case.labels is not None else "no labels"
        note = f"  Warning: {' '.join(case.warnings)}" if case.warnings else ""
        self.shell.status(f"Opened {case.case_id} ({labels}).{note}", 10000)
        self.case_opened.emit(case)

    def _failed(self, exc: BaseException, paths: list[Path]) -> None:
        if isinstance(exc, LabelSchemeUnclear):  # ask, then open again (after this job has finished)
            QTimer.singleShot(0, lambda: self._ask_scheme_and_open(paths, for_the_gui(str(exc))))
            return
        self.shell.status("The case could not be opened.", 5000)
        show_load_error(self.shell.parent, exc)
