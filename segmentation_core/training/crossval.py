"""K-fold cross-validation of a training recipe: train every fold, predict its held-out cases, score them.

Everything lands under one output folder and every step is resumable: a killed run continues from the
fold's last checkpoint (``Trainer.resume``), finished folds and saved predictions are skipped.

    OUT/recipe.json                 the recipe and schedule (a rerun must match it)
    OUT/fold<i>/                    the fold's training run (last.pt, the final bundle, timing.json)
    OUT/fold<i>/cv/<case>.npz       held-out WT/TC/ET probabilities on the case grid (uint8, 0..255)
    OUT/metrics.json                per-case Dice/HD95 with the chosen post-processing

Probabilities are kept so post-processing choices (the ET threshold) are made over them cheaply.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from segmentation_core.atomic import write_bytes, write_json
from segmentation_core.io import find_cases, load_case
from segmentation_core.training.config import TrainConfig
from segmentation_core.training.folds import fold_assignment
from segmentation_core.training.presets import PRESETS
from segmentation_core.training.progress import ProgressReporter

if TYPE_CHECKING:
    from segmentation_core.inference import CascadePredictor, Predictor

logger = logging.getLogger(__name__)

#: This project's final validation cases (../shared/data/real/README.md): never in any fold.
PROJECT_VALIDATION_CASES = ("Brats18_2013_20_1", "Brats18_CBICA_AME_1", "Brats18_TCIA10_628_1")

#: Recipes to compare: TrainConfig settings changed from the defaults (the bundled 2 mm recipe).
RECIPES: dict[str, dict[str, Any]] = {
    "2mm": {},
    "1.5mm-p48": {"spacing": (1.5, 1.5, 1.5)},
    "1.5mm-p64": {"spacing": (1.5, 1.5, 1.5), "patch_size": (64, 64, 64)},
    "2mm-ds": {"deep_supervision": True},
    "2mm-ds-focal": {"deep_supervision": True, "loss": "dice_focal"},
    "2mm-wide": {"base_filters": 24},
    "2mm-aug": {"augmentation": "strong"},
    # the GPU preset's network and sampling (schedule from --epochs / --iterations-per-epoch)
    # the fine stage of a cascade (run with --coarse OUT of a 2 mm run): 1 mm, mostly tumour patches
    "cascade-1mm-p64": {"spacing": (1.0, 1.0, 1.0), "patch_size": (64, 64, 64), "foreground_fraction": 0.9},
    # the same fine stage sampling like the coarse one (a third of patches on tumour): more normal brain seen
    "cascade-1mm-p64-fg33": {"spacing": (1.0, 1.0, 1.0), "patch_size": (64, 64, 64)},
    # the fine stage given the coarse run's held-out WT/TC/ET probabilities as 3 more input channels
    # (nnU-Net's cascade); its training cases' coarse inputs come from the coarse folds that held them out
    "cascade-1mm-p64-guided": {"spacing": (1.0, 1.0, 1.0), "patch_size": (64, 64, 64), "coarse_input": True},
    "gpu": {k: v for k, v in PRESETS["gpu"].items() if k not in ("epochs", "iterations_per_epoch")},
}


@dataclass
class CrossValidation:
    """One recipe's K-fold cross-validation over the cases in ``data`` minus ``exclude``."""

    data: Path
    out: Path
    recipe: str
    settings: dict[str, Any] = field(default_factory=dict)
    folds: int = 5
    epochs: int = 8
    iterations_per_epoch: int = 50
    seed: int = 0
    threads: int | None = None
    device: str = "auto"
    exclude: tuple[str, ...] = PROJECT_VALIDATION_CASES
    #: Another cross-validation's output folder: its fold models localise the tumour and this recipe's
    #: fold models segment around it (a cascade, ``inference.CascadePredictor``); None: single stage.
    coarse: Path | None = None

    def __post_init__(self) -> None:
        self.data, self.out = Path(self.data), Path(self.out)
        self.coarse = Path(self.coarse) if self.coarse is not None else None
        names = [Path(p).name for p in find_cases(self.data)]
        missing = sorted(set(self.exclude) - set(names))
        if missing:
            raise ValueError(f"{self.data}: excluded cases not found: {missing}")
        self.case_ids = sorted(n for n in names if n not in set(self.exclude))
        self.assignment = fold_assignment(self.case_ids, self.folds)
        if self.settings.get("coarse_input") and self.coarse is None:
            raise ValueError(
                f"recipe {self.recipe!r} takes a coarse run's predictions as input: give --coarse"
            )

    # -- bookkeeping ------------------------------------------------------------------------------
    def description(self) -> dict[str, Any]:
        return {
            "recipe": self.recipe,
            "settings": {k: list(v) if isinstance(v, tuple) else v for k, v in self.settings.items()},
            "folds": self.folds,
            "epochs": self.epochs,
            "iterations_per_epoch": self.iterations_per_epoch,
            "seed": self.seed,
            "exclude": list(self.exclude),
            "assignment": self.assignment,
            **({"coarse": str(Path(self.coarse).resolve())} if self.coarse else {}),
        }

    def check_description(self) -> None:
        """Write OUT/recipe.json, or refuse to continue a run made with other settings."""
        path = self.out / "recipe.json"
        wanted = self.description()
        if path.is_file():
            found = json.loads(path.read_text())
            if found != wanted:
                raise ValueError(
                    f"{path}: this folder holds a cross-validation with other settings; use another --out"
                )
            return
        self.out.mkdir(parents=True, exist_ok=True)
        write_json(path, wanted)

    def fold_dir(self, fold: int) -> Path:
        return self.out / f"fold{fold}"

    def held_out(self, fold: int) -> list[str]:
        return sorted(c for c, f in self.assignment.items() if f == fold)

    def config(self, fold: int) -> TrainConfig:
        settings = {k: v for k, v in self.settings.items() if k != "coarse_input"}
        return TrainConfig(
            data=self.data,
            out=self.fold_dir(fold),
            cache=self.out / "cache",
            coarse_probabilities=self.coarse if self.settings.get("coarse_input") else None,
            epochs=self.epochs,
            iterations_per_epoch=self.iterations_per_epoch,
            folds=self.folds,
            fold=fold,
            exclude_cases=list(self.exclude),
            val_every=0,  # no checkpoint is picked by the held-out cases: the last weights are scored
            seed=self.seed,
            threads=self.threads,
            device=self.device,
            name=f"cv-{self.recipe}-fold{fold}",
            **settings,
        )

    def timing(self, fold: int) -> dict[str, Any]:
        path = self.fold_dir(fold) / "timing.json"
        return json.loads(path.read_text()) if path.is_file() else {"train_s": 0.0, "predict_s": {}}

    def trained(self, fold: int) -> bool:
        return bool(self.timing(fold).get("trained"))

    # -- work -----------------------------------------------------------------------------------
    def run(self, only_fold: int | None = None) -> None:
        """Train and predict every fold (or one), skipping what is already done."""
        self.check_description()
        for fold in range(self.folds) if only_fold is None else [only_fold]:
            self.train_fold(fold)
            self.predict_fold(fold)

    def train_fold(self, fold: int) -> None:
        from segmentation_core.training.checkpoint import LAST
        from segmentation_core.training.trainer import Trainer

        if self.trained(fold):
            return
        folder = self.fold_dir(fold)
        folder.mkdir(parents=True, exist_ok=True)
        reporter = _TimingReporter(folder / "timing.json", self.timing(fold))
        trainer = Trainer(self.config(fold), reporter)
        if (folder / LAST).is_file():
            trainer.resume()
        logger.info("%s fold %d: training from iteration %d", self.recipe, fold, trainer.iteration)
        trainer.run()
        reporter.record(trained=trainer.iteration >= trainer.total_iterations)

    def predict_fold(self, fold: int) -> None:
        """Save the held-out cases' region probabilities (no post-processing) from the fold's model."""
        from segmentation_core.inference import Predictor, run_prediction
        from segmentation_core.models.bundle import ModelBundle

        folder = self.fold_dir(fold)
        todo = [c for c in self.held_out(fold) if not (folder / "cv" / f"{c}.npz").is_file()]
        if not todo or not self.trained(fold):
            return
        fine = Predictor(
            ModelBundle.load(folder), device=self.device, postprocess=False, threads=self.threads
        )
        predictor = fine if self.coarse is None else self._cascade(fold, fine)
        timing = self.timing(fold)
        for case_id in todo:
            case = load_case(self.data / case_id)
            # a CascadePredictor has Predictor's interface (run_prediction is typed for the plain one)
            prediction = run_prediction(predictor, case, want_probabilities=True)  # type: ignore[arg-type]
            assert prediction.probabilities is not None, "asked for with want_probabilities"
            probabilities = np.round(prediction.probabilities.astype(np.float32) * 255).astype(np.uint8)
            write_npz(folder / "cv" / f"{case_id}.npz", probabilities=probabilities)
            timing["predict_s"][case_id] = round(prediction.seconds, 2)
            write_json(folder / "timing.json", timing)
            logger.info("%s fold %d: predicted %s in %.1f s", self.recipe, fold, case_id, prediction.seconds)

    def _cascade(self, fold: int, fine: Predictor) -> CascadePredictor:
        """The coarse run's model of the same fold (same held-out cases), then this fold's model."""
        from segmentation_core.inference import CascadePredictor, Predictor
        from segmentation_core.models.bundle import ModelBundle

        assert self.coarse is not None, "only a cascade recipe has a coarse run"
        coarse_dir = Path(self.coarse) / f"fold{fold}"
        timing = coarse_dir / "timing.json"
        if not (timing.is_file() and json.loads(timing.read_text()).get("trained")):
            raise ValueError(
                f"{coarse_dir}: the coarse recipe's fold {fold} is not trained yet; run it first"
            )
        coarse_assignment = json.loads((Path(self.coarse) / "recipe.json").read_text())["assignment"]
        if coarse_assignment != self.assignment:
            raise ValueError(f"{self.coarse}: the coarse run used other folds; it cannot localise these")
        coarse = Predictor(ModelBundle.load(coarse_dir), device=self.device, threads=self.threads)
        return CascadePredictor(coarse, fine)

    # -- results --------------------------------------------------------------------------------
    def predicted_cases(self) -> list[str]:
        return [c for c in self.case_ids if (self.fold_dir(self.assignment[c]) / "cv" / f"{c}.npz").is_file()]

    def probabilities(self, case_id: str) -> np.ndarray:
        path = self.fold_dir(self.assignment[case_id]) / "cv" / f"{case_id}.npz"
        with np.load(path) as archive:
            return archive["probabilities"].astype(np.float32) / 255.0

    def train_seconds(self) -> float:
        return float(sum(self.timing(f)["train_s"] for f in range(self.folds)))

    def folds_done(self) -> int:
        return sum(self.trained(f) for f in range(self.folds))


class _TimingReporter(ProgressReporter):
    """Logs progress and keeps the fold's training wall time in ``timing.json`` after every epoch."""

    def __init__(self, path: Path, timing: dict[str, Any]) -> None:
        super().__init__(json_lines=False)
        self.path = path
        self.timing = timing
        self.base = float(timing.get("train_s", 0.0))
        self.started = time.monotonic()

    def emit(self, event: str, **fields: Any) -> None:
        super().emit(event, **fields)
        if event == "epoch":
            self.record()

    def record(self, **extra: Any) -> None:
        self.timing["train_s"] = round(self.base + time.monotonic() - self.started, 1)
        self.timing.update(extra)
        write_json(self.path, self.timing)


def write_npz(path: Path, **arrays: np.ndarray) -> None:
    """Compressed arrays written atomically (a killed run never leaves half a prediction)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_bytes(path, lambda handle: np.savez_compressed(handle, **arrays))  # type: ignore[arg-type]
