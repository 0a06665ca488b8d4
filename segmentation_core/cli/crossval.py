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
        "choose the post-processing over those predictions (the core-less island rule, then the ET "
        "threshold) and score them (Dice/HD95 per case, WT/TC/ET); OUT/postprocessing.json feeds "
        "`train --postprocessing`. Run the same command again to continue a stopped run.",
    )
    add = parser.add_argument
    add("--data", type=Path, required=True, help="folder of labelled cases (required)")
    add("--out", type=Path, required=True, help="folder for the folds' runs and results (required)")
    add(
        "--recipe",
        choices=sorted(RECIPES),
        default="2mm",
        help="training recipe: settings changed from brats-seg train's defaults (default: %(default)s)",
    )
    add("--folds", type=int, default=5, help="number of folds K (default: %(default)s)")
    add("--fold", type=int, help="run only this fold, 0..K-1 (default: all folds)")
    add("--epochs", type=int, default=8, help="epochs per fold, a proxy schedule (default: %(default)s)")
    add(
        "--iterations-per-epoch",
        type=int,
        default=50,
        help="training steps per epoch (default: %(default)s)",
    )
    add("--seed", type=int, default=0, help="training seed of every fold (default: %(default)s)")
    add("--threads", type=int, help="CPU threads for torch (default: torch's own choice, all cores)")
    add(
        "--device",
        default="auto",
        help="auto (GPU when available), cpu, cuda or cuda:N (default: %(default)s)",
    )
    add(
        "--exclude-cases",
        nargs="*",
        default=list(PROJECT_VALIDATION_CASES),
        metavar="CASE",
        help="cases in no fold, never trained on nor scored (default: "
        f"{' '.join(PROJECT_VALIDATION_CASES)}, this project's validation cases)",
    )
    add("--report", type=Path, help="Markdown file to append the results table to (default: none)")
    add(
        "--report-only",
        action="store_true",
        help="train nothing: score what has been predicted so far (default: off)",
    )
    parser.add_argument(
        "--coarse",
        type=Path,
        metavar="OUT",
        help="a cascade: the output folder of a finished crossval run whose fold models localise the "
        "tumour; this recipe's models then segment only around it (default: none, one stage)",
    )
    parser.add_argument(
        "--compare",
        type=Path,
        nargs="+",
        metavar="OUT",
        help="other crossval output folders to compare with this one over their common held-out cases "
        "(default: none)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from segmentation_core.training.crossval import RECIPES, CrossValidation
    from segmentation_core.training.crossval_report import comparison_markdown, write_report

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
        device=args.device,
        exclude=tuple(args.exclude_cases),
        coarse=args.coarse,
    )
    if not args.report_only:
        cv.run(only_fold=args.fold)
    text = write_report(cv, args.report)
    if args.compare:
        comparison = comparison_markdown([args.out, *args.compare])
        text += "\n" + comparison
        if args.report is not None:
            with open(args.report, "a", encoding="utf-8") as handle:
                handle.write("\n" + comparison)
    print(text)
    return 0
