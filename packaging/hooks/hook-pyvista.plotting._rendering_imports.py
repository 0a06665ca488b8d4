"""PyInstaller hook: the VTK rendering factories pyvista registers with ``importlib.import_module``."""

hiddenimports = [
    "vtkmodules.vtkRenderingContextOpenGL2",
    "vtkmodules.vtkRenderingFreeType",
    "vtkmodules.vtkRenderingMatplotlib",
]
