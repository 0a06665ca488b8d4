"""``python -m segmentation_core.training --data DIR --out DIR ...``: the same as ``brats-seg train``.

Built from the training package's own argument definitions (``cli_args``), so ``training`` never
imports ``segmentation_core.cli`` (the CLI sits above it).
"""

import argparse
import sys

from segmentation_core.training.cli_args import add_train_arguments, run_from_args


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m segmentation_core.training", description="Train or fine-tune a model bundle."
    )
    add_train_arguments(parser)
    args = parser.parse_args(argv)
    try:
        return int(run_from_args(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
