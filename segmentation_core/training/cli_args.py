"""Command-line arguments of ``brats-seg train`` (shared by ``python -m segmentation_core.training``)."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from segmentation_core.training.augment import AUGMENTATIONS
from segmentation_core.training.config import PRECISIONS, TrainConfig
from segmentation_core.training.losses import LOSSES
from segmentation_core.training.presets import PRESETS, preset_settings


def _preset_default(option: str, default: object) -> str:
    """'(default: X with --preset cpu, Y with gpu)' for an option a preset may set."""

    def shown(value: object) -> str:
        return " ".join(map(str, value)) if isinstance(value, list | tuple) else str(value)

    parts = [f"{shown(PRESETS[name].get(option, default))} with --preset {name}" for name in sorted(PRESETS)]
    return f"(default: {'; '.join(parts)})"


def add_train_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``brats-seg train``; every help text says what the option does and its default."""
    d = TrainConfig(data=Path("."), out=Path("."))
    parser.description = (
        "Train a 3D U-Net on labelled cases (BraTS-named case folders with a _seg file), or fine-tune an "
        "existing model bundle with --init. Writes checkpoints (last.pt) and a model bundle "
        "(model.json + weights) into --out; --resume continues an interrupted run; --folds/--fold train "
        "one fold of a cross-validation."
    )
    add = parser.add_argument
    add("--data", type=Path, required=True, help="folder of cases with reference labels (required)")
    add(
        "--out",
        type=Path,
        required=True,
        help="output folder for checkpoints and the model bundle (required)",
    )
    add(
        "--init",
        type=Path,
        help="model bundle to fine-tune from; its architecture is used (default: train from scratch)",
    )
    add(
        "--coarse-probabilities",
        type=Path,
        help="train a cascade's fine stage: a folder of a coarse model's held-out predictions (<case>.npz, "
        "as `crossval` saves them), given to the network as extra input channels; needs --val-every 0 "
        "(default: none, a stand-alone model)",
    )
    add(
        "--preset",
        choices=sorted(PRESETS),
        default="cpu",
        help="recipe to start from: cpu (2 mm, 48^3, small network) or gpu (1 mm, 128^3, wider, deep "
        "supervision, mixed precision); options given explicitly override it (default: %(default)s)",
    )
    add("--epochs", type=int, help=f"number of epochs {_preset_default('epochs', d.epochs)}")
    add(
        "--iterations-per-epoch",
        type=int,
        help="training steps (batches) per epoch "
        f"{_preset_default('iterations_per_epoch', d.iterations_per_epoch)}",
    )
    add(
        "--batch-size",
        type=int,
        help=f"patches per training step {_preset_default('batch_size', d.batch_size)}",
    )
    add(
        "--patch-size",
        type=int,
        nargs=3,
        metavar=("X", "Y", "Z"),
        help=f"training patch size in voxels {_preset_default('patch_size', d.patch_size)}",
    )
    add(
        "--spacing",
        type=float,
        nargs=3,
        metavar=("SX", "SY", "SZ"),
        help=f"resample cases to this voxel spacing in mm {_preset_default('spacing', d.spacing)}",
    )
    add(
        "--native-spacing",
        action="store_true",
        help="train on the cases' own grid instead of --spacing (default: off)",
    )
    add(
        "--base-filters",
        type=int,
        help="feature channels of the first U-Net level, doubled per level "
        f"{_preset_default('base_filters', d.base_filters)}",
    )
    add("--depth", type=int, help=f"U-Net resolution levels {_preset_default('depth', d.depth)}")
    add(
        "--deep-supervision",
        action=argparse.BooleanOptionalAction,
        help="add losses on the lower decoder levels "
        f"{_preset_default('deep_supervision', d.deep_supervision)}",
    )
    add(
        "--precision",
        choices=PRECISIONS,
        help="auto: fp16 mixed precision on CUDA, fp32 on the CPU; amp: mixed precision (bfloat16 on the "
        f"CPU) {_preset_default('precision', d.precision)}",
    )
    add("--loss", choices=LOSSES, default=d.loss, help="training loss (default: %(default)s)")
    add(
        "--foreground-fraction",
        type=float,
        default=d.foreground_fraction,
        help="share of patches centred on tumour, e.g. 0.9 for a cascade's fine stage (default: %(default)s)",
    )
    add(
        "--augmentation",
        choices=AUGMENTATIONS,
        default=d.augmentation,
        help="data augmentation: default (mild: flips, small rotations, intensity jitter) or strong "
        "(nnU-Net's: rotations up to 30° about every axis, scaling, blur, contrast, low resolution, "
        "gamma) (default: %(default)s)",
    )
    add("--optimizer", choices=("adamw", "sgd"), default=d.optimizer, help="optimizer (default: %(default)s)")
    add("--lr", type=float, help=f"initial learning rate, polynomial decay {_preset_default('lr', d.lr)}")
    add(
        "--val-cases",
        nargs="+",
        default=[],
        metavar="CASE",
        help=f"case names held out for validation (default: a {round(100 * d.val_fraction)} %% split of the cases)",
    )
    add(
        "--exclude-cases",
        nargs="+",
        default=[],
        metavar="CASE",
        help="case names never used, neither to train nor to validate, e.g. a final test set (default: none)",
    )
    add(
        "--folds",
        type=int,
        help="K-fold cross-validation: validate on fold --fold of a fixed K-fold split, train on the rest "
        "(default: no cross-validation)",
    )
    add("--fold", type=int, default=0, help="which fold to hold out, 0..K-1 (default: %(default)s)")
    add(
        "--val-every",
        type=int,
        default=d.val_every,
        help="validate every N epochs, 0 never (default: %(default)s)",
    )
    add(
        "--seed",
        type=int,
        default=d.seed,
        help="random seed for sampling and augmentation (default: %(default)s)",
    )
    add(
        "--device",
        default=d.device,
        help="auto (GPU when available), cpu, cuda or cuda:N (default: %(default)s)",
    )
    add(
        "--workers",
        type=int,
        help="DataLoader worker processes, 0 loads in the main process "
        f"{_preset_default('workers', d.workers)}",
    )
    add("--threads", type=int, help="CPU threads for torch (default: torch's own choice, all cores)")
    add("--name", default=d.name, help="model name written into the bundle (default: %(default)s)")
    add(
        "--version",
        dest="model_version",
        default=d.version,
        help="model version written into the bundle (default: %(default)s)",
    )
    add("--resume", action="store_true", help="continue from OUT/last.pt (default: off, start afresh)")
    add(
        "--json-progress",
        action="store_true",
        help="print one JSON object per line on stdout instead of log lines (default: off)",
    )
    add(
        "--postprocessing",
        type=Path,
        help="JSON file of clean-up settings to store in the bundle, e.g. OUT/postprocessing.json that "
        "`brats-seg crossval` chose (default: those of the --init bundle, else the built-in ones)",
    )


