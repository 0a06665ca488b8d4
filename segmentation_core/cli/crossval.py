"""``brats-seg crossval``: K-fold cross-validation of a training recipe, resumable, with a report."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    from segmentation_core.training.crossval import PROJECT_VALIDATION_CASES, RECIPES

    parser = subparsers.add_parser(
        "crossval",
        help="cross-validate a training recipe: train each fold, score its held-out cases, report",
        description="Train every fold of a fixed K-fold split, predict each fold's held-out cases, "
        "choose the ET post-processing threshold over those predictions and score them (Dice/HD95 per "
        "case, WT/TC/ET). Run the same command again to continue a stopped run.",
    )
    parser.add_argument("--data", type=Path, required=True, help="folder of labelled cases (required)")
    parser.add_argument(
        "--out", type=Path, required=True, help="folder for the folds' runs and results (required)"
    )
    parser.add_argument(
        "--recipe", choices=sorted(RECIPES), default="2mm", help="training recipe (default: %(default)s)"
    )
    parser.add_argument("--folds", type=int, default=5, help="number of folds K (default: %(default)s)")
    parser.add_argument("--fold", type=int, help="run only this fold (default: all)")
    parser.add_argument(
        "--epochs", type=int, default=8, help="epochs per fold, a proxy schedule (default: %(default)s)"
    )
    parser.add_argument(
        "--iterations-per-epoch", type=int, default=50, help="training steps per epoch (default: %(default)s)"
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="random seed of every fold's run (default: %(default)s)"
    )
    parser.add_argument(
        "--threads", type=int, help="CPU threads for torch (default: torch's own choice, all cores)"
    )
    parser.add_argument(
        "--exclude-cases",
        nargs="*",
        default=list(PROJECT_VALIDATION_CASES),
        help=f"cases in no fold (default: {' '.join(PROJECT_VALIDATION_CASES)}, this project's validation cases)",
    )
    parser.add_argument(
        "--report", type=Path, help="Markdown file to append the results table to (default: print only)"
    )
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="train nothing: score what has been predicted so far (default: off)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from segmentation_core.training.crossval import RECIPES, CrossValidation
    from segmentation_core.training.crossval_report import write_report

    logging.getLogger("segmentation_core").setLevel(logging.INFO)
    if not logging.getLogger().handlers:
        logging.basicConfig(stream=sys.stderr, format="%(message)s")
    cv = CrossValidation(
        data=args.data,
        out=args.out,
        recipe=args.recipe,
        settings=RECIPES[args.recipe],
        folds=args.folds,
        epochs=args.epochs,
        iterations_per_epoch=args.iterations_per_epoch,
        seed=args.seed,
        threads=args.threads,
        exclude=tuple(args.exclude_cases),
    )
    if not args.report_only:
        cv.run(only_fold=args.fold)
    print(write_report(cv, args.report))
    return 0
