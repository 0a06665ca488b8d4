"""Training checkpoints: written atomically, read back with clear errors, with the RNG states."""

from __future__ import annotations

import os
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

LAST = "last.pt"


class CheckpointError(ValueError):
    """A training checkpoint is missing or unreadable."""


def rng_states() -> dict[str, Any]:
    """The global random states (Python, NumPy, torch CPU and CUDA) of this process."""
    states: dict[str, Any] = {
        "python": random.getstate(),
        "numpy": np.random.get_state(),
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        states["cuda"] = torch.cuda.get_rng_state_all()
    return states


def restore_rng_states(states: dict[str, Any]) -> None:
    random.setstate(states["python"])
    np.random.set_state(states["numpy"])
    torch.set_rng_state(states["torch"])
    if "cuda" in states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states["cuda"])


def save_checkpoint(path: Path, state: dict[str, Any]) -> Path:
    """Write ``state`` (plus the RNG states) to ``path`` via a temporary file, so a kill never leaves half a file."""
    tmp = path.with_suffix(".tmp")
    torch.save({**state, "rng": rng_states()}, tmp)
    os.replace(tmp, path)
    return path


def load_checkpoint(path: Path, device: torch.device) -> dict[str, Any]:
    """The checkpoint at ``path`` with the RNG states already restored."""
    if not path.is_file():
        raise CheckpointError(f"{path}: no checkpoint to resume from; start a new run without --resume")
    try:
        state = torch.load(path, map_location=device, weights_only=False)
    except Exception as exc:  # torch raises many types for a truncated or foreign file
        raise CheckpointError(f"{path}: cannot read the checkpoint ({exc}); start a new run") from exc
    if "rng" in state:
        restore_rng_states(state["rng"])
    return state
