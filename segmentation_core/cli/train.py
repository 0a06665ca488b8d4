"""``brats-seg train``: train or fine-tune a model bundle."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    from segmentation_core.training.cli_args import add_train_arguments, run_from_args

    parser = subparsers.add_parser("train", help="train or fine-tune a model bundle on labelled cases")
    add_train_arguments(parser)
    parser.set_defaults(func=run_from_args)
