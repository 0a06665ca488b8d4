"""The headless command line (``brats-seg``, ``brats-viewer --no-gui``): segmentation_core's commands
plus ``report``, which needs Qt's PDF writer and the viewer's slice composer and so lives in ``app``."""

from __future__ import annotations

import argparse

from app import report_cli
from segmentation_core.cli import build_parser as core_parser
from segmentation_core.cli import main as core_main

EXTRA = (report_cli.register,)


def build_parser() -> argparse.ArgumentParser:
    """The whole ``brats-seg`` parser (for help texts and their tests)."""
    return core_parser(extra=EXTRA)


def main(argv: list[str] | None = None) -> int:
    return core_main(argv, extra=EXTRA)
