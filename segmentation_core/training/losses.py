"""Region-based losses over the WT/TC/ET sigmoid channels."""

from __future__ import annotations

import torch
import torch.nn.functional as F

LOSSES = ("dice_bce", "dice_focal", "dice_tversky")


def soft_dice_loss(logits: torch.Tensor, targets: torch.Tensor, smooth: float = 1e-5) -> torch.Tensor:
    """1 - mean soft Dice over channels, computed over the whole batch (batch Dice, as nnU-Net)."""
    probs = torch.sigmoid(logits)
    dims = (0, *range(2, logits.ndim))
    intersection = (probs * targets).sum(dims)
    total = probs.sum(dims) + targets.sum(dims)
    return 1 - ((2 * intersection + smooth) / (total + smooth)).mean()


def tversky_loss(
    logits: torch.Tensor, targets: torch.Tensor, alpha: float = 0.3, beta: float = 0.7
) -> torch.Tensor:
    """Tversky loss: weights false negatives by ``beta`` and false positives by ``alpha``."""
    probs = torch.sigmoid(logits)
    dims = (0, *range(2, logits.ndim))
    tp = (probs * targets).sum(dims)
    fp = (probs * (1 - targets)).sum(dims)
    fn = ((1 - probs) * targets).sum(dims)
    return 1 - ((tp + 1e-5) / (tp + alpha * fp + beta * fn + 1e-5)).mean()


def focal_loss(logits: torch.Tensor, targets: torch.Tensor, gamma: float = 2.0) -> torch.Tensor:
    bce = F.binary_cross_entropy_with_logits(logits, targets, reduction="none")
    p_t = torch.exp(-bce)
    return ((1 - p_t) ** gamma * bce).mean()


def region_loss(logits: torch.Tensor, targets: torch.Tensor, kind: str = "dice_bce") -> torch.Tensor:
    """Soft Dice plus BCE (default), focal or Tversky, over the region channels."""
    if kind == "dice_bce":
        return soft_dice_loss(logits, targets) + F.binary_cross_entropy_with_logits(logits, targets)
    if kind == "dice_focal":
        return soft_dice_loss(logits, targets) + focal_loss(logits, targets)
    if kind == "dice_tversky":
        return soft_dice_loss(logits, targets) + tversky_loss(logits, targets)
    raise ValueError(f"unknown loss {kind!r}; choose one of {list(LOSSES)}")


def deep_supervision_loss(outputs: list[torch.Tensor], targets: torch.Tensor, kind: str) -> torch.Tensor:
    """Weighted sum over resolutions (weights halve per level, normalised), targets downsampled."""
    weights = torch.tensor([0.5**i for i in range(len(outputs))])
    weights = weights / weights.sum()
    total = outputs[0].new_zeros(())
    for weight, output in zip(weights, outputs):
        scaled = (
            targets
            if output.shape == targets.shape
            else F.interpolate(targets, size=output.shape[2:], mode="area")
        )
        total = total + weight * region_loss(output, scaled, kind)
    return total
