"""``python -m app`` starts the viewer (same as ``brats-viewer``)."""

import sys

from app.main import main

sys.exit(main())
