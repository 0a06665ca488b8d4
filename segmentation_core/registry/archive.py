"""Export a registered version as a zip and import a zip as a new version (checked, all-or-nothing)."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path, PurePosixPath

from segmentation_core.atomic import atomic_path
from segmentation_core.registry.atomic import staging_dir
from segmentation_core.registry.bundle_check import check_bundle
from segmentation_core.registry.errors import RegistryError
from segmentation_core.registry.store import ModelRegistry, ModelVersion

#: Refuse archives that would unpack to more than this (a zip bomb or not a model).
MAX_UNPACKED_BYTES = 4 << 30


def export_zip(registry: ModelRegistry, number: int, dest: Path | str) -> Path:
    """Write version ``number``'s bundle to ``dest`` (a .zip) under one folder ``brats-model-v<n>/``."""
    dest = Path(dest)
    if dest.suffix.lower() != ".zip":
        raise RegistryError(f"{dest}: model exports are zip files; use a name ending in .zip")
    bundle = registry.version(number).path
    check_bundle(bundle)
    top = f"brats-model-v{number}"
    dest.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(dest) as tmp, zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(p for p in bundle.rglob("*") if p.is_file()):
            archive.write(path, f"{top}/{path.relative_to(bundle).as_posix()}")
    return dest


def _safe_members(archive: zipfile.ZipFile, zip_path: Path) -> list[zipfile.ZipInfo]:
    members = archive.infolist()
    total = 0
    for info in members:
        name = PurePosixPath(info.filename)
        if name.is_absolute() or ".." in name.parts or "\\" in info.filename:
            raise RegistryError(f"{zip_path}: refuses to unpack the unsafe path {info.filename!r}")
        total += info.file_size
    if total > MAX_UNPACKED_BYTES:
        raise RegistryError(
            f"{zip_path}: would unpack to {total / 2**30:.1f} GiB; that is not a model bundle"
        )
    return members


def _bundle_root(unpacked: Path, zip_path: Path) -> Path:
    """The folder holding model.json: the archive root or its single top-level folder."""
    if (unpacked / "model.json").is_file():
        return unpacked
    entries = [p for p in unpacked.iterdir() if p.name != "__MACOSX"]
    if len(entries) == 1 and entries[0].is_dir() and (entries[0] / "model.json").is_file():
        return entries[0]
    raise RegistryError(
        f"{zip_path}: not a brats-viewer model (no model.json at the top of the zip or in its one folder); "
        "import a zip made by Models ▸ Manage models ▸ Export"
    )


def import_zip(registry: ModelRegistry, zip_path: Path | str) -> ModelVersion:
    """Unpack ``zip_path`` into a staging folder, check it with ``ModelBundle.load``, then add it as N+1.

    A broken, unsafe or foreign zip raises RegistryError and leaves the registry unchanged.
    """
    zip_path = Path(zip_path)
    if not zip_path.is_file():
        raise RegistryError(f"{zip_path}: no such file; choose an exported model .zip")
    staged = staging_dir(registry.dir, "import")
    try:
        try:
            with zipfile.ZipFile(zip_path) as archive:
                members = _safe_members(archive, zip_path)
                archive.extractall(staged / "unpacked", members=members)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError) as exc:
            raise RegistryError(
                f"{zip_path}: not a readable zip file ({exc}); export the model again"
            ) from exc
        root = _bundle_root(staged / "unpacked", zip_path)
        try:
            check_bundle(root)
        except RegistryError as exc:
            raise RegistryError(f"{zip_path}: {exc}") from exc
        return registry.import_staged(root, source="imported", note=f"from {zip_path.name}")
    finally:
        shutil.rmtree(staged, ignore_errors=True)
