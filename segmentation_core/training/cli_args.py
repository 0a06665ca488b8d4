"""Command-line arguments of ``brats-seg train`` (shared by ``python -m segmentation_core.training``)."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from segmentation_core.training.config import TrainConfig
from segmentation_core.training.losses import LOSSES


def add_train_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``brats-seg train``; every help text says what the option does and its default."""
    d = TrainConfig(data=Path("."), out=Path("."))
    parser.description = (
        "Train a 3D U-Net on labelled cases (BraTS-named case folders with a _seg file), or fine-tune an "
        "existing model bundle with --init. Writes checkpoints (last.pt, best.pt) and a model bundle "
        "(model.json + weights) into --out; --resume continues an interrupted run."
    )
    parser.add_argument(
        "--data", type=Path, required=True, help="folder of cases with reference labels (required)"
    )
    parser.add_argument(
        "--out",
        type=Path,
        required=True,
        help="output folder for checkpoints and the model bundle (required)",
    )
    parser.add_argument(
        "--init",
        type=Path,
        help="model bundle to fine-tune from; its architecture is used (default: train from scratch)",
    )
    parser.add_argument(
        "--epochs", type=int, default=d.epochs, help="number of epochs (default: %(default)s)"
    )
    parser.add_argument(
        "--iterations-per-epoch",
        type=int,
        default=d.iterations_per_epoch,
        help="training steps (batches) per epoch (default: %(default)s)",
    )
    parser.add_argument(
        "--batch-size",
        type=int,
        default=d.batch_size,
        help="patches per training step (default: %(default)s)",
    )
    parser.add_argument(
        "--patch-size",
        type=int,
        nargs=3,
        default=d.patch_size,
        metavar=("X", "Y", "Z"),
        help=f"training patch size in voxels (default: {' '.join(map(str, d.patch_size))})",
    )
    parser.add_argument(
        "--spacing",
        type=float,
        nargs=3,
        default=d.spacing,
        metavar=("SX", "SY", "SZ"),
        help=f"resample cases to this voxel spacing in mm (default: {' '.join(map(str, d.spacing or ()))})",
    )
    parser.add_argument(
        "--native-spacing",
        action="store_true",
        help="train on the cases' own grid instead of --spacing (default: off)",
    )
    parser.add_argument(
        "--base-filters",
        type=int,
        default=d.base_filters,
        help="feature channels of the first U-Net level; doubled per level (default: %(default)s)",
    )
    parser.add_argument(
        "--depth", type=int, default=d.depth, help="U-Net resolution levels (default: %(default)s)"
    )
    parser.add_argument(
        "--deep-supervision",
        action="store_true",
        help="add losses on the lower decoder levels (default: off)",
    )
    parser.add_argument("--loss", choices=LOSSES, default=d.loss, help="training loss (default: %(default)s)")
    parser.add_argument(
        "--optimizer", choices=("adamw", "sgd"), default=d.optimizer, help="optimizer (default: %(default)s)"
    )
    parser.add_argument(
        "--lr",
        type=float,
        default=d.lr,
        help="initial learning rate, polynomial decay (default: %(default)s)",
    )
    parser.add_argument(
        "--val-cases",
        nargs="+",
        default=[],
        metavar="CASE",
        help=f"case names held out for validation (default: a {round(100 * d.val_fraction)} %% split of the cases)",
    )
    parser.add_argument(
        "--val-every",
        type=int,
        default=d.val_every,
        help="validate every N epochs, 0 never (default: %(default)s)",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=d.seed,
        help="random seed for sampling and augmentation (default: %(default)s)",
    )
    parser.add_argument(
        "--device",
        default=d.device,
        help="auto (GPU when available), cpu, cuda or cuda:N (default: %(default)s)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=d.workers,
        help="DataLoader worker processes, 0 loads in the main process (default: %(default)s)",
    )
    parser.add_argument(
        "--threads", type=int, help="CPU threads for torch (default: torch's own choice, all cores)"
    )
    parser.add_argument(
        "--name", default=d.name, help="model name written into the bundle (default: %(default)s)"
    )
    parser.add_argument(
        "--version",
        dest="model_version",
        default=d.version,
        help="model version written into the bundle (default: %(default)s)",
    )
    parser.add_argument(
        "--resume", action="store_true", help="continue from OUT/last.pt (default: off, start afresh)"
    )
    parser.add_argument(
        "--json-progress",
        action="store_true",
        help="print one JSON object per line on stdout instead of log lines (default: off)",
    )


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    return TrainConfig(
        data=args.data,
        out=args.out,
        init=args.init,
        epochs=args.epochs,
        iterations_per_epoch=args.iterations_per_epoch,
        batch_size=args.batch_size,
        patch_size=tuple(args.patch_size),
        spacing=None if args.native_spacing else tuple(args.spacing),
        base_filters=args.base_filters,
        depth=args.depth,
        deep_supervision=args.deep_supervision,
        loss=args.loss,
        optimizer=args.optimizer,
        lr=args.lr,
        val_cases=list(args.val_cases),
        val_every=args.val_every,
        seed=args.seed,
        device=args.device,
        workers=args.workers,
        threads=args.threads,
        name=args.name,
        version=args.model_version,
    )


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
