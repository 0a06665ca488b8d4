"""PyInstaller hook: the VTK modules pyvista imports lazily (by name, from its class-to-module table).

pyvista resolves every VTK class on first use with ``importlib``, which static analysis cannot see;
collecting exactly the modules named in that table keeps the rest of VTK out of the build.
"""

from PyInstaller import isolated


@isolated.decorate
def _pyvista_vtk_modules() -> list[str]:
    import pyvista._vtk as table

    names = set(table._CORE_MODULES) | set(table._PLOTTING_MODULES) | set(table._OPENGL_MODULES)
    return sorted(f"{table._VTK_ROOT}.{name}" for name in names)


hiddenimports = _pyvista_vtk_modules()
