"""``python -m segmentation_core`` runs the ``brats-seg`` command line."""

import sys

from segmentation_core.cli import main

sys.exit(main())
