"""PyInstaller hook: dialogs, jobs and the 3D view are imported lazily inside functions."""

from PyInstaller.utils.hooks import collect_submodules

hiddenimports = collect_submodules("app")
