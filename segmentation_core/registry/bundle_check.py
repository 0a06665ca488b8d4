"""Check that a folder is a loadable model bundle before the registry accepts it."""

from __future__ import annotations

from pathlib import Path

from segmentation_core.registry.errors import RegistryError


def check_bundle(folder: Path) -> None:
    """Raise RegistryError (naming the folder and the problem) unless the bundle and its weights load."""
    from segmentation_core.models.bundle import BundleError, ModelBundle

    folder = Path(folder)
    if not (folder / "model.json").is_file():
        raise RegistryError(
            f"{folder}: not a brats-viewer model bundle (no model.json); "
            "choose a folder or zip exported from Models ▸ Manage models or written by brats-seg train"
        )
    try:
        bundle = ModelBundle.load(folder)
        bundle.load_network("cpu")
    except (BundleError, OSError, ValueError, KeyError, RuntimeError) as exc:
        raise RegistryError(f"{folder}: the model bundle cannot be loaded: {exc}") from exc
    if bundle.coarse_inputs:
        raise RegistryError(
            f"{folder}: this model is the fine stage of a cascade (it needs a coarse model's "
            f"{'/'.join(bundle.coarse_inputs)} probabilities as input); it cannot segment a case on its own"
        )


def bundle_files(folder: Path) -> list[Path]:
    """The files that make up the bundle in ``folder``: model.json, its weights and top-level *.md notes.

    A training run's output folder also holds checkpoints and caches; those are not part of the bundle.
    """
    from segmentation_core.models.bundle import BundleError, ModelBundle

    folder = Path(folder)
    try:
        weights = ModelBundle.load(folder).weights_path()
    except BundleError as exc:
        raise RegistryError(f"{folder}: the model bundle cannot be loaded: {exc}") from exc
    notes = sorted(p for p in folder.glob("*.md") if p.is_file())
    return [folder / "model.json", weights, *notes]
