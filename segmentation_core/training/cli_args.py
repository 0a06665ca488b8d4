"""Command-line arguments of ``brats-seg train`` (shared by ``python -m segmentation_core.training``)."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from segmentation_core.training.config import TrainConfig
from segmentation_core.training.losses import LOSSES


def add_train_arguments(parser: argparse.ArgumentParser) -> None:
    d = TrainConfig(data=Path("."), out=Path("."))
    parser.add_argument("--data", type=Path, required=True, help="folder of cases with reference labels")
    parser.add_argument(
        "--out", type=Path, required=True, help="output folder: checkpoints and the model bundle"
    )
    parser.add_argument(
        "--init", type=Path, help="model bundle to fine-tune from (architecture taken from it)"
    )
    parser.add_argument("--epochs", type=int, default=d.epochs)
    parser.add_argument("--iterations-per-epoch", type=int, default=d.iterations_per_epoch)
    parser.add_argument("--batch-size", type=int, default=d.batch_size)
    parser.add_argument("--patch-size", type=int, nargs=3, default=d.patch_size, metavar=("X", "Y", "Z"))
    parser.add_argument("--spacing", type=float, nargs=3, default=d.spacing, metavar=("SX", "SY", "SZ"))
    parser.add_argument("--native-spacing", action="store_true", help="train on the cases' own grid")
    parser.add_argument("--base-filters", type=int, default=d.base_filters)
    parser.add_argument("--depth", type=int, default=d.depth)
    parser.add_argument("--deep-supervision", action="store_true")
    parser.add_argument("--loss", choices=LOSSES, default=d.loss)
    parser.add_argument("--optimizer", choices=("adamw", "sgd"), default=d.optimizer)
    parser.add_argument("--lr", type=float, default=d.lr)
    parser.add_argument("--val-cases", nargs="+", default=[], help="case names held out for validation")
    parser.add_argument(
        "--val-every", type=int, default=d.val_every, help="validate every N epochs (0: never)"
    )
    parser.add_argument("--seed", type=int, default=d.seed)
    parser.add_argument("--device", default=d.device, help="auto, cpu, cuda or cuda:N")
    parser.add_argument("--workers", type=int, default=d.workers, help="DataLoader worker processes")
    parser.add_argument("--threads", type=int, help="CPU threads for torch")
    parser.add_argument("--name", default=d.name)
    parser.add_argument("--version", dest="model_version", default=d.version)
    parser.add_argument("--resume", action="store_true", help="continue from OUT/last.pt")
    parser.add_argument("--json-progress", action="store_true", help="one JSON object per line on stdout")


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
