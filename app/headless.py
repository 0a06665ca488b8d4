"""The headless command line (``brats-seg``, ``brats-viewer --no-gui``): segmentation_core's commands
plus ``report``, which needs Qt's PDF writer and the viewer's slice composer and so lives in ``app``."""

from __future__ import annotations

from app import report_cli
from segmentation_core.cli import main as core_main


def main(argv: list[str] | None = None) -> int:
    return core_main(argv, extra=(report_cli.register,))
