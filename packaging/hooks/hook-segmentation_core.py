"""PyInstaller hook: ``brats-seg`` finds its sub-commands with pkgutil and imports much lazily."""

from PyInstaller.utils.hooks import collect_submodules

hiddenimports = collect_submodules("segmentation_core")