#: Options a preset may set; left out on the command line, they come from the preset or the defaults.
PRESET_OPTIONS = (
    "epochs",
    "iterations_per_epoch",
    "batch_size",
    "patch_size",
    "spacing",
    "base_filters",
    "depth",
    "deep_supervision",
    "precision",
    "lr",
    "workers",
)


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    d = TrainConfig(data=Path("."), out=Path("."))
    preset = preset_settings(getattr(args, "preset", "cpu"))
    chosen = {}
    for name in PRESET_OPTIONS:
        given = getattr(args, name)
        chosen[name] = given if given is not None else preset.get(name, getattr(d, name))
    if args.native_spacing:
        chosen["spacing"] = None
    elif chosen["spacing"] is not None:
        chosen["spacing"] = tuple(chosen["spacing"])
    if args.folds is None and args.fold:
        raise ValueError("--fold needs --folds")
    return TrainConfig(
        data=args.data,
        out=args.out,
        init=args.init,
        coarse_probabilities=args.coarse_probabilities,
        epochs=chosen["epochs"],
        iterations_per_epoch=chosen["iterations_per_epoch"],
        batch_size=chosen["batch_size"],
        patch_size=tuple(chosen["patch_size"]),
        spacing=chosen["spacing"],
        base_filters=chosen["base_filters"],
        depth=chosen["depth"],
        deep_supervision=bool(chosen["deep_supervision"]),
        precision=chosen["precision"],
        loss=args.loss,
        foreground_fraction=args.foreground_fraction,
        augmentation=args.augmentation,
        optimizer=args.optimizer,
        lr=chosen["lr"],
        val_cases=list(args.val_cases),
        exclude_cases=list(args.exclude_cases),
        folds=args.folds,
        fold=args.fold,
        val_every=args.val_every,
        seed=args.seed,
        device=args.device,
        workers=chosen["workers"],
        threads=args.threads,
        name=args.name,
        version=args.model_version,
        postprocessing=read_postprocessing(args.postprocessing) if args.postprocessing else None,
    )


def read_postprocessing(path: Path) -> dict:
    """Clean-up settings from a JSON file, checked; ValueError naming the file otherwise."""
    from segmentation_core.inference.postprocess import Postprocessing

    try:
        data = json.loads(Path(path).read_text())
        return Postprocessing.from_json(data).to_json()
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, ValueError) as exc:
        raise ValueError(f"{path}: not usable post-processing settings ({exc})") from exc


def run_from_args(args: argparse.Namespace) -> int:
    from segmentation_core.training.progress import ProgressReporter
    from segmentation_core.training.trainer import Trainer

    if not args.json_progress:
        logging.getLogger("segmentation_core").setLevel(logging.INFO)
        if not logging.getLogger().handlers:
            logging.basicConfig(stream=sys.stderr, format="%(message)s")
    reporter = ProgressReporter(json_lines=args.json_progress)
    try:
        trainer = Trainer(config_from_args(args), reporter)
        if args.resume:
            trainer.resume()
        bundle = trainer.run()
    except (OSError, ValueError) as exc:
        if args.json_progress:  # the GUI's retrain dialog shows it; the CLI prints it as well
            reporter.emit("error", error=str(exc))
        raise
    print(f"model bundle written to {bundle}", file=sys.stderr)
    return 0
