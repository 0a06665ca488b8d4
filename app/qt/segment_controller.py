"""Segment ▸ Run AI segmentation: the active model in a worker thread, progress with Cancel, one undo step."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, QSettings, Signal
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMenu, QMessageBox

from app.jobs.devices import device_problems
from app.jobs.runner import JobHandle, start_job
from app.jobs.segment import SegmentRequest, warm_up_ai_process
from app.qt.gui_wording import for_the_gui
from app.qt.job_dialog import JobProgressDialog
from app.state.edit_stats import EditTracker
from app.state.job import JobState
from app.state.viewer_state import ViewerState

logger = logging.getLogger(__name__)

DEVICES = (("auto", "&Automatic (GPU when available)"), ("cuda", "&GPU (CUDA)"), ("cpu", "&CPU"))


def active_model_dir() -> Path:
    """The bundle Segment uses: the registry's active version (the bundled default is version 1)."""
    from segmentation_core.registry import active_bundle_path

    return active_bundle_path()


class SegmentController(QObject):
    """Runs the AI on the open case; its result replaces the labels as one undo step.

    It also keeps the EditTracker of the open case (correction effort against the AI result) and
    announces it with ``tracker_changed`` for the volumes panel and the export sidecar.
    """

    tracker_changed = Signal(object)  # EditTracker | None

    def __init__(
        self,
        window: QMainWindow,
        state: ViewerState,
        bundle_dir: Callable[[], Path] = active_model_dir,
        confirm: Callable[[str, str], bool] | None = None,
    ) -> None:
        super().__init__(window)
        self.window = window
        self.state = state
        self.bundle_dir = bundle_dir
        self.confirm = confirm or self._ask
        self.settings = QSettings()
        self.handle: JobHandle | None = None
        self.dialog: JobProgressDialog | None = None
        self.tracker: EditTracker | None = None
        self.last_ai_top: object = None
        self.last_model_version: str | None = None
        self._warmed_up = False
        #: Device key -> None when usable here, else why not (absent devices are greyed out in the menu).
        self.device_problems = device_problems()
        state.case_changed.connect(self._on_case)

    @property
    def device(self) -> str:
        """The chosen device; a saved choice that is not present on this computer counts as automatic."""
        saved = str(self.settings.value("segment/device", "auto"))
        return saved if saved in self.device_problems and self.device_problems[saved] is None else "auto"

    @property
    def tta(self) -> bool:
        return str(self.settings.value("segment/tta", "false")).lower() == "true"

    def _on_case(self, _case: object) -> None:
        if self.tracker is not None:
            self.tracker.close()
        self.tracker = EditTracker(self.state.labels) if self.state.labels is not None else None
        self.last_ai_top = None
        self.last_model_version = None
        self.tracker_changed.emit(self.tracker)
        if self.state.case is not None and not self._warmed_up:
            self._warmed_up = True
            warm_up_ai_process()  # the first run then starts at once

    def has_user_labels(self) -> bool:
        """True when the labels hold anything that is not the last AI result (edits or a loaded _seg)."""
        labels = self.state.labels
        if labels is None or not labels.data.any():
            return False
        return self.last_ai_top is None or labels.history.top is not self.last_ai_top

    def run(self) -> JobHandle | None:
        """Start the AI on the open case (asks first when that would replace the user's labels)."""
        if self.state.case is None or self.state.labels is None:
            QMessageBox.information(
                self.window, "Run AI segmentation", "Open a case first (File ▸ Open case…)."
            )
            return None
        if self.handle is not None and self.handle.running:
            return self.handle
        if self.has_user_labels() and not self.confirm(
            "Replace the labels?",
            "The current labels (loaded or edited) will be replaced by the AI result. "
            "You can undo this afterwards (Edit ▸ Undo). Continue?",
        ):
            return None
        try:
            bundle_dir = self.bundle_dir()
        except (OSError, ValueError) as exc:
            QMessageBox.critical(self.window, "No model", f"The active model cannot be found: {exc}")
            return None
        request = SegmentRequest(self.state.case, bundle_dir, device=self.device, tta=self.tta)
        job = JobState("AI segmentation")
        self.dialog = JobProgressDialog(
            "AI segmentation",
            f"Model: {bundle_dir.name}   device: {self.device}   TTA: {self.tta}",
            self.window,
        )
        job.changed.connect(self.dialog.show_snapshot)
        self.handle = start_job(
            SegmentRequest.run,
            request,
            title="AI segmentation",
            on_progress=job.update,
            on_result=self._apply,
            on_error=self._failed,
            on_cancelled=self._cancelled,
            on_finished=self._finished,
        )
        self.dialog.cancel_requested.connect(self.handle.cancel)
        self.dialog.show()
        return self.handle

    def _apply(self, prediction) -> None:  # noqa: ANN001 (segmentation_core.inference.Prediction)
        labels = self.state.labels
        if labels is None or labels.shape != prediction.labels.shape:
            return  # the case changed while the AI ran
        name = f"AI segmentation (model v{prediction.model_version})"
        labels.replace(prediction.labels, name)
        self.last_ai_top = labels.history.top
        self.last_model_version = prediction.model_version
        if self.tracker is not None:
            self.tracker.set_baseline(prediction.labels)
        fallback = f", fallback: {prediction.fallback}" if prediction.fallback else ""
        self.window.statusBar().showMessage(
            f"{name}: {prediction.seconds:.1f} s on {prediction.device.upper()}{fallback}", 10000
        )

    def _failed(self, exc: BaseException) -> None:
        QMessageBox.critical(self.window, "AI segmentation failed", for_the_gui(str(exc)))

    def _cancelled(self) -> None:
        self.window.statusBar().showMessage("AI segmentation cancelled; the labels are unchanged", 5000)

    def _finished(self) -> None:
        if self.dialog is not None:
            self.dialog.close()
            self.dialog.deleteLater()
            self.dialog = None

    def _ask(self, title: str, text: str) -> bool:
        answer = QMessageBox.question(self.window, title, text)
        return answer == QMessageBox.StandardButton.Yes


def install_segment_menu(
    window: QMainWindow, controller: SegmentController, menu: QMenu
) -> dict[str, QAction]:
    """Segment ▸ Run AI segmentation (Ctrl+R), device choice and test-time augmentation."""
    actions: dict[str, QAction] = {}
    actions["run"] = QAction(
        "&Run AI segmentation", window, shortcut=QKeySequence("Ctrl+R"), triggered=lambda: controller.run()
    )
    menu.addAction(actions["run"])
    menu.addSeparator()
    device_menu = menu.addMenu("&Device")
    group = QActionGroup(window)
    for key, text in DEVICES:
        problem = controller.device_problems.get(key)
        action = QAction(text if problem is None else f"{text} — {problem}", window, checkable=True)
        action.setEnabled(problem is None)
        action.setChecked(controller.device == key)
        action.triggered.connect(
            lambda _checked=False, k=key: controller.settings.setValue("segment/device", k)
        )
        group.addAction(action)
        device_menu.addAction(action)
        actions[f"device_{key}"] = action
    tta = QAction("&Test-time augmentation (8 mirrors, slower)", window, checkable=True)
    tta.setChecked(controller.tta)
    tta.toggled.connect(lambda on: controller.settings.setValue("segment/tta", "true" if on else "false"))
    menu.addAction(tta)
    actions["tta"] = tta
    return actions
