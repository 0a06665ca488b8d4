"""The model registry in the user's data folder, and the training library.

Version 1 is the bundled default model (read-only); every successful retraining run is registered as
version N+1 with its model card. One version is active: ``active_bundle_path()`` is what Segment
loads. The data folder is ``platformdirs.user_data_dir("brats-viewer")``, or ``$BRATS_VIEWER_DATA_DIR``.
"""

from __future__ import annotations

from pathlib import Path

from segmentation_core.registry.archive import export_zip, import_zip
from segmentation_core.registry.errors import RegistryError
from segmentation_core.registry.evaluation import evaluate_bundle, evaluate_missing, validation_fingerprint
from segmentation_core.registry.library import add_to_training_library, library_cases, training_library_dir
from segmentation_core.registry.paths import DATA_DIR_ENV, data_dir, runs_dir
from segmentation_core.registry.store import DEFAULT_VERSION, ModelRegistry, ModelVersion


def active_bundle_path() -> Path:
    """Bundle folder of the active model version in the user's registry (what Segment should load)."""
    return ModelRegistry().active_bundle_path()


def active_version() -> int:
    """Number of the active model version (recorded in export sidecars)."""
    return ModelRegistry().active_version


__all__ = [
    "DATA_DIR_ENV",
    "DEFAULT_VERSION",
    "ModelRegistry",
    "ModelVersion",
    "RegistryError",
    "active_bundle_path",
    "active_version",
    "add_to_training_library",
    "data_dir",
    "evaluate_bundle",
    "evaluate_missing",
    "export_zip",
    "import_zip",
    "library_cases",
    "runs_dir",
    "training_library_dir",
    "validation_fingerprint",
]
