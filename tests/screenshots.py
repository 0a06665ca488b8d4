"""Screenshots that GUI tests keep for people to look at (the look of a window is checked by eye)."""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtGui import QImage, QPixmap

REPO = Path(__file__).resolve().parents[1]


def screenshot_dir() -> Path:
    """``$BRATS_TEST_SCREENSHOTS``, else test-output/screenshots in the repository (git ignores it)."""
    folder = Path(os.environ.get("BRATS_TEST_SCREENSHOTS") or REPO / "test-output" / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def save_test_screenshot(picture: QImage | QPixmap, name: str) -> Path:
    """Save ``picture`` as ``name`` in the screenshot folder; fails the test when it cannot be written."""
    path = screenshot_dir() / name
    assert picture.save(str(path)), f"could not write {path}"
    return path
