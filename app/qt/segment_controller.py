"""Segment ▸ Run AI segmentation: the active model in a child process (a job), progress with Cancel.

The decision to ask before replacing the user's labels and the application of the result as one undo
step live in the CaseSession; this module only starts the job and shows what happens. A raw study (opened
on its reference's native grid, ``state.alignment`` set) runs the raw-study pipeline, whose steps the
progress dialog names; Segment ▸ Raw-study preprocessing forces it either way.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QSettings

from app.jobs.devices import device_problems
from app.jobs.runner import JobHandle
from app.jobs.segment import (
    SegmentRequest,
    StudySegmentRequest,
    study_source,
    study_steps_text,
    warm_up_ai_process,
)
from app.qt.gui_wording import for_the_gui
from app.qt.job_dialog import start_job_with_dialog
from app.qt.shell import Shell
from app.session import CaseSession
from app.state.viewer_state import ViewerState
from segmentation_core.types import Case

logger = logging.getLogger(__name__)

DEVICES = ("auto", "cuda", "cpu")
#: Segment ▸ Raw-study preprocessing: detect a raw study, always run its steps, or never.
RAW_MODES = ("auto", "raw", "brats")
RAW_MODE_KEY = "segment/raw_study"


def raw_mode(settings: QSettings) -> str:
    """The saved raw-study choice ("auto" when unset or unknown)."""
    saved = str(settings.value(RAW_MODE_KEY, "auto"))
    return saved if saved in RAW_MODES else "auto"


def raw_cache_dir() -> Path:
    """Where the raw-study steps' results are kept between AI runs (by input hash)."""
    from segmentation_core.raw.cache import default_cache_dir

    return default_cache_dir()


def active_model_dir() -> Path:
    """The bundle Segment uses: the registry's active version (the bundled default is version 1)."""
    from segmentation_core.registry import active_bundle_path

    return active_bundle_path()


class SegmentController:
    """Runs the AI on the open case; the CaseSession applies its result."""

    def __init__(
        self,
        shell: Shell,
        state: ViewerState,
        session: CaseSession,
        settings: QSettings | None = None,
        bundle_dir: Callable[[], Path] = active_model_dir,
        cache_dir: Callable[[], Path | None] = raw_cache_dir,
    ) -> None:
        self.shell = shell
        self.state = state
        self.session = session
        self.settings = settings or QSettings()
        self.bundle_dir = bundle_dir
        self.cache_dir = cache_dir
        self.handle: JobHandle | None = None
        self._warmed_up = False
        #: Device key -> None when usable here, else why not (absent devices are greyed out in the menu).
        self.device_problems = device_problems()
        state.case_changed.connect(self._on_case)

    @property
    def device(self) -> str:
        """The chosen device; a saved choice that is not present on this computer counts as automatic."""
        saved = str(self.settings.value("segment/device", "auto"))
        return saved if saved in self.device_problems and self.device_problems[saved] is None else "auto"

    def set_device(self, device: str) -> None:
        self.settings.setValue("segment/device", device)

    @property
    def tta(self) -> bool:
        return str(self.settings.value("segment/tta", "false")).lower() == "true"

    def set_tta(self, on: bool) -> None:
        self.settings.setValue("segment/tta", "true" if on else "false")

    @property
    def raw_mode(self) -> str:
        return raw_mode(self.settings)

    def set_raw_mode(self, mode: str) -> None:
        self.settings.setValue(RAW_MODE_KEY, mode if mode in RAW_MODES else "auto")

    def runs_raw_pipeline(self) -> bool:
        """Whether Run AI runs the raw-study steps: on a raw study (or always, or never, as chosen)."""
        mode = self.raw_mode
        return mode == "raw" or (mode == "auto" and self.state.alignment is not None)

    def _on_case(self, case: object) -> None:
        if case is not None and not self._warmed_up:
            self._warmed_up = True
            warm_up_ai_process()  # the AI process imports torch now, so the first run starts at once

    def run(self) -> JobHandle | None:
        """Start the AI on the open case (asks first when that would replace the user's labels)."""
        if self.state.case is None or self.state.labels is None:
            self.shell.inform("Run AI segmentation", "Open a case first (File ▸ Open case…).")
            return None
        if self.handle is not None and self.handle.running:
            return self.handle
        if not self.session.confirm_replace():
            return None
        try:
            bundle_dir = self.bundle_dir()
        except (OSError, ValueError) as exc:
            self.shell.error("No model", f"The active model cannot be found: {exc}")
            return None
        if self.runs_raw_pipeline():
            return self._run_study(bundle_dir)
        request = SegmentRequest(self.state.case, bundle_dir, device=self.device, tta=self.tta)
        self.handle = start_job_with_dialog(
            SegmentRequest.run,
            request,
            title="AI segmentation",
            detail=f"Model: {bundle_dir.name}   device: {self.device}   TTA: {self.tta}",
            parent=self.shell.parent,
            on_result=self._apply,
            on_error=self._failed,
            on_cancelled=self._cancelled,
        )
        return self.handle

    def _run_study(self, bundle_dir: Path) -> JobHandle | None:
        """The raw-study pipeline on the open case's files; the result lands on the open case's grid."""
        case = self.state.case
        assert case is not None
        try:
            study_source(case)
        except ValueError as exc:
            self.shell.error("AI segmentation", f"The raw-study steps cannot run on this case: {exc}")
            return None
        request = StudySegmentRequest(
            case,
            bundle_dir,
            device=self.device,
            tta=self.tta,
            force=self.raw_mode,
            cache_dir=self.cache_dir(),
        )
        heading = f"Raw study {case.case_id} onto {case.reference}.   Model: {bundle_dir.name}   device: {self.device}"
        steps: dict[str, str] = {}
        self.handle = start_job_with_dialog(
            StudySegmentRequest.run,
            request,
            title="AI segmentation of a raw study",
            detail=f"{heading}\n{study_steps_text('', {})}",
            detail_for=lambda snapshot: f"{heading}\n{study_steps_text(snapshot.message, steps)}",
            parent=self.shell.parent,
            on_result=lambda result: self._apply_study(result, case),
            on_error=self._failed,
            on_cancelled=self._cancelled,
        )
        return self.handle

    def _failed(self, exc: BaseException) -> None:
        self.shell.error(
            "AI segmentation failed",
            f"{for_the_gui(str(exc))}\n\nThe open case and its labels are unchanged.",
        )

    def _cancelled(self) -> None:
        self.shell.status("AI segmentation cancelled; the labels are unchanged", 5000)

    def _apply_study(self, result, case: Case) -> None:  # noqa: ANN001 (raw.result.StudyResult)
        if self.state.case is not case:  # another case was opened meanwhile: the result is not its
            return
        text = self.session.apply_study_result(result)
        if text is not None:
            self.shell.status(text, 15000)

    def _apply(self, prediction) -> None:  # noqa: ANN001 (segmentation_core.types.Prediction)
        text = self.session.apply_prediction(prediction)
        if text is not None:
            self.shell.status(text, 10000)
