"""Cache of steps 2-4 keyed by a hash of the input images, so a second run on a study skips them.

An entry is a folder ``<key>/`` holding ``meta.json`` (transforms, grids) and ``arrays.npz`` (model-ready
images, brain masks), written to a staging folder and renamed into place, so an entry is whole or absent.
Entries are read as untrusted files: anything unexpected makes the entry a miss (the steps run again).
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from segmentation_core.raw.transforms import RigidTransform
from segmentation_core.registry.atomic import replace_dir, staging_dir
from segmentation_core.types import SEQUENCES

log = logging.getLogger(__name__)
#: Bump when a step's algorithm or parameters change: old entries then no longer match.
CACHE_VERSION = 2
#: Entries kept (least recently used ones beyond this are removed).
MAX_ENTRIES = 8


def default_cache_dir() -> Path:
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("brats-viewer")) / "raw-studies"


def study_key(arrays: dict[str, tuple[np.ndarray, np.ndarray]], settings: dict[str, Any]) -> str:
    """SHA-256 over every sequence's voxels and affine plus the settings (and this cache's version)."""
    digest = hashlib.sha256(json.dumps({"version": CACHE_VERSION, **settings}, sort_keys=True).encode())
    for name in sorted(arrays):
        array, affine = arrays[name]
        digest.update(name.encode())
        digest.update(str((array.shape, array.dtype.str)).encode())
        digest.update(np.ascontiguousarray(array).tobytes(order="A"))
        digest.update(np.asarray(affine, dtype=np.float64).tobytes())
    return digest.hexdigest()


@dataclass(eq=False)
class CachedSteps:
    """What steps 2-4 produced: transforms, the model grid's images and the brain masks."""

    transforms: dict[str, RigidTransform]
    model_images: np.ndarray  # (4, X, Y, Z) float32 in SEQUENCES order
    model_affine: np.ndarray
    brain_mask: np.ndarray  # bool on the model grid
    brain_mask_native: np.ndarray  # bool on the reference's native grid (file axes)
    warnings: list[str]


class StudyCache:
    """Entries under ``root`` (default: the per-user cache folder)."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = Path(root) if root is not None else default_cache_dir()

    def load(self, key: str, native_shape: tuple[int, int, int]) -> CachedSteps | None:
        folder = self.root / key
        if not folder.is_dir():
            return None
        try:
            entry = self._read(folder, native_shape)
        except (OSError, ValueError, KeyError, TypeError, zipfile.BadZipFile, json.JSONDecodeError) as exc:
            log.warning("ignoring the damaged cache entry %s (%s)", folder, exc)
            return None
        folder.touch()
        return entry

    def _read(self, folder: Path, native_shape: tuple[int, int, int]) -> CachedSteps:
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        if meta.get("version") != CACHE_VERSION:
            raise ValueError(f"version {meta.get('version')} != {CACHE_VERSION}")
        transforms = {name: RigidTransform.from_json(t) for name, t in meta["transforms"].items()}
        if sorted(transforms) != sorted(SEQUENCES):
            raise ValueError("transforms are missing")
        # our own handle: np.load leaves the file open when a damaged archive makes it raise
        with open(folder / "arrays.npz", "rb") as handle, np.load(handle, allow_pickle=False) as data:
            images = np.asfortranarray(data["model_images"], dtype=np.float32)
            mask = np.asfortranarray(data["brain_mask"]).astype(bool)
            native = np.asfortranarray(data["brain_mask_native"]).astype(bool)
        affine = np.asarray(meta["model_affine"], dtype=np.float64)
        if images.ndim != 4 or images.shape[0] != len(SEQUENCES) or mask.shape != images.shape[1:]:
            raise ValueError(f"inconsistent shapes {images.shape} / {mask.shape}")
        if native.shape != tuple(native_shape) or affine.shape != (4, 4) or not np.isfinite(images).all():
            raise ValueError("inconsistent native mask, affine or non-finite images")
        return CachedSteps(
            transforms, images, affine, mask, native, [str(w) for w in meta.get("warnings", [])]
        )

    def store(self, key: str, steps: CachedSteps) -> None:
        """Write the entry atomically; a failure to write only logs (the cache is an optimisation)."""
        try:
            staged = staging_dir(self.root, key[:16])
            try:
                meta = {
                    "version": CACHE_VERSION,
                    "transforms": {name: t.to_json() for name, t in steps.transforms.items()},
                    "model_affine": steps.model_affine.tolist(),
                    "warnings": steps.warnings,
                }
                (staged / "meta.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
                np.savez(
                    staged / "arrays.npz",
                    model_images=steps.model_images,
                    brain_mask=steps.brain_mask,
                    brain_mask_native=steps.brain_mask_native,
                )
                replace_dir(staged, self.root / key)
            finally:
                shutil.rmtree(staged, ignore_errors=True)
            self._prune()
        except OSError as exc:
            log.warning("could not write the raw-study cache in %s (%s)", self.root, exc)

    def _prune(self) -> None:
        entries = sorted(
            (p for p in self.root.iterdir() if p.is_dir() and not p.name.startswith(".")),
            key=lambda p: p.stat().st_mtime,
            reverse=True,
        )
        for old in entries[MAX_ENTRIES:]:
            shutil.rmtree(old, ignore_errors=True)
