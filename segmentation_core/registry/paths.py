"""Where the registry, training runs and the training library live (platformdirs, overridable)."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "brats-viewer"
#: Environment variable that replaces the platform data folder (tests, portable installs).
DATA_DIR_ENV = "BRATS_VIEWER_DATA_DIR"


def data_dir() -> Path:
    """The user's data folder for brats-viewer (``$BRATS_VIEWER_DATA_DIR`` when set)."""
    override = os.environ.get(DATA_DIR_ENV)
    if override:
        return Path(override).expanduser()
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def models_dir(root: Path | None = None) -> Path:
    """Folder of the model registry (``registry.json`` and one sub-folder per stored version)."""
    return (root or data_dir()) / "models"


def runs_dir(root: Path | None = None) -> Path:
    """Folder of retraining runs (each keeps its checkpoints so a cancelled run can be resumed)."""
    return (root or data_dir()) / "runs"


def training_library_dir(root: Path | None = None) -> Path:
    """The training library: cases with corrected labels saved by "add to my training set"."""
    return (root or data_dir()) / "training-library"


def default_bundle_dir() -> Path:
    """The bundled default model (version 1; read-only)."""
    from resources import default_model_dir

    return default_model_dir()
