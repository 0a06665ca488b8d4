"""Training data: cases preprocessed once (crop, z-score, resample, region targets) and cached as .npy.

Epochs then read memory-mapped arrays instead of decoding NIfTI again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from segmentation_core.io import load_case
from segmentation_core.labels import REGION_NAMES as REGIONS
from segmentation_core.labels import region_mask
from segmentation_core.preprocessing import preprocess, resample
from segmentation_core.types import Case

logger = logging.getLogger(__name__)


CACHE_VERSION = 1


class DatasetError(ValueError):
    """The training data cannot be used (no labels, unknown values, too few cases...)."""


@dataclass(frozen=True)
class CachedCase:
    """One preprocessed case on disk: image (C,X,Y,Z) float16 and region targets (3,X,Y,Z) uint8 0/255."""

    case_id: str
    image_path: Path
    target_path: Path

    def load(self) -> tuple[np.ndarray, np.ndarray]:
        return np.load(self.image_path, mmap_mode="r"), np.load(self.target_path, mmap_mode="r")


def region_targets(internal: np.ndarray) -> np.ndarray:
    """(3,X,Y,Z) float32 masks of WT, TC, ET from an internal label map."""
    return np.stack([region_mask(internal, r) for r in REGIONS]).astype(np.float32)


def prepare_case(
    case: Case,
    channels: tuple[str, ...],
    spacing: tuple[float, float, float] | None,
    coarse: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(image float16 (C,X,Y,Z), targets uint8 (3,X,Y,Z) scaled 0..255) ready for patch sampling.

    The image goes through the inference engine's own preprocessing (crop to the brain, z-score,
    resample), so the network sees the same kind of input in training and in use. ``coarse``: a
    coarse model's (K, *case grid) probabilities, appended as K channels (a cascade's fine stage).
    """
    if case.labels is None:
        raise DatasetError(f"case {case.case_id!r} has no reference labels (_seg file); training needs them")
    prepared = preprocess(case, channels, spacing)
    if coarse is not None:
        prepared = prepared.with_inputs(coarse)
    region_maps = torch.from_numpy(region_targets(np.asarray(case.labels.array)[prepared.box]))
    targets = resample(region_maps, prepared.image.shape[1:]).numpy()
    return prepared.image.astype(np.float16), np.clip(np.round(targets * 255), 0, 255).astype(np.uint8)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fingerprint(case_dirs: list[Path]) -> dict:
    """Case ids and SHA-256 of every file: identifies exactly which data a model saw."""
    return {
        Path(d).name: {p.name: file_sha256(p) for p in sorted(Path(d).iterdir()) if p.is_file()}
        if Path(d).is_dir()
        else {Path(d).name: file_sha256(Path(d))}
        for d in case_dirs
    }


def _save_atomically(path: Path, array: np.ndarray) -> None:
    """``np.save`` through a temporary file: a reader (another rank, another run) never sees half a file."""
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    with open(partial, "wb") as handle:
        np.save(handle, array)
    os.replace(partial, path)


def _write_text_atomically(path: Path, text: str) -> None:
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    partial.write_text(text)
    os.replace(partial, path)


def coarse_probabilities_file(folder: Path, case_id: str) -> Path:
    """The one ``<case_id>.npz`` under ``folder`` (e.g. a cross-validation's ``fold*/cv/``)."""
    found = sorted(Path(folder).rglob(f"{case_id}.npz"))
    if len(found) != 1:
        problem = "none" if not found else f"{len(found)} ({', '.join(str(p) for p in found[:3])})"
        raise DatasetError(f"{folder}: expected one coarse prediction {case_id}.npz, found {problem}")
    return found[0]


def read_coarse_probabilities(
    path: Path, regions: tuple[str, ...], case_shape: tuple[int, ...]
) -> np.ndarray:
    """(K, *case_shape) float32 in [0, 1]: ``regions`` of a saved prediction (uint8 WT/TC/ET, 0..255)."""
    try:
        with np.load(path, allow_pickle=False) as archive:
            saved = archive["probabilities"]
    except Exception as exc:  # a damaged or foreign file: numpy raises many types
        raise DatasetError(f"{path}: not a readable coarse prediction ({exc})") from exc
    expected = (len(REGIONS), *case_shape)
    if saved.dtype != np.uint8 or saved.shape != expected:
        raise DatasetError(
            f"{path}: expected uint8 probabilities of shape {expected}, got {saved.dtype} {saved.shape}"
        )
    return saved[[REGIONS.index(r) for r in regions]].astype(np.float32) / 255.0


def build_cache(
    case_dirs: list[Path],
    cache_dir: Path,
    channels: tuple[str, ...],
    spacing: tuple[float, float, float] | None,
    coarse: tuple[Path, tuple[str, ...]] | None = None,
) -> list[CachedCase]:
    """Preprocess every case once into ``cache_dir`` (reused while its files and the settings are unchanged).

    ``coarse``: (folder of a coarse model's saved predictions, regions) for a cascade's fine stage; each
    case's prediction becomes extra input channels, and the cache entry is tied to that file's content.
    """
    cache_dir.mkdir(parents=True, exist_ok=True)
    cached = []
    for case_dir in case_dirs:
        case_id = Path(case_dir).name.removesuffix(".gz").removesuffix(".nii")
        image_path, target_path = cache_dir / f"{case_id}_image.npy", cache_dir / f"{case_id}_target.npy"
        meta_path = cache_dir / f"{case_id}.json"
        settings: dict = {
            "version": CACHE_VERSION,
            "channels": list(channels),
            "spacing": spacing,
            "files": fingerprint([Path(case_dir)]),  # corrected labels or images are cached again
        }
        if coarse is not None:
            coarse_file = coarse_probabilities_file(coarse[0], case_id)
            settings["coarse"] = {"regions": list(coarse[1]), "sha256": file_sha256(coarse_file)}
        settings = json.loads(json.dumps(settings))  # as read back (lists, not tuples), to compare
        if not (
            meta_path.is_file() and json.loads(meta_path.read_text()) == settings and target_path.is_file()
        ):
            case = load_case(case_dir)
            maps = None if coarse is None else read_coarse_probabilities(coarse_file, coarse[1], case.shape)
            image, targets = prepare_case(case, channels, spacing, maps)
            _save_atomically(image_path, image)
            _save_atomically(target_path, targets)
            _write_text_atomically(meta_path, json.dumps(settings))
            logger.info("cached %s: %s", case_id, image.shape)
        cached.append(CachedCase(case_id, image_path, target_path))
    return cached
