"""Entry script of the frozen app: the same ``app.main:main`` as the ``brats-viewer`` command."""

import multiprocessing
import sys

from app.main import main

if __name__ == "__main__":
    # A frozen child started by multiprocessing (spawn on Windows/macOS) must not open a window.
    multiprocessing.freeze_support()
    sys.exit(main())
