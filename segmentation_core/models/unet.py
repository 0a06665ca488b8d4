"""A configurable 3D U-Net (nnU-Net style: conv-norm-lrelu blocks, strided downsampling)."""

from __future__ import annotations

import torch
from torch import nn


def instance_norm(channels: int) -> nn.GroupNorm:
    """Affine instance normalisation, as GroupNorm with one group per channel.

    The maths and the parameter names (``weight``, ``bias``) are those of ``nn.InstanceNorm3d(affine=True)``;
    GroupNorm's CPU kernel is many times faster.
    """
    return nn.GroupNorm(channels, channels)


class ConvBlock(nn.Sequential):
    """Two 3x3x3 convolutions, each followed by instance norm and leaky ReLU."""

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1) -> None:
        super().__init__(
            nn.Conv3d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False),
            instance_norm(out_channels),
            nn.LeakyReLU(0.01, inplace=True),
            nn.Conv3d(out_channels, out_channels, 3, padding=1, bias=False),
            instance_norm(out_channels),
            nn.LeakyReLU(0.01, inplace=True),
        )


class UNet3D(nn.Module):
    """3D U-Net with ``depth`` resolution levels; filters double per level up to ``max_filters``.

    The output has ``out_channels`` logits per voxel (region-based: WT, TC, ET). With
    ``deep_supervision`` the training forward pass also returns lower-resolution logits
    (full resolution first); evaluation always returns one tensor.
    """

    def __init__(
        self,
        in_channels: int = 4,
        out_channels: int = 3,
        base_filters: int = 32,
        depth: int = 4,
        max_filters: int = 320,
        deep_supervision: bool = False,
    ) -> None:
        super().__init__()
        if depth < 2:
            raise ValueError(f"depth must be at least 2, got {depth}")
        widths = [min(base_filters * 2**level, max_filters) for level in range(depth)]
        self.depth = depth
        self.deep_supervision = deep_supervision
        self.encoders = nn.ModuleList(
            ConvBlock(
                in_channels if level == 0 else widths[level - 1], widths[level], stride=1 if level == 0 else 2
            )
            for level in range(depth)
        )
        self.upsamplers = nn.ModuleList(
            nn.ConvTranspose3d(widths[level + 1], widths[level], 2, stride=2) for level in range(depth - 1)
        )
        self.decoders = nn.ModuleList(
            ConvBlock(2 * widths[level], widths[level]) for level in range(depth - 1)
        )
        # heads[0] is the output; lower-resolution heads exist only for deep supervision
        head_levels = range(depth - 1) if deep_supervision else range(1)
        self.heads = nn.ModuleList(nn.Conv3d(widths[level], out_channels, 1) for level in head_levels)

    @property
    def divisor(self) -> int:
        """Input sizes must be multiples of this (2 ** (depth - 1))."""
        return 2 ** (self.depth - 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor | list[torch.Tensor]:
        skips = []
        for encoder in self.encoders:
            x = encoder(x)
            skips.append(x)
        x = skips.pop()
        outputs = []
        for level in reversed(range(self.depth - 1)):
            x = self.upsamplers[level](x)
            x = self.decoders[level](torch.cat([skips[level], x], dim=1))
            if self.deep_supervision and self.training and level > 0:
                outputs.append(self.heads[level](x))
        full = self.heads[0](x)
        if self.deep_supervision and self.training:
            return [full, *reversed(outputs)]
        return full
