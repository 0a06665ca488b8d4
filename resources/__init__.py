"""Bundled data: the default model, the sample case, colour maps and icons.

Paths are resolved through importlib.resources so they also work in a frozen (PyInstaller) build.
"""

from __future__ import annotations

from importlib.resources import as_file, files
from pathlib import Path

SAMPLE_CASE_ID = "Brats18_CBICA_AME_1"


def _path(*parts: str) -> Path:
    resource = files(__name__).joinpath(*parts)
    with as_file(resource) as path:  # a real directory for a normal or one-folder install
        return Path(path)


def sample_case_dir() -> Path:
    """Folder of the bundled sample case (BraTS 2018 Brats18_CBICA_AME_1, with its PROVENANCE.md)."""
    return _path("sample", SAMPLE_CASE_ID)


def default_model_dir() -> Path:
    """Folder of the bundled default model bundle (model.json + weights + MODEL_CARD.md)."""
    return _path("models", "default")
