"""Command-line arguments of ``brats-seg train`` (shared by ``python -m segmentation_core.training``)."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from segmentation_core.training.config import PRECISIONS, TrainConfig
from segmentation_core.training.losses import LOSSES
from segmentation_core.training.presets import PRESETS, preset_settings


def add_train_arguments(parser: argparse.ArgumentParser) -> None:
    d = TrainConfig(data=Path("."), out=Path("."))
    parser.add_argument("--data", type=Path, required=True, help="folder of cases with reference labels")
    parser.add_argument(
        "--out", type=Path, required=True, help="output folder: checkpoints and the model bundle"
    )
    parser.add_argument(
        "--init", type=Path, help="model bundle to fine-tune from (architecture taken from it)"
    )
    parser.add_argument(
        "--preset",
        choices=sorted(PRESETS),
        default="cpu",
        help="recipe to start from: cpu (2 mm, 48^3, small network) or gpu (1 mm, 128^3, wider, deep "
        "supervision, mixed precision); options given explicitly override it",
    )
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--iterations-per-epoch", type=int)
    parser.add_argument("--batch-size", type=int)
    parser.add_argument("--patch-size", type=int, nargs=3, metavar=("X", "Y", "Z"))
    parser.add_argument("--spacing", type=float, nargs=3, metavar=("SX", "SY", "SZ"))
    parser.add_argument("--native-spacing", action="store_true", help="train on the cases' own grid")
    parser.add_argument("--base-filters", type=int)
    parser.add_argument("--depth", type=int)
    parser.add_argument("--deep-supervision", action=argparse.BooleanOptionalAction)
    parser.add_argument(
        "--precision",
        choices=PRECISIONS,
        help="auto: fp16 mixed precision on CUDA, fp32 on the CPU; amp: mixed precision (bfloat16 on the CPU)",
    )
    parser.add_argument("--loss", choices=LOSSES, default=d.loss)
    parser.add_argument(
        "--foreground-fraction",
        type=float,
        default=d.foreground_fraction,
        help="share of patches centred on tumour (e.g. 0.9 for a cascade's fine stage)",
    )
    parser.add_argument("--optimizer", choices=("adamw", "sgd"), default=d.optimizer)
    parser.add_argument("--lr", type=float)
    parser.add_argument("--val-cases", nargs="+", default=[], help="case names held out for validation")
    parser.add_argument(
        "--exclude-cases",
        nargs="+",
        default=[],
        help="case names never used, neither to train nor to validate (e.g. a final test set)",
    )
    parser.add_argument(
        "--folds",
        type=int,
        help="K-fold cross-validation: validate on fold --fold of a fixed K-fold split, train on the rest",
    )
    parser.add_argument("--fold", type=int, default=0, help="which fold to hold out (0..K-1)")
    parser.add_argument(
        "--val-every", type=int, default=d.val_every, help="validate every N epochs (0: never)"
    )
    parser.add_argument("--seed", type=int, default=d.seed)
    parser.add_argument("--device", default=d.device, help="auto, cpu, cuda or cuda:N")
    parser.add_argument("--workers", type=int, help="DataLoader worker processes")
    parser.add_argument("--threads", type=int, help="CPU threads for torch")
    parser.add_argument("--name", default=d.name)
    parser.add_argument("--version", dest="model_version", default=d.version)
    parser.add_argument(
        "--postprocessing",
        type=Path,
        help="JSON file of clean-up settings to store in the bundle (e.g. the one `brats-seg crossval` "
        "chose: OUT/postprocessing.json); default: those of the --init bundle, else the built-in ones",
    )
    parser.add_argument("--resume", action="store_true", help="continue from OUT/last.pt")
    parser.add_argument("--json-progress", action="store_true", help="one JSON object per line on stdout")


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
