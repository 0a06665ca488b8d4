"""PyInstaller hook: the bundled model and sample case, read through importlib.resources."""

from PyInstaller.utils.hooks import collect_data_files

datas = collect_data_files("resources", excludes=["**/__pycache__", "**/*.pyc"])
