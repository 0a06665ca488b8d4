"""Retraining as a child process: the ``brats-seg train`` command line and its JSON-lines progress.

Qt-free: the dialog (``app.qt.retrain_dialog``) runs the command with QProcess and feeds every event
of its stdout (``segmentation_core.training.progress``, the schema the trainer writes) to a
``TrainingHistory``.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

from segmentation_core.atomic import write_json
from segmentation_core.labels import REGION_NAMES as REGIONS
from segmentation_core.registry.errors import RegistryError
from segmentation_core.training.progress import (
    DoneEvent,
    EpochEvent,
    ErrorEvent,
    StartEvent,
    StepEvent,
    TrainingEvent,
)

RUN_RECORD = "retrain-run.json"
#: The resumable checkpoint ``brats-seg train`` keeps in its output folder (``--resume`` continues it).
CHECKPOINT = "last.pt"


@dataclass(frozen=True)
class RetrainRequest:
    """One fine-tuning run: start from ``init_bundle``, train on ``data_dir``, write to ``out_dir``."""

    data_dir: Path
    init_bundle: Path
    out_dir: Path
    epochs: int
    device: str = "auto"
    resume: bool = False
    base_version: int | None = None
    #: Names of cases in ``data_dir`` that must stay out of training (the registry's validation set).
    val_cases: tuple[str, ...] = ()
    #: Further ``brats-seg train`` options (e.g. ``("--iterations-per-epoch", "20")``).
    extra_args: tuple[str, ...] = ()
    #: The new bundle's model name (None: the trainer's default).
    name: str | None = None

    def command(self, executable: str | None = None, frozen: bool | None = None) -> list[str]:
        """The child's argv: the frozen app's ``--no-gui train`` or ``python -m segmentation_core train``."""
        executable = executable or sys.executable
        frozen = bool(getattr(sys, "frozen", False)) if frozen is None else frozen
        head = (
            [executable, "--no-gui", "train"] if frozen else [executable, "-m", "segmentation_core", "train"]
        )
        args = [
            "--init",
            str(self.init_bundle),
            "--data",
            str(self.data_dir),
            "--out",
            str(self.out_dir),
            "--epochs",
            str(self.epochs),
            "--device",
            self.device,
            "--json-progress",
        ]
        if self.val_cases:
            args += ["--val-cases", *self.val_cases]
        if self.name:
            args += ["--name", self.name]
        args += list(self.extra_args)
        return head + args + (["--resume"] if self.resume else [])

    def write_record(self, status: str) -> None:
        """Remember the run in ``out_dir`` so a cancelled run can be found and resumed later."""
        self.out_dir.mkdir(parents=True, exist_ok=True)
        record = {
            "data_dir": str(self.data_dir),
            "init_bundle": str(self.init_bundle),
            "epochs": self.epochs,
            "device": self.device,
            "base_version": self.base_version,
            "val_cases": list(self.val_cases),
            "extra_args": list(self.extra_args),
            "name": self.name,
            "status": status,
        }
        write_json(self.out_dir / RUN_RECORD, record)  # atomic: a reader never sees half a record


def find_run_bundle(out_dir: Path, history: TrainingHistory) -> Path:
    """The bundle a finished run wrote: the one it reported, else ``out_dir`` or ``out_dir/bundle``."""
    candidates = [Path(history.bundle)] if history.bundle else []
    candidates += [out_dir, out_dir / "bundle"]
    for candidate in candidates:
        if (candidate / "model.json").is_file():
            return candidate
    raise RegistryError(f"{out_dir}: the training run finished but wrote no model bundle (no model.json)")


def list_cases(folder: Path) -> list[Path]:
    """Cases under ``folder`` that the core I/O recognises (empty when none or missing)."""
    from segmentation_core.io import CaseLoadError, find_cases

    try:
        return find_cases(folder)
    except CaseLoadError:
        return []


def new_run_dir(runs_dir: Path) -> Path:
    """A fresh, time-stamped run folder under ``runs_dir`` (not created)."""
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    candidate = runs_dir / stamp
    index = 1
    while candidate.exists():
        index += 1
        candidate = runs_dir / f"{stamp}-{index}"
    return candidate


def resumable_run(runs_dir: Path) -> RetrainRequest | None:
    """The newest cancelled or failed run that left its checkpoint, as a request with ``resume=True``."""
    if not runs_dir.is_dir():
        return None
    for folder in sorted((p for p in runs_dir.iterdir() if p.is_dir()), reverse=True):
        record_file = folder / RUN_RECORD
        if not record_file.is_file():
            continue
        try:
            record = json.loads(record_file.read_text(encoding="utf-8"))
        except ValueError:
            continue
        if record.get("status") in {"cancelled", "failed"} and (folder / CHECKPOINT).is_file():
            return RetrainRequest(
                data_dir=Path(record["data_dir"]),
                init_bundle=Path(record["init_bundle"]),
                out_dir=folder,
                epochs=int(record["epochs"]),
                device=record.get("device", "auto"),
                resume=True,
                base_version=record.get("base_version"),
                val_cases=tuple(record.get("val_cases", ())),
                extra_args=tuple(record.get("extra_args", ())),
                name=record.get("name"),
            )
    return None


#: Training needs one case to learn from and one held out to check the new model on.
MIN_TRAINING_CASES = 2
FINE_TUNED_SUFFIX = "-finetuned"


def fine_tuned_name(base_bundle: Path) -> str:
    """The model name of a bundle fine-tuned from ``base_bundle``: its name with "-finetuned" (once)."""
    try:
        name = str(
            json.loads((base_bundle / "model.json").read_text(encoding="utf-8")).get("name") or "model"
        )
    except (OSError, ValueError, AttributeError):
        name = "model"
    return name if name.endswith(FINE_TUNED_SUFFIX) else name + FINE_TUNED_SUFFIX


def too_few_cases(cases: list[Path], data_dir: Path) -> str | None:
    """Why ``cases`` cannot be trained on (before a child process is started), or None."""
    if len(cases) >= MIN_TRAINING_CASES:
        return None
    found = "one case" if len(cases) == 1 else "no cases"
    return (
        f"{data_dir}: {found} with labels. Fine-tuning needs at least {MIN_TRAINING_CASES}: one to learn "
        "from and one held out to check the new model. Add corrected cases with File ▸ Export "
        "(“add to my training set”) or choose another folder."
    )


def training_case_count(cases: list[Path], held_out: list[Path] | None) -> int:
    """How many of ``cases`` a run trained on: all but those it held out for validation."""
    held = {Path(p).resolve() for p in held_out or ()}
    return sum(1 for case in cases if Path(case).resolve() not in held)


def held_out_names(cases: list[Path], validation: list[Path] | None) -> tuple[str, ...]:
    """Names of the validation cases found among ``cases`` (kept out of training), if any train remain."""
    if not validation:
        return ()
    fixed = {Path(p).resolve() for p in validation}
    names = tuple(sorted(case.name for case in cases if case.resolve() in fixed))
    return names if len(names) < len(cases) else ()


def read_held_out(bundle: Path) -> list[Path] | None:
    """Case folders the run held out for validation (``training.val_cases`` in model.json), or None."""
    from segmentation_core.io import CaseLoadError, find_cases
    from segmentation_core.models.spec import ModelSpec

    try:
        training = ModelSpec.load(bundle).training
        names, data = set(training["val_cases"]), Path(training["data"])
        found = [case for case in find_cases(data) if case.name in names]
    except (OSError, ValueError, KeyError, TypeError, CaseLoadError):
        return None
    return found or None


@dataclass
class TrainingHistory:
    """Everything the retrain dialog draws, accumulated from the child's typed progress events."""

    loss: list[tuple[float, float]] = field(default_factory=list)
    dice: dict[str, list[tuple[float, float]]] = field(default_factory=lambda: {r: [] for r in REGIONS})
    #: The loss of single training steps inside epochs ("step" events), at fractional epochs.
    step_loss: list[tuple[float, float]] = field(default_factory=list)
    epoch: int = 0
    epochs: int = 0
    iteration: int = 0
    iterations: int = 0
    eta_s: float | None = None
    checkpoint: str | None = None
    bundle: str | None = None
    error: str | None = None
    events: int = 0

    def feed(self, event: TrainingEvent) -> None:
        """Add one progress event."""
        self.events += 1
        if isinstance(event, StartEvent):
            self.iterations = event.iterations
            self.iteration = event.start_iteration
        elif isinstance(event, StepEvent):
            self.epoch = event.epoch
            if event.epochs is not None:
                self.epochs = event.epochs
            self.iteration, self.iterations = event.iteration, event.iterations
            if event.step_loss is not None and self.iterations and self.epochs:
                self.step_loss.append((self.iteration * self.epochs / self.iterations, event.step_loss))
            if event.eta_s is not None:
                self.eta_s = max(0.0, event.eta_s)
        elif isinstance(event, EpochEvent):
            self.epoch = event.epoch
            if event.epochs is not None:
                self.epochs = event.epochs
            if event.step is not None and self.iterations:
                self.iteration = event.step  # an epoch's "step" counts the run's iterations
            if event.loss is not None:
                self.loss.append((float(event.epoch), event.loss))
            for region, score in event.val.items():
                if score.dice is not None:
                    self.dice[region].append((float(event.epoch), score.dice))
            if event.eta_s is not None:
                self.eta_s = max(0.0, event.eta_s)
            self.checkpoint = event.checkpoint or self.checkpoint
        elif isinstance(event, DoneEvent):
            self.bundle = event.bundle
        elif isinstance(event, ErrorEvent):
            self.error = event.error

    @property
    def fraction(self) -> float:
        """How much of the run is done: by training steps when the child reports them, else by epochs."""
        if self.iterations > 0:
            return min(1.0, self.iteration / self.iterations)
        return 0.0 if self.epochs <= 0 else min(1.0, self.epoch / self.epochs)
