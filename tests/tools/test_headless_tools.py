"""The editing tools, the sessions and the label state work where Qt, VTK and pyvista cannot be imported, without torch."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.headless import run_pytest_without_qt

REPO = Path(__file__).resolve().parents[2]

IMPORT_ALL = """
import importlib, pkgutil, sys
import tests.block_qt
import app.session, app.tools
names = [m.name for m in pkgutil.walk_packages(app.tools.__path__, "app.tools.")]
names += [m.name for m in pkgutil.walk_packages(app.session.__path__, "app.session.")]
names += ["app.state.label_layer", "app.state.history", "app.state.edit_stats", "app.state.autosave"]
for name in names:
    importlib.import_module(name)
heavy = sorted(m for m in ("torch", "PySide6", "vtk", "pyvista") if m in sys.modules)
print(len(names) > 10, "heavy:", heavy)
"""


def test_tool_session_and_label_modules_import_without_qt_or_torch() -> None:
    result = subprocess.run(
        [sys.executable, "-c", IMPORT_ALL], cwd=REPO, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True heavy: []"  # whatever modules are added, none pulls these in


def test_tool_tests_pass_with_qt_blocked() -> None:
    result = run_pytest_without_qt("tests/tools/test_brush.py", "tests/state/test_label_layer.py")
    assert result.returncode == 0, result.stdout + result.stderr
    assert " passed" in result.stdout and "skipped" not in result.stdout
