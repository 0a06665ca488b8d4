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
    case: Case, channels: tuple[str, ...], spacing: tuple[float, float, float] | None
) -> tuple[np.ndarray, np.ndarray]:
    """(image float16 (C,X,Y,Z), targets uint8 (3,X,Y,Z) scaled 0..255) ready for patch sampling.

    The image goes through the inference engine's own preprocessing (crop to the brain, z-score,
    resample), so the network sees the same kind of input in training and in use.
    """
    if case.labels is None:
        raise DatasetError(f"case {case.case_id!r} has no reference labels (_seg file); training needs them")
    prepared = preprocess(case, channels, spacing)
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


def build_cache(
    case_dirs: list[Path],
    cache_dir: Path,
    channels: tuple[str, ...],
    spacing: tuple[float, float, float] | None,
) -> list[CachedCase]:
    """Preprocess every case once into ``cache_dir`` (reused when the settings are unchanged)."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    settings = {"version": CACHE_VERSION, "channels": list(channels), "spacing": spacing}
    cached = []
    for case_dir in case_dirs:
        case_id = Path(case_dir).name.removesuffix(".gz").removesuffix(".nii")
        image_path, target_path = cache_dir / f"{case_id}_image.npy", cache_dir / f"{case_id}_target.npy"
        meta_path = cache_dir / f"{case_id}.json"
        if not (
            meta_path.is_file() and json.loads(meta_path.read_text()) == settings and target_path.is_file()
        ):
            case = load_case(case_dir)
            image, targets = prepare_case(case, channels, spacing)
            _save_atomically(image_path, image)
            _save_atomically(target_path, targets)
            _write_text_atomically(meta_path, json.dumps(settings))
            logger.info("cached %s: %s", case_id, image.shape)
        cached.append(CachedCase(case_id, image_path, target_path))
    return cached
