"""A pytest plugin / import hook that makes Qt, VTK and pyvista unimportable (as on a headless server)."""

from __future__ import annotations

import importlib.abc
import sys

BLOCKED = ("PySide6", "shiboken6", "qtpy", "superqt", "pyvista", "pyvistaqt", "vtk", "vtkmodules")


class BlockGuiImports(importlib.abc.MetaPathFinder):
    """Refuses every module of the blocked GUI packages."""

    def find_spec(self, fullname, path=None, target=None):  # noqa: ANN001 (MetaPathFinder API)
        if fullname.split(".")[0] in BLOCKED:
            raise ImportError(f"{fullname} is blocked: this process simulates a machine without Qt/VTK")
        return None


def install() -> None:
    for name in list(sys.modules):
        if name.split(".")[0] in BLOCKED:
            del sys.modules[name]
    sys.meta_path.insert(0, BlockGuiImports())


install()
