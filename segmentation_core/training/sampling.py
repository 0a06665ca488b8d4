"""Patch sampling with foreground oversampling (as nnU-Net: about a third of patches on tumour)."""

from __future__ import annotations

import numpy as np

from segmentation_core.training.data import CachedCase


class PatchSampler:
    """Draws (image, target) patches of ``patch_size`` from cached cases, padding small volumes with 0."""

    def __init__(
        self,
        cases: list[CachedCase],
        patch_size: tuple[int, int, int],
        foreground_fraction: float = 1 / 3,
    ) -> None:
        if not cases:
            raise ValueError("no training cases to sample from")
        self.cases = cases
        self.patch_size = tuple(patch_size)
        self.foreground_fraction = foreground_fraction
        self._arrays = [c.load() for c in cases]
        self._foreground = [np.argwhere(target[0] > 127) for _, target in self._arrays]

    def sample(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """One patch: image (C,*patch) float32 and targets (3,*patch) float32 in [0, 1]."""
        index = int(rng.integers(len(self.cases)))
        image, target = self._arrays[index]
        foreground = self._foreground[index]
        shape = np.array(image.shape[1:])
        patch = np.array(self.patch_size)
        if len(foreground) and rng.random() < self.foreground_fraction:
            centre = foreground[int(rng.integers(len(foreground)))]
            start = centre - patch // 2 + rng.integers(-patch // 4, patch // 4 + 1)
        else:
            start = np.array(
                [int(rng.integers(min(0, n - p), max(0, n - p) + 1)) for n, p in zip(shape, patch)]
            )
        start = np.clip(start, np.minimum(0, shape - patch), np.maximum(0, shape - patch))
        return _crop(image, start, patch).astype(np.float32), _crop(target, start, patch).astype(
            np.float32
        ) / 255.0

    def batch(self, size: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        pairs = [self.sample(rng) for _ in range(size)]
        return np.stack([p[0] for p in pairs]), np.stack([p[1] for p in pairs])


def _crop(array: np.ndarray, start: np.ndarray, patch: np.ndarray) -> np.ndarray:
    """array[:, start:start+patch] with zero padding where the window leaves the volume."""
    out = np.zeros((array.shape[0], *patch), dtype=array.dtype)
    src, dst = [], []
    for s, p, n in zip(start, patch, array.shape[1:]):
        lo, hi = max(s, 0), min(s + p, n)
        src.append(slice(lo, hi))
        dst.append(slice(lo - s, hi - s))
    out[(slice(None), *dst)] = array[(slice(None), *src)]
    return out
