"""The ``strong`` augmentation policy: nnU-Net's default transforms and strengths, on torch tensors.

Per patch, in nnU-Net's order: rotation (p 0.2; about each axis up to ±30°) and scaling (p 0.2;
0.7-1.4) in one resampling, Gaussian noise (p 0.1; variance up to 0.1), Gaussian blur (p 0.2; each
channel p 0.5, sigma 0.5-1 voxel), brightness (p 0.15; ×0.75-1.25), contrast (p 0.15; ×0.75-1.25
about the mean, range kept), simulated low resolution (p 0.25; each channel p 0.5, down to 0.5-1 of
the size and back), inverted gamma (p 0.1) and gamma (p 0.3; 0.7-1.5, mean and spread kept),
mirroring (each axis p 0.5). Intensity transforms act on the images only.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

ROTATE_P, MAX_ROTATION_DEG = 0.2, 30.0
SCALE_P, SCALE_RANGE = 0.2, (0.7, 1.4)
NOISE_P, MAX_NOISE_VARIANCE = 0.1, 0.1
BLUR_P, BLUR_CHANNEL_P, BLUR_SIGMA = 0.2, 0.5, (0.5, 1.0)
BRIGHTNESS_P, BRIGHTNESS_RANGE = 0.15, (0.75, 1.25)
CONTRAST_P, CONTRAST_RANGE = 0.15, (0.75, 1.25)
LOWRES_P, LOWRES_CHANNEL_P, LOWRES_ZOOM = 0.25, 0.5, (0.5, 1.0)
INVERTED_GAMMA_P, GAMMA_P = 0.1, 0.3
MIRROR_P = 0.5


def augment_strong(
    images: torch.Tensor, targets: torch.Tensor, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """``images`` (B,C,X,Y,Z) and ``targets`` (B,3,X,Y,Z) augmented; randomness from ``generator`` only."""
    images, targets = images.clone(), targets.clone()
    for b in range(images.shape[0]):
        images[b], targets[b] = _spatial(images[b], targets[b], generator)
        image = images[b]
        if _chance(generator, NOISE_P):
            sigma = math.sqrt(_between(generator, 0.0, MAX_NOISE_VARIANCE))
            image += sigma * torch.randn(image.shape, generator=generator).to(image.device)
        if _chance(generator, BLUR_P):
            for c in range(image.shape[0]):
                if _chance(generator, BLUR_CHANNEL_P):
                    image[c] = gaussian_blur(image[c], _between(generator, *BLUR_SIGMA))
        if _chance(generator, BRIGHTNESS_P):
            for c in range(image.shape[0]):
                image[c] *= _between(generator, *BRIGHTNESS_RANGE)
        if _chance(generator, CONTRAST_P):
            for c in range(image.shape[0]):
                image[c] = _contrast(image[c], _between(generator, *CONTRAST_RANGE))
        if _chance(generator, LOWRES_P):
            for c in range(image.shape[0]):
                if _chance(generator, LOWRES_CHANNEL_P):
                    image[c] = simulate_low_resolution(image[c], _between(generator, *LOWRES_ZOOM))
        if _chance(generator, INVERTED_GAMMA_P):
            for c in range(image.shape[0]):
                image[c] = -_gamma(-image[c], _gamma_value(generator))
        if _chance(generator, GAMMA_P):
            for c in range(image.shape[0]):
                image[c] = _gamma(image[c], _gamma_value(generator))
        for axis in (1, 2, 3):
            if _chance(generator, MIRROR_P):
                images[b] = images[b].flip(axis)
                targets[b] = targets[b].flip(axis)
    return images, targets


def _chance(generator: torch.Generator, probability: float) -> bool:
    return float(torch.rand((), generator=generator)) < probability


def _between(generator: torch.Generator, low: float, high: float) -> float:
    return low + (high - low) * float(torch.rand((), generator=generator))


def _spatial(
    image: torch.Tensor, target: torch.Tensor, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """Rotation about each axis and isotropic scaling, resampled once (trilinear), or nothing."""
    rotate, scale = _chance(generator, ROTATE_P), _chance(generator, SCALE_P)
    if not (rotate or scale):
        return image, target
    matrix = torch.eye(3, dtype=torch.float64)
    if rotate:
        for axis in range(3):
            angle = math.radians(_between(generator, -MAX_ROTATION_DEG, MAX_ROTATION_DEG))
            matrix = rotation(axis, angle) @ matrix
    factor = _between(generator, *SCALE_RANGE) if scale else 1.0
    theta = torch.zeros(3, 4, dtype=image.dtype)
    theta[:, :3] = (matrix / factor).to(image.dtype)  # sampling grid: output -> input, so 1/scale
    grid = F.affine_grid(theta[None], [1, 1, *image.shape[1:]], align_corners=False).to(image.device)

    def warp(t: torch.Tensor) -> torch.Tensor:
        return F.grid_sample(t[None], grid, mode="bilinear", padding_mode="zeros", align_corners=False)[0]

    return warp(image), warp(target)


def rotation(axis: int, angle: float) -> torch.Tensor:
    """3×3 rotation by ``angle`` (radians) about coordinate ``axis``."""
    i, j = [a for a in range(3) if a != axis]
    matrix = torch.eye(3, dtype=torch.float64)
    matrix[i, i], matrix[i, j], matrix[j, i], matrix[j, j] = (
        math.cos(angle),
        -math.sin(angle),
        math.sin(angle),
        math.cos(angle),
    )
    return matrix


def gaussian_blur(volume: torch.Tensor, sigma: float) -> torch.Tensor:
    """``volume`` (X,Y,Z) blurred by a separable Gaussian of ``sigma`` voxels (edges replicated)."""
    radius = max(1, math.ceil(3 * sigma))
    offsets = torch.arange(-radius, radius + 1, dtype=volume.dtype, device=volume.device)
    kernel = torch.exp(-0.5 * (offsets / sigma) ** 2)
    kernel = kernel / kernel.sum()
    out = volume[None, None]
    for axis in range(3):
        shape = [1, 1, 1, 1, 1]
        shape[2 + axis] = kernel.numel()
        pad = [0] * 6
        pad[2 * (2 - axis)] = pad[2 * (2 - axis) + 1] = radius  # F.pad lists the last axis first
        out = F.conv3d(F.pad(out, pad, mode="replicate"), kernel.reshape(shape))
    return out[0, 0]


def _contrast(volume: torch.Tensor, factor: float) -> torch.Tensor:
    mean, low, high = volume.mean(), volume.min(), volume.max()
    return ((volume - mean) * factor + mean).clamp(low, high)


def simulate_low_resolution(volume: torch.Tensor, zoom: float) -> torch.Tensor:
    """``volume`` (X,Y,Z) shrunk to ``zoom`` of its size (nearest) and brought back (trilinear)."""
    small = [max(1, round(n * zoom)) for n in volume.shape]
    down = F.interpolate(volume[None, None], size=small, mode="nearest")
    return F.interpolate(down, size=list(volume.shape), mode="trilinear", align_corners=False)[0, 0]


def _gamma_value(generator: torch.Generator) -> float:
    """Half the time below 1 (0.7-1), half above (1-1.5), as nnU-Net draws it."""
    return _between(generator, 0.7, 1.0) if _chance(generator, 0.5) else _between(generator, 1.0, 1.5)


def range_gamma(volume: torch.Tensor, gamma: float) -> torch.Tensor:
    """``volume`` scaled to [0, 1], raised to ``gamma`` and scaled back to its own range."""
    low, high = volume.min(), volume.max()
    span = (high - low).clamp_min(1e-6)
    return ((volume - low) / span).pow(gamma) * span + low


def _gamma(volume: torch.Tensor, gamma: float) -> torch.Tensor:
    """:func:`range_gamma`, then the mean and standard deviation of ``volume`` restored."""
    mean, std = volume.mean(), volume.std()
    out = range_gamma(volume, gamma)
    return (out - out.mean()) / out.std().clamp_min(1e-6) * std + mean
