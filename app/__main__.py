"""``python -m app``: the desktop viewer (see ``app.main``)."""

import sys

from app.main import main

if __name__ == "__main__":  # a child process (inference) imports this module without running it
    sys.exit(main())
