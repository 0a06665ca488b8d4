"""Retrain ▸ Fine-tune on my corrected cases…: a view of a ``brats-seg train`` child and its results.

The runner's process flavour (``app.jobs.runner.start_process``) runs the child; its typed progress
events (``segmentation_core.training.progress``) feed a TrainingHistory that the plot draws. Cancel is
terminate-then-kill (the run folder keeps its checkpoint, so Resume continues it); on success the
result is registered as model version N+1 and evaluated on the validation set, both as jobs.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.jobs.devices import device_problems
from app.jobs.models import ActivateRequest, EvaluateRequest, RegisterRequest
from app.jobs.retrain import (
    RetrainRequest,
    TrainingHistory,
    find_run_bundle,
    fine_tuned_name,
    held_out_names,
    list_cases,
    new_run_dir,
    read_held_out,
    resumable_run,
    too_few_cases,
    training_case_count,
)
from app.jobs.runner import JobHandle, ProcessHandle, start_job, start_process
from app.qt.gui_wording import for_the_gui
from app.qt.training_plot import TrainingPlot
from app.session.text import plural
from app.state.job import format_duration
from segmentation_core.labels import REGION_NAMES
from segmentation_core.registry import (
    ModelRegistry,
    ModelVersion,
    RegistryError,
    runs_dir,
    training_library_dir,
)
from segmentation_core.training.progress import parse_event
from segmentation_core.types import Progress

log = logging.getLogger(__name__)
#: After Cancel the child gets this long to exit on SIGTERM before it is killed.
KILL_AFTER_MS = 3000
LOG_LINES = 400


class RetrainDialog(QDialog):
    """Choose data, base model, epochs and device; run, watch, cancel or resume; register the result."""

    registered = Signal(int)
    run_finished = Signal(str)  # "registered", "cancelled" or "failed"

    def __init__(
        self,
        registry: ModelRegistry | None = None,
        parent: QWidget | None = None,
        *,
        runs: Path | None = None,
        command: Callable[[RetrainRequest], list[str]] = RetrainRequest.command,
        evaluate: bool = True,
        extra_args: tuple[str, ...] = (),
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Fine-tune on my corrected cases")
        self.registry = registry or ModelRegistry()
        self.runs = runs or runs_dir()
        self._command = command
        self._evaluate = evaluate
        self._extra_args = extra_args
        self.process: ProcessHandle | None = None
        self.request: RetrainRequest | None = None
        self.history = TrainingHistory()
        self.new_version: int | None = None
        self._data_size = 0
        self._started = time.monotonic()
        self.job: JobHandle | None = None  # register or activate
        self.eval_job: JobHandle | None = None
        self._build()
        self._refresh_resume()

    # ----------------------------------------------------------------- layout
    def _build(self) -> None:
        self.data_edit = QLineEdit(str(training_library_dir()), self)
        browse = QPushButton("Browse…", self)
        browse.clicked.connect(self._browse)
        data_row = QHBoxLayout()
        data_row.addWidget(self.data_edit, 1)
        data_row.addWidget(browse)
        self.base_combo = QComboBox(self)
        active = self.registry.active_version
        for version in self.registry.versions():
            label = f"v{version.number}" + (" (active)" if version.number == active else "")
            self.base_combo.addItem(label, version.number)
        self.base_combo.setCurrentIndex(self.base_combo.findData(active))
        self.epochs_spin = QSpinBox(self)
        self.epochs_spin.setRange(1, 1000)
        self.epochs_spin.setValue(20)
        self.device_combo = QComboBox(self)
        for key, problem in device_problems().items():
            if key == "mps" and problem:
                continue
            self.device_combo.addItem(key if problem is None else f"{key} — {problem}", key)
            if problem:  # shown, greyed out, with the reason
                self.device_combo.model().item(self.device_combo.count() - 1).setEnabled(False)
        form = QFormLayout()
        form.addRow("Training data:", data_row)
        form.addRow("Base model:", self.base_combo)
        form.addRow("Epochs:", self.epochs_spin)
        form.addRow("Device:", self.device_combo)

        self.plot = TrainingPlot(self)
        self.bar = QProgressBar(self)
        self.bar.setRange(0, 100)
        self.bar.setValue(0)
        self.status_label = QLabel("Choose the data and press Start.", self)
        self.status_label.setWordWrap(True)
        self.result_label = QLabel("", self)
        self.result_label.setWordWrap(True)
        self.log_view = QPlainTextEdit(self)
        self.log_view.setReadOnly(True)
        self.log_view.setMaximumBlockCount(LOG_LINES)
        self.log_view.setMaximumHeight(70)

        self.start_button = QPushButton("Start", self)
        self.resume_button = QPushButton("Resume last run", self)
        self.cancel_button = QPushButton("Cancel run", self)
        self.activate_button = QPushButton("Activate new version", self)
        self.activate_button.setVisible(False)
        self.activate_button.clicked.connect(self.activate_new_version)
        self.close_button = QPushButton("Close", self)
        self.start_button.clicked.connect(self.start)
        self.resume_button.clicked.connect(self.resume)
        self.cancel_button.clicked.connect(self.cancel)
        self.close_button.clicked.connect(self.close)
        self.cancel_button.setEnabled(False)
        buttons = QHBoxLayout()
        for button in (self.start_button, self.resume_button, self.cancel_button, self.activate_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.close_button)

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.bar)
        layout.addWidget(self.status_label)
        layout.addWidget(self.result_label)
        layout.addWidget(self.log_view)
        layout.addLayout(buttons)
        self.resize(640, 720)

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder of cases with labels", self.data_edit.text())
        if folder:
            self.data_edit.setText(folder)

    def _refresh_resume(self) -> None:
        self.resume_button.setEnabled(not self.running and resumable_run(self.runs) is not None)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.running

    # ----------------------------------------------------------------- starting
    def start(self) -> None:
        """Start a new run with the chosen settings."""
        data = Path(self.data_edit.text()).expanduser()
        cases = list_cases(data)
        held_out = held_out_names(cases, self.registry.validation_cases())
        if not cases:
            self.status_label.setText(
                f"{data}: no cases with labels found. Use File ▸ Export with “add to my training set”, "
                "or choose a folder of cases (one folder per case, BraTS file names, with *_seg)."
            )
            return
        problem = too_few_cases(cases, data)
        if problem:
            self.status_label.setText(problem)
            return
        base = int(self.base_combo.currentData())
        init_bundle = self.registry.bundle_path(base)
        request = RetrainRequest(
            data_dir=data,
            init_bundle=init_bundle,
            out_dir=new_run_dir(self.runs),
            epochs=self.epochs_spin.value(),
            device=str(self.device_combo.currentData()),
            base_version=base,
            val_cases=held_out,
            extra_args=self._extra_args,
            name=fine_tuned_name(init_bundle),
        )
        self._launch(request)

    def resume(self) -> None:
        """Continue the newest cancelled or failed run from its last checkpoint."""
        request = resumable_run(self.runs)
        if request is None:
            self.status_label.setText("No cancelled run with a checkpoint to resume.")
            return
        self._launch(request)

    def _launch(self, request: RetrainRequest) -> None:
        self.request = request
        self.history = TrainingHistory(epochs=request.epochs)
        self.plot.set_history(self.history)
        self.new_version = None
        self.activate_button.setVisible(False)
        self._started = time.monotonic()
        self.result_label.setText("")
        request.write_record("running")
        self._set_running(True)
        verb = "Resuming" if request.resume else "Starting"
        self.status_label.setText(f"{verb} training in {request.out_dir}…")
        self.process = start_process(
            self._command(request),
            title="training",
            on_line=self.feed_line,
            on_stderr=self._log_text,
            on_finished=self._finished,
            kill_after_ms=KILL_AFTER_MS,
            parent=self,
        )

    def _set_running(self, running: bool) -> None:
        for widget in (
            self.start_button,
            self.base_combo,
            self.epochs_spin,
            self.device_combo,
            self.data_edit,
        ):
            widget.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        self.resume_button.setEnabled(False)
        if not running:
            self._refresh_resume()

    # ----------------------------------------------------------------- progress
    def _log_text(self, text: str) -> None:
        for line in text.splitlines():
            if line.strip():
                self.log_view.appendPlainText(line)

    def feed_line(self, line: str) -> None:
        """Apply one stdout line of the child (JSON progress, or text that goes to the log)."""
        event = parse_event(line)
        if event is None:
            if line.strip():
                self.log_view.appendPlainText(line)
            return
        self.history.feed(event)
        self.plot.set_history(self.history)
        self.bar.setValue(round(100 * self.history.fraction))
        self.status_label.setText(self._status_text())

    def _status_text(self) -> str:
        h = self.history
        parts = [f"epoch {h.epoch}/{h.epochs}" if h.epochs else f"epoch {h.epoch}"]
        if h.iterations:
            parts.append(f"step {h.iteration}/{h.iterations}")
        if h.loss:
            parts.append(f"loss {h.loss[-1][1]:.4f}")
        dice = [f"{r} {h.dice[r][-1][1]:.3f}" for r in h.dice if h.dice[r]]
        if dice:
            parts.append("Dice " + " ".join(dice))
        eta = h.eta_s
        if eta is None and 0 < h.fraction < 1:  # the child reported none: extrapolate the elapsed time
            elapsed = time.monotonic() - self._started
            eta = elapsed * (1 - h.fraction) / h.fraction
        parts.append("ETA " + ("estimating…" if eta is None else format_duration(eta)))
        return " · ".join(parts)

    # ----------------------------------------------------------------- cancel
    def cancel(self) -> None:
        """Terminate the child; it is killed if still there after KILL_AFTER_MS (the runner does it)."""
        if not self.running or self.process is None or self.process.cancelled:
            return
        self.cancel_button.setEnabled(False)
        self.status_label.setText("Cancelling…")
        self.process.cancel()

    # ----------------------------------------------------------------- finishing
    def _finished(self, exit_code: int, crashed: bool, cancelled: bool) -> None:
        if self.request is None:
            return
        request = self.request
        if cancelled:
            request.write_record("cancelled")
            self._set_running(False)
            self.status_label.setText(
                f"Cancelled. The run folder {request.out_dir} keeps its last checkpoint: "
                "press “Resume last run” to continue. No model version was added."
            )
            self._end("cancelled")
        elif exit_code != 0 or crashed:
            request.write_record("failed")
            self._set_running(False)
            reason = self.history.error or f"exit code {exit_code}; see the log below"
            self.status_label.setText(f"Training failed: {for_the_gui(reason)}. No model version was added.")
            self._end("failed")
        else:
            self._register(request)

    def _register(self, request: RetrainRequest) -> None:
        """Register the run's bundle as version N+1, as a job (the bundle is loaded once to check it)."""
        try:
            bundle = find_run_bundle(request.out_dir, self.history)
        except RegistryError as exc:
            self._register_failed(request, exc)
            return
        self.status_label.setText("Training finished; checking and registering the new model…")
        held_out = read_held_out(bundle)
        job = RegisterRequest(
            self.registry,
            bundle,
            base_version=request.base_version,
            data_size=training_case_count(list_cases(request.data_dir), held_out) or None,
            validation_cases=held_out,
        )
        self.job = start_job(
            RegisterRequest.run,
            job,
            title="Register",
            on_result=lambda version: self._registered(request, version),
            on_error=lambda exc: self._register_failed(request, exc),
            on_cancelled=lambda: self._register_failed(request, RegistryError("cancelled")),
        )

    def _register_failed(self, request: RetrainRequest, exc: BaseException) -> None:
        request.write_record("failed")
        self._set_running(False)
        self.status_label.setText(f"Training finished but the model could not be registered: {exc}")
        self._end("failed")

    def _registered(self, request: RetrainRequest, version: ModelVersion) -> None:
        request.write_record("registered")
        self._set_running(False)
        self.new_version = version.number
        self.status_label.setText(
            f"Registered as model version {version.number} (based on v{request.base_version}). "
            "Activate it here or in Retrain ▸ Manage models…; roll back there at any time."
        )
        self.activate_button.setText(f"Activate v{version.number}")
        self.activate_button.setEnabled(True)
        self.activate_button.setVisible(True)
        self.result_label.setText(run_metrics_text(self.history))
        self.registered.emit(version.number)
        self._end("registered")
        if self._evaluate:
            self._start_evaluation()

    def activate_new_version(self) -> None:
        """Make the version this run registered the active one (what Segment uses), as a job."""
        if self.new_version is None or (self.job is not None and self.job.running):
            return
        number = self.new_version
        self.activate_button.setEnabled(False)
        self.status_label.setText(f"Checking and activating version {number}…")

        def failed(exc: BaseException) -> None:
            self.status_label.setText(str(exc))
            self.activate_button.setEnabled(True)

        self.job = start_job(
            ActivateRequest.run,
            ActivateRequest(self.registry, number),
            title="Activate",
            on_result=lambda n: self.status_label.setText(f"Version {n} is now active: Segment uses it."),
            on_error=failed,
        )

    def _end(self, status: str) -> None:
        self.run_finished.emit(status)

    # ----------------------------------------------------------------- evaluation
    def _start_evaluation(self) -> None:
        """Evaluate the new version (and any version not yet evaluated) on the validation set, as a job."""
        if not self.registry.validation_cases():
            return
        base = self.result_label.text()
        self.result_label.setText(base + "\nEvaluating on the validation set…")

        def progress(update: Progress) -> None:
            self.result_label.setText(
                f"{base}\nEvaluating on the validation set: {update.message} ({update.done}/{update.total})…"
            )

        self.eval_job = start_job(
            EvaluateRequest.run,
            EvaluateRequest(self.registry, str(self.device_combo.currentData())),
            title="Evaluate",
            on_progress=progress,
            on_result=self._evaluation_done,
            on_error=lambda exc: self.result_label.setText(f"{base}\nEvaluation failed: {exc}"),
            on_cancelled=lambda: self.result_label.setText(f"{base}\nEvaluation cancelled."),
        )

    def _evaluation_done(self, _numbers: list[int]) -> None:
        if self.new_version is None:
            return
        self.result_label.setText(version_metrics_text(self.registry, self.new_version))

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt override)
        if self.running and self.process is not None:
            self.process.stop_and_wait()
        for job in (self.job, self.eval_job):
            if job is not None and job.running:
                job.cancel()
        super().closeEvent(event)


def run_metrics_text(history: TrainingHistory) -> str:
    """The run's last validation Dice per region, as the training process reported it."""
    dice = [f"{region} {points[-1][1]:.3f}" for region, points in history.dice.items() if points]
    return "Last validation Dice of the run: " + (", ".join(dice) if dice else "not reported")


def version_metrics_text(registry: ModelRegistry, number: int) -> str:
    """Mean Dice / HD95 per region of a version on the fixed validation set."""
    version = registry.version(number)
    if not version.evaluation:
        return f"Version {number}: not evaluated yet."
    cells = [
        f"{r} Dice {version.mean_metric(r, 'dice'):.3f} / HD95 {version.mean_metric(r, 'hd95'):.1f} mm"
        for r in REGION_NAMES
    ]
    n = len(version.evaluation.get("cases", {}))
    return f"Version {number} on the validation set ({plural(n, 'case')}): " + "; ".join(cells)
