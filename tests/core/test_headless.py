"""segmentation_core works on a machine where Qt, VTK and pyvista cannot be imported."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.headless import run_pytest_without_qt

REPO = Path(__file__).resolve().parents[2]

IMPORT_ALL = """
import importlib, pkgutil
import tests.block_qt
try:
    import PySide6
except ImportError:
    pass
else:
    raise SystemExit("the block did not work")
import segmentation_core
modules = pkgutil.walk_packages(segmentation_core.__path__, "segmentation_core.")
names = [m.name for m in modules if not m.name.endswith("__main__")]
for name in names:
    importlib.import_module(name)
from segmentation_core.cli import build_parser
build_parser()
print(len(names), "modules imported")
"""


def test_every_core_module_imports_without_qt() -> None:
    result = subprocess.run(
        [sys.executable, "-c", IMPORT_ALL], cwd=REPO, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    assert "modules imported" in result.stdout


def test_core_label_tests_pass_without_qt() -> None:
    result = run_pytest_without_qt("tests/core/test_labels_schemes.py")
    assert result.returncode == 0, result.stdout + result.stderr
    assert " passed" in result.stdout
