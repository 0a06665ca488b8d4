"""Data augmentation on a batch of patches (torch, CPU or GPU): spatial and intensity.

Two policies (``TrainConfig.augmentation``): ``default``, the mild one the bundled model was trained
with, and ``strong``, the set and strengths nnU-Net trains with (rotation about every axis up to ±30°,
scaling 0.7-1.4, noise, blur, brightness, contrast, simulated low resolution, gamma and inverted gamma,
mirroring), which make a network trained on few cases less sensitive to one site's appearance.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from segmentation_core.training.augment_strong import augment_strong, range_gamma


def augment_default(
    images: torch.Tensor, targets: torch.Tensor, generator: torch.Generator, rotate_probability: float = 0.2
) -> tuple[torch.Tensor, torch.Tensor]:
    """Random flips, small rotations and scaling, intensity scale/shift/gamma and noise."""
    images, targets = images.clone(), targets.clone()
    for b in range(images.shape[0]):
        for axis in (1, 2, 3):
            if _uniform(generator) < 0.5:
                images[b] = images[b].flip(axis)
                targets[b] = targets[b].flip(axis)
        if _uniform(generator) < rotate_probability:
            images[b], targets[b] = _rotate_scale(images[b], targets[b], generator)
        for c in range(images.shape[1]):
            channel = images[b, c]
            scale = 0.9 + 0.2 * _uniform(generator)
            shift = -0.1 + 0.2 * _uniform(generator)
            channel.mul_(scale).add_(shift)
            if _uniform(generator) < 0.15:
                channel.copy_(range_gamma(channel, 0.7 + 0.8 * _uniform(generator)))
        if _uniform(generator) < 0.15:
            sigma = 0.1 * _uniform(generator)
            images[b] += sigma * torch.randn(images[b].shape, generator=generator, device=images.device)
    return images, targets


def _uniform(generator: torch.Generator) -> float:
    return float(torch.rand((), generator=generator))


def _rotate_scale(
    image: torch.Tensor, target: torch.Tensor, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """Rotate about one random axis by up to ±15° and scale by 0.85-1.15 (trilinear)."""
    angle = math.radians(-15 + 30 * _uniform(generator))
    scale = 0.85 + 0.3 * _uniform(generator)
    axis = int(torch.randint(3, (), generator=generator))
    cos, sin = math.cos(angle) / scale, math.sin(angle) / scale
    i, j = [a for a in range(3) if a != axis]
    theta = torch.eye(3, 4, dtype=image.dtype)
    theta[axis, axis] = 1 / scale
    theta[i, i], theta[i, j], theta[j, i], theta[j, j] = cos, -sin, sin, cos
    # the axis is random, so it does not matter that affine_grid orders coordinates last axis first
    grid = F.affine_grid(theta[None], [1, 1, *image.shape[1:]], align_corners=False).to(image.device)
    warp = lambda t: F.grid_sample(t[None], grid, mode="bilinear", align_corners=False)[0]  # noqa: E731
    return warp(image), warp(target)


_POLICIES = {"default": augment_default, "strong": augment_strong}
#: Augmentation policies by name (``brats-seg train --augmentation``).
AUGMENTATIONS = tuple(_POLICIES)


def augment(
    images: torch.Tensor,
    targets: torch.Tensor,
    generator: torch.Generator,
    policy: str = "default",
    guide_channels: int = 0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """``images`` (B,C,X,Y,Z) z-scored and ``targets`` (B,3,X,Y,Z) in [0,1], augmented by ``policy``.

    The last ``guide_channels`` of ``images`` (a coarse model's probabilities) move with the images
    but get no intensity change: they are augmented as targets are. Uses only ``generator`` for
    randomness, so a resumed run draws the same augmentations.
    """
    if policy not in _POLICIES:
        raise ValueError(f"unknown augmentation {policy!r}; choose one of {', '.join(AUGMENTATIONS)}")
    if not guide_channels:
        return _POLICIES[policy](images, targets, generator)
    split = images.shape[1] - guide_channels
    images, moved = _POLICIES[policy](
        images[:, :split], torch.cat([targets, images[:, split:]], 1), generator
    )
    regions = targets.shape[1]
    return torch.cat([images, moved[:, regions:]], 1), moved[:, :regions]
