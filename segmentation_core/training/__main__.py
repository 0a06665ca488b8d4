"""``python -m segmentation_core.training --data DIR --out DIR ...`` (same as ``brats-seg train``)."""

import argparse
import sys

from segmentation_core.training.cli_args import add_train_arguments, run_from_args

parser = argparse.ArgumentParser(prog="python -m segmentation_core.training", description=__doc__)
add_train_arguments(parser)
sys.exit(run_from_args(parser.parse_args()))
