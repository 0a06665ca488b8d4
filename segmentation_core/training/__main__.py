"""``python -m segmentation_core.training --data DIR --out DIR ...``: the same as ``brats-seg train``."""

import sys

from segmentation_core.cli import main

sys.exit(main(["train", *sys.argv[1:]]))
