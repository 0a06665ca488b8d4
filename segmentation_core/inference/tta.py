"""Mirroring test-time augmentation: average the network over flips of the spatial axes."""

from __future__ import annotations

from collections.abc import Callable
from itertools import combinations

import torch

#: All 8 mirror combinations of the spatial axes (2, 3, 4) of a (B, C, X, Y, Z) batch, identity first.
MIRRORS: tuple[tuple[int, ...], ...] = tuple(c for n in range(4) for c in combinations((2, 3, 4), n))


def mirror_set(tta: bool | int) -> tuple[tuple[int, ...], ...]:
    """``False`` -> identity only, ``True`` -> all 8 flips, an int n in 1..8 -> the first n."""
    if isinstance(tta, bool):
        return MIRRORS if tta else MIRRORS[:1]
    if not 1 <= tta <= len(MIRRORS):
        raise ValueError(f"tta must be a bool or a number of flips from 1 to 8, got {tta}")
    return MIRRORS[:tta]


def mirrored(
    network: Callable[[torch.Tensor], torch.Tensor], mirrors: tuple[tuple[int, ...], ...]
) -> Callable[[torch.Tensor], torch.Tensor]:
    """A predictor returning the mean of ``network`` over the flipped inputs (flipped back)."""
    if mirrors == ((),):
        return network

    def predict(batch: torch.Tensor) -> torch.Tensor:
        total: torch.Tensor | None = None
        for axes in mirrors:
            out = network(torch.flip(batch, axes) if axes else batch)
            out = torch.flip(out, axes) if axes else out
            total = out.float() if total is None else total + out.float()
        assert total is not None, "at least the identity mirror runs"
        return total / len(mirrors)

    return predict


def mirrored_with_spread(
    network: Callable[[torch.Tensor], torch.Tensor], mirrors: tuple[tuple[int, ...], ...]
) -> Callable[[torch.Tensor], torch.Tensor]:
    """Like :func:`mirrored`, with the flips' disagreement appended: (B, 2K, ...) output.

    Channels ``:K`` are the mean logits over the flips, channels ``K:`` the standard deviation of
    the sigmoid probabilities over the flips (0: all flips agree; 0.5: they split between 0 and 1).
    """

    def predict(batch: torch.Tensor) -> torch.Tensor:
        logits: torch.Tensor | None = None
        first: torch.Tensor | None = None
        second: torch.Tensor | None = None
        for axes in mirrors:
            out = network(torch.flip(batch, axes) if axes else batch)
            out = (torch.flip(out, axes) if axes else out).float()
            probability = torch.sigmoid(out)
            if logits is None or first is None or second is None:
                logits, first, second = out, probability, probability * probability
            else:
                logits, first, second = logits + out, first + probability, second + probability * probability
        assert logits is not None and first is not None and second is not None, "the identity always runs"
        count = len(mirrors)
        variance = (second / count - (first / count) ** 2).clamp_(min=0.0)
        return torch.cat([logits / count, variance.sqrt_()], dim=1)

    return predict
