"""The training loop: region-based U-Net training with checkpoints, exact resume and validation."""

from __future__ import annotations

import logging
import math
import random
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader

from segmentation_core.inference.device import resolve_device
from segmentation_core.io import find_cases
from segmentation_core.labels import REGION_NAMES
from segmentation_core.models.bundle import ModelBundle
from segmentation_core.models.unet import UNet3D
from segmentation_core.training import distributed
from segmentation_core.training.batches import BatchDataset
from segmentation_core.training.checkpoint import LAST, load_checkpoint, save_checkpoint
from segmentation_core.training.config import PRECISIONS, TrainConfig
from segmentation_core.training.data import CachedCase, DatasetError, build_cache, fingerprint
from segmentation_core.training.folds import fold_cases
from segmentation_core.training.losses import deep_supervision_loss, region_loss
from segmentation_core.training.progress import ProgressReporter
from segmentation_core.training.sampling import PatchSampler
from segmentation_core.types import CancelToken

#: Progress inside an epoch ("step" events) at most this often (seconds): an epoch can take minutes.
STEP_REPORT_S = 1.0

logger = logging.getLogger(__name__)


def split_cases(case_dirs: list[Path], config: TrainConfig) -> tuple[list[Path], list[Path]]:
    """(training, validation) case folders.

    ``exclude_cases`` are dropped first (never trained on nor validated). Then the validation cases are
    fold ``fold`` of a ``folds``-fold split (see :mod:`folds`), the explicit ``val_cases`` list, or a
    seeded random hold-out.
    """
    names = {Path(p).name: p for p in case_dirs}
    missing = sorted(set(config.exclude_cases) - set(names))
    if missing:
        raise DatasetError(f"{config.data}: excluded cases not found: {missing}")
    case_dirs = [p for p in case_dirs if Path(p).name not in set(config.exclude_cases)]
    if len(case_dirs) < 2:
        raise DatasetError(
            f"{config.data}: found {len(case_dirs)} case(s); training needs at least 2 (one is held out to validate)"
        )
    if config.folds:
        if config.val_cases:
            raise DatasetError("give either --val-cases or --folds, not both")
        held_out = set(fold_cases([Path(p).name for p in case_dirs], config.folds, config.fold))
        val = [p for p in case_dirs if Path(p).name in held_out]
    elif config.val_cases:
        missing = sorted(set(config.val_cases) - set(names))
        if missing:
            raise DatasetError(f"{config.data}: validation cases not found: {missing}")
        val = [names[n] for n in config.val_cases if n not in set(config.exclude_cases)]
    else:
        order = sorted(case_dirs, key=lambda p: Path(p).name)
        random.Random(config.seed).shuffle(order)
        val = sorted(order[: max(1, math.ceil(config.val_fraction * len(order)))], key=lambda p: Path(p).name)
    train = [p for p in case_dirs if p not in val]
    if not train:
        raise DatasetError(f"{config.data}: every case is a validation case; nothing left to train on")
    return train, val


def autocast_dtype(precision: str, device: torch.device) -> torch.dtype | None:
    """The mixed-precision type for ``precision`` ("auto", "amp" or "fp32") on ``device``; None: fp32.

    "auto" is fp16 on CUDA and fp32 elsewhere; "amp" is fp16 on CUDA and bfloat16 on the CPU.
    """
    if precision not in PRECISIONS:
        raise ValueError(f"unknown precision {precision!r}; choose one of {list(PRECISIONS)}")
    if precision == "fp32":
        return None
    if device.type == "cuda":
        return torch.float16
    return torch.bfloat16 if precision == "amp" else None


