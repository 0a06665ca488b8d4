"""A tiny randomly initialised model bundle for tests (the real default model is far bigger)."""

from __future__ import annotations

from pathlib import Path

import torch

from segmentation_core.models.bundle import ModelBundle

TINY_ARCHITECTURE = {"base_filters": 4, "depth": 3, "max_filters": 16}


def make_tiny_bundle(
    folder: str | Path,
    spacing: tuple[float, float, float] | None = None,
    patch_size: tuple[int, int, int] = (16, 16, 16),
    version: str = "1",
    seed: int = 0,
    coarse_inputs: tuple[str, ...] = (),
) -> Path:
    """Write a tiny bundle (a 3-level U-Net with 4 base filters) and return its folder."""
    torch.manual_seed(seed)
    bundle = ModelBundle(
        name="tiny-test-model",
        version=version,
        architecture=dict(TINY_ARCHITECTURE),
        patch_size=patch_size,
        spacing=spacing,
        coarse_inputs=coarse_inputs,
    )
    network = bundle.build_network()
    return bundle.save(folder, network.state_dict())
