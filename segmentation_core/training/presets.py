"""Named training recipes (``brats-seg train --preset NAME``); explicit options override them."""

from __future__ import annotations

from typing import Any

#: Settings each preset changes from the :class:`TrainConfig` defaults (the "cpu" recipe).
PRESETS: dict[str, dict[str, Any]] = {
    # the bundled model's recipe: 2 mm, 48^3 patches (96 mm), a small network; hours on a 2-core CPU
    "cpu": {},
    # nnU-Net-like full-resolution recipe for one GPU: 1 mm, 128^3 patches, a wider and deeper network
    # (widths 32..320, 5 levels), deep supervision, mixed precision, batch 2, DataLoader workers
    "gpu": {
        "spacing": (1.0, 1.0, 1.0),
        "patch_size": (128, 128, 128),
        "base_filters": 32,
        "depth": 5,
        "batch_size": 2,
        "deep_supervision": True,
        "precision": "amp",
        "epochs": 300,
        "iterations_per_epoch": 250,
        "lr": 1e-3,
        "workers": 4,
    },
}


def preset_settings(name: str) -> dict[str, Any]:
    """The settings of preset ``name``; ValueError naming the known presets otherwise."""
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; choose one of {sorted(PRESETS)}")
    return dict(PRESETS[name])
