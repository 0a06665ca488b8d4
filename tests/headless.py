"""Run some test files in a child pytest where Qt, VTK and pyvista cannot be imported."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def run_pytest_without_qt(*test_files: str) -> subprocess.CompletedProcess[str]:
    """pytest on ``test_files`` with pytest-qt off and the tests.block_qt import hook on."""
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:pytest-qt",
        "-p",
        "tests.block_qt",
        *test_files,
    ]
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=300)