def check_coarse_inputs(config: TrainConfig, base: ModelBundle | None) -> None:
    """Refuse a cascade fine stage set up inconsistently (ValueError naming what is wrong)."""
    if base is not None and bool(base.coarse_inputs) != bool(config.coarse_probabilities):
        wanted = "needs --coarse-probabilities" if base.coarse_inputs else "takes no coarse probabilities"
        raise ValueError(f"{config.init}: this model {wanted}; the new one must take the same inputs")
    if config.coarse_probabilities is None:
        return
    if not Path(config.coarse_probabilities).is_dir():
        raise ValueError(f"{config.coarse_probabilities}: the coarse predictions folder does not exist")
    if config.val_every:
        raise ValueError(
            "a cascade's fine stage is validated through its coarse model (crossval --coarse); "
            "train it with --val-every 0"
        )


class Trainer:
    """Trains one model bundle from a folder of labelled cases (see ``TrainConfig``)."""

    def __init__(self, config: TrainConfig, reporter: ProgressReporter | None = None) -> None:
        self.config = config
        self.reporter = reporter or ProgressReporter(json_lines=False)
        self.out = Path(config.out)
        self.rank, self.world = distributed.rank_and_world()
        self.device = distributed.device_for_rank(resolve_device(config.device, mps=False), self.rank)
        if config.threads:
            torch.set_num_threads(config.threads)
        case_dirs = find_cases(Path(config.data))
        self.train_cases, self.val_cases = split_cases(case_dirs, config)
        self.base = ModelBundle.load(config.init) if config.init else None
        check_coarse_inputs(config, self.base)
        self.bundle = self._describe()
        torch.manual_seed(config.seed)  # the same initial weights for the same seed
        self.network = self._initial_network().to(self.device)
        self.total_iterations = config.epochs * config.iterations_per_epoch
        self.optimizer = self._make_optimizer()
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(
            self.optimizer, lambda it: (1 - min(it, self.total_iterations - 1) / self.total_iterations) ** 0.9
        )
        self.iteration = 0
        self.history: list[dict[str, Any]] = []
        self.best: dict[str, Any] | None = None

    def _initial_network(self) -> UNet3D:
        """New seeded weights, or the base model's; with deep supervision its extra heads start new.

        Bundles never keep the deep-supervision heads, so a base model has only the output head.
        """
        if self.base is None:
            return self.bundle.build_network()
        network = self.base.load_network()
        if not self.config.deep_supervision:
            return network
        supervised = self.bundle.build_network()
        supervised.load_state_dict(network.state_dict(), strict=False)  # it lacks only the lower heads
        return supervised

    def _describe(self) -> ModelBundle:
        c = self.config
        if self.base is not None:
            arch, patch, spacing, channels = (
                dict(self.base.architecture),
                self.base.patch_size,
                self.base.spacing,
                self.base.channels,
            )
            arch["deep_supervision"] = c.deep_supervision
        else:
            arch = {"base_filters": c.base_filters, "depth": c.depth, "deep_supervision": c.deep_supervision}
            patch = (c.patch_size[0], c.patch_size[1], c.patch_size[2])
            spacing, channels = c.spacing, ("t1", "t1ce", "t2", "flair")
        return ModelBundle(
            name=c.name,
            version=c.version,
            architecture=arch,
            channels=channels,
            coarse_inputs=REGION_NAMES if c.coarse_probabilities else (),
            patch_size=patch,
            spacing=spacing,
            postprocessing=self._postprocessing(),
        )

    def _postprocessing(self) -> dict[str, Any]:
        """The clean-up for the output bundle: the configured one, else the fine-tuned bundle's."""
        if self.config.postprocessing is not None:
            return dict(self.config.postprocessing)
        return dict(self.base.postprocessing) if self.base is not None else {}

    def _make_optimizer(self) -> torch.optim.Optimizer:
        c = self.config
        if c.optimizer == "adamw":
            return torch.optim.AdamW(self.network.parameters(), lr=c.lr, weight_decay=c.weight_decay)
        if c.optimizer == "sgd":
            return torch.optim.SGD(
                self.network.parameters(), lr=c.lr, momentum=0.99, nesterov=True, weight_decay=c.weight_decay
            )
        raise ValueError(f"unknown optimizer {c.optimizer!r}; choose adamw or sgd")

    # -- checkpoints ---------------------------------------------------------------------------
    def checkpoint_state(self) -> dict[str, Any]:
        return {
            "iteration": self.iteration,
            "model": self.network.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "history": self.history,
            "best": self.best,
            "config": self.config.to_json(),
        }

    def save_checkpoint(self) -> Path:
        return save_checkpoint(self.out / LAST, self.checkpoint_state())

    def resume(self) -> None:
        """Continue from ``OUT/last.pt``: model, optimiser, scheduler, RNG states and history."""
        path = self.out / LAST
        state = load_checkpoint(path, self.device)
        self.network.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        self.iteration = int(state["iteration"])
        self.history = list(state["history"])
        self.best = state["best"]
        self.reporter.emit("resumed", iteration=self.iteration, checkpoint=str(path))

    # -- training ------------------------------------------------------------------------------
    def _build_cache(self, cache: Path) -> list[CachedCase]:
        """Rank 0 preprocesses the cases; the other ranks wait, then read its cache."""
        if self.rank != 0:
            distributed.barrier()
        coarse = self.config.coarse_probabilities
        cached = build_cache(
            self.train_cases,
            cache,
            self.bundle.channels,
            self.bundle.spacing,
            None if coarse is None else (Path(coarse), self.bundle.coarse_inputs),
        )
        if self.rank == 0:
            distributed.barrier()
        return cached

    def run(self, cancel: CancelToken | None = None, stop_after: int | None = None) -> Path:
        """Train to the end (or ``stop_after`` iterations, for tests); returns the bundle folder."""
        c = self.config
        self.out.mkdir(parents=True, exist_ok=True)
        cache = Path(c.cache) if c.cache else self.out / "cache"
        cached = self._build_cache(cache)
        sampler = PatchSampler(cached, self.bundle.patch_size, c.foreground_fraction)
        stop = self.total_iterations if stop_after is None else min(self.total_iterations, stop_after)
        dataset = BatchDataset(
            sampler,
            c.batch_size,
            c.seed + 1000 * self.rank,
            self.iteration,
            stop,
            c.augmentation,
            guide_channels=len(self.bundle.coarse_inputs),
        )
        loader = DataLoader(dataset, batch_size=None, shuffle=False, num_workers=c.workers)
        network = distributed.wrap(self.network, self.device)
        amp_dtype = autocast_dtype(c.precision, self.device)
        scaler = torch.amp.GradScaler("cuda", enabled=amp_dtype == torch.float16)
        self.reporter.emit(
            "start",
            train_cases=[Path(p).name for p in self.train_cases],
            val_cases=[Path(p).name for p in self.val_cases],
            iterations=self.total_iterations,
            start_iteration=self.iteration,
            device=str(self.device),
        )
        started, start_iteration, running = time.monotonic(), self.iteration, []
        last_step_report = -math.inf  # the first step is always reported
        network.train()
        for images, targets in loader:
            if cancel is not None and cancel.cancelled:
                break
            images, targets = images.to(self.device), targets.to(self.device)
            with torch.autocast(self.device.type, dtype=amp_dtype, enabled=amp_dtype is not None):
                outputs = network(images)
            # the loss in float32: sigmoid sums over a patch lose too much in half precision
            loss = (
                deep_supervision_loss([o.float() for o in outputs], targets, c.loss)
                if isinstance(outputs, list)
                else region_loss(outputs.float(), targets, c.loss)
            )
            self.optimizer.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.unscale_(self.optimizer)
            torch.nn.utils.clip_grad_norm_(self.network.parameters(), c.grad_clip)
            scaler.step(self.optimizer)
            scaler.update()
            self.scheduler.step()
            self.iteration += 1
            running.append(loss.item())
            if self.iteration % c.iterations_per_epoch == 0 or self.iteration == stop:
                self._end_of_epoch(running, started, start_iteration)
                running = []
            else:
                last_step_report = self._report_step(running[-1], started, start_iteration, last_step_report)
        return self.finish()

    def _report_step(self, loss: float, started: float, start_iteration: int, last_report: float) -> float:
        """A "step" event inside an epoch (at most one per STEP_REPORT_S); returns when it was sent."""
        now = time.monotonic()
        if now - last_report < STEP_REPORT_S:
            return last_report
        c = self.config
        per_iteration = (now - started) / max(1, self.iteration - start_iteration)
        self.reporter.emit(
            "step",
            epoch=math.ceil(self.iteration / c.iterations_per_epoch),
            epochs=c.epochs,
            iteration=self.iteration,
            iterations=self.total_iterations,
            step_loss=loss,
            eta_s=round(per_iteration * (self.total_iterations - self.iteration), 1),
        )
        return now

    def _end_of_epoch(self, losses: list[float], started: float, start_iteration: int) -> None:
        c = self.config
        epoch = math.ceil(self.iteration / c.iterations_per_epoch)
        elapsed = time.monotonic() - started
        per_iteration = elapsed / max(1, self.iteration - start_iteration)
        record: dict[str, Any] = {
            "epoch": epoch,
            "epochs": c.epochs,
            "step": self.iteration,
            "loss": float(np.mean(losses)) if losses else None,
            "lr": self.optimizer.param_groups[0]["lr"],
            "eta_s": round(per_iteration * (self.total_iterations - self.iteration), 1),
        }
        if self.rank == 0:
            if c.val_every and (epoch % c.val_every == 0 or self.iteration == self.total_iterations):
                record["val"] = self.validate()
                mean_dice = float(np.mean([record["val"]["mean"][r]["dice"] for r in REGION_NAMES]))
                if self.best is None or mean_dice > self.best["mean_dice"]:
                    self.best = {"mean_dice": mean_dice, "epoch": epoch, "metrics": record["val"]}
                    self._write_bundle(self.out / "best", record["val"])
            record["checkpoint"] = str(self.out / LAST)
        self.history.append(record)  # before saving, so a resumed run has the full history
        if self.rank == 0:
            self.save_checkpoint()
        self.reporter.emit("epoch", **record)

    def validate(self) -> dict[str, Any]:
        """Whole-case validation through the real inference engine; Dice/HD95 per case and region."""
        from segmentation_core.training.validation import validate_cases

        bundle = self._write_bundle(self.out / "current", None)
        return validate_cases(ModelBundle.load(bundle), self.val_cases, device=str(self.device))

    def _write_bundle(self, folder: Path, metrics: dict[str, Any] | None) -> Path:
        bundle = self._describe()
        bundle.architecture["deep_supervision"] = False
        bundle.training = {
            **self.config.to_json(),
            "iterations_done": self.iteration,
            "base_model": None if self.base is None else f"{self.base.name} v{self.base.version}",
            "train_cases": [Path(p).name for p in self.train_cases],
            "val_cases": [Path(p).name for p in self.val_cases],
        }
        bundle.data_fingerprint = fingerprint(self.train_cases)
        bundle.validation_metrics = metrics or {}
        keep = bundle.build_network().state_dict().keys()  # without the deep-supervision heads
        state = {k: v for k, v in self.network.state_dict().items() if k in keep}
        return bundle.save(folder, state)

    def finish(self) -> Path:
        """Write the output bundle: the best validated weights when there are any, else the last."""
        if self.rank != 0:
            return self.out
        if self.best is not None and (self.out / "best" / "model.json").is_file():
            best = ModelBundle.load(self.out / "best")
            best.save(self.out, torch.load(self.out / "best" / best.weights, weights_only=True))
        else:
            self._write_bundle(self.out, None)
        self.reporter.emit("done", bundle=str(self.out), iteration=self.iteration, best=self.best)
        return self.out
