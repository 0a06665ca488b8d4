"""Sliding-window inference as a pure function of (volume, predictor), with Gaussian blending.

Tiles are placed as nnU-Net does: the fewest windows whose step is at most ``patch * (1 - overlap)``,
spread evenly so the first starts at 0 and the last ends at the border. Overlapping outputs are
averaged with a Gaussian importance map (sigma = patch / 8) that favours each window's centre.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Generator, Sequence
from itertools import product

import numpy as np
import torch
import torch.nn.functional as F

from segmentation_core.types import CancelToken, Progress

PatchPredictor = Callable[[torch.Tensor], torch.Tensor]


def tile_starts(size: int, patch: int, overlap: float) -> list[int]:
    """Window start positions along one axis of ``size`` voxels (``size >= patch``)."""
    if size <= patch:
        return [0]
    target_step = patch * (1.0 - overlap)
    count = math.ceil((size - patch) / target_step) + 1
    step = (size - patch) / (count - 1)
    return [int(round(step * i)) for i in range(count)]


def gaussian_importance(
    patch_size: Sequence[int], sigma_scale: float = 0.125, device: torch.device | str = "cpu"
) -> torch.Tensor:
    """Separable Gaussian weights (max 1) centred at ``patch // 2``, sigma ``patch * sigma_scale``."""
    weights = torch.ones((), dtype=torch.float32, device=device)
    for axis, size in enumerate(patch_size):
        coords = torch.arange(size, dtype=torch.float64) - size // 2
        profile = torch.exp(-0.5 * (coords / (size * sigma_scale)) ** 2).to(torch.float32).to(device)
        shape = [1] * len(patch_size)
        shape[axis] = size
        weights = weights * profile.reshape(shape)
    return weights


def windows(shape: Sequence[int], patch_size: Sequence[int], overlap: float) -> list[tuple[slice, ...]]:
    """All window slices (spatial) tiling a volume of ``shape`` (each axis at least the patch)."""
    starts = [tile_starts(s, p, overlap) for s, p in zip(shape, patch_size)]
    return [tuple(slice(a, a + p) for a, p in zip(corner, patch_size)) for corner in product(*starts)]


def sliding_window(
    volume: np.ndarray | torch.Tensor,
    predictor: PatchPredictor,
    patch_size: Sequence[int],
    overlap: float = 0.5,
    batch_size: int = 1,
    cancel: CancelToken | None = None,
    *,
    device: torch.device | str = "cpu",
    stitch_device: torch.device | str | None = None,
    importance: torch.Tensor | None = None,
) -> Generator[Progress, None, np.ndarray]:
    """Run ``predictor`` on overlapping windows of ``volume`` (C, X, Y, Z) and blend the outputs.

    ``predictor`` maps a batch (B, C, *patch) to (B, K, *patch). Batches are sent to ``device``; the
    volume and the blending buffers live on ``stitch_device`` (default: ``device``). Yields
    ``Progress(done, total)`` after every batch, checks ``cancel`` before each one (CancelledError),
    and returns the blended (K, X, Y, Z) float32 array. Volumes smaller than the patch are padded
    with zeros (centred) and cropped back. ``importance`` replaces the Gaussian map.
    """
    if not 0.0 <= overlap < 1.0:
        raise ValueError(f"overlap must be in [0, 1), got {overlap}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    patch_size = tuple(int(p) for p in patch_size)
    stitch_device = torch.device(stitch_device if stitch_device is not None else device)
    image = torch.as_tensor(volume, dtype=torch.float32).to(stitch_device)
    if image.ndim != 4 or len(patch_size) != 3:
        raise ValueError(f"expected a (C, X, Y, Z) volume and a 3-D patch, got {tuple(image.shape)}")
    image, crop = _pad_to_patch(image, patch_size)
    weights = importance if importance is not None else gaussian_importance(patch_size)
    weights = weights.to(stitch_device, torch.float32)
    slices = windows(image.shape[1:], patch_size, overlap)
    batches = [slices[i : i + batch_size] for i in range(0, len(slices), batch_size)]
    output: torch.Tensor | None = None
    norm = torch.zeros(image.shape[1:], dtype=torch.float32, device=stitch_device)
    for index, batch in enumerate(batches):
        if cancel is not None:
            cancel.raise_if_cancelled()
        patches = torch.stack([image[(slice(None), *window)] for window in batch]).to(device)
        predicted = predictor(patches).to(stitch_device, torch.float32)
        if output is None:
            output = torch.zeros((predicted.shape[1], *image.shape[1:]), device=stitch_device)
        for window, patch in zip(batch, predicted):
            output[(slice(None), *window)] += patch * weights
            norm[window] += weights
        yield Progress(index + 1, len(batches), f"patch batch {index + 1} of {len(batches)}")
    assert output is not None  # at least one window always exists
    output /= norm
    return output[(slice(None), *crop)].cpu().numpy()


def _pad_to_patch(image: torch.Tensor, patch_size: tuple[int, ...]) -> tuple[torch.Tensor, tuple[slice, ...]]:
    """Zero-pad (centred) every axis shorter than the patch; return the slices that undo it."""
    before = [max(0, p - s) // 2 for s, p in zip(image.shape[1:], patch_size)]
    after = [max(0, p - s) - b for s, p, b in zip(image.shape[1:], patch_size, before)]
    crop = tuple(slice(b, b + s) for b, s in zip(before, image.shape[1:]))
    if not any(before) and not any(after):
        return image, crop
    pad = [v for b, a in zip(reversed(before), reversed(after)) for v in (b, a)]
    return F.pad(image, pad), crop
