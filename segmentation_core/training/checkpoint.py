"""Training checkpoints: written atomically, read back with ``weights_only=True``, with the RNG states.

A checkpoint is untrusted input (it may come from anywhere), so it holds only tensors and plain
Python types and is loaded with ``torch.load(weights_only=True)``, which runs no code from the file.
The random states are stored in that form too (NumPy's key and position as plain values, its
state vector and torch's as tensors).
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

from segmentation_core.atomic import write_bytes

LAST = "last.pt"


class CheckpointError(ValueError):
    """A training checkpoint is missing or unreadable."""


def rng_states() -> dict[str, Any]:
    """The global random states (Python, NumPy, torch CPU and CUDA) as tensors and plain types."""
    version, internal, gauss = random.getstate()
    key, keys, pos, has_gauss, cached = np.random.get_state()
    states: dict[str, Any] = {
        "python": {"version": int(version), "state": list(internal), "gauss": gauss},
        "numpy": {
            "key": str(key),
            "state": torch.from_numpy(np.asarray(keys, dtype=np.int64)),
            "pos": int(pos),
            "has_gauss": int(has_gauss),
            "cached": float(cached),
        },
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        states["cuda"] = torch.cuda.get_rng_state_all()
    return states


def restore_rng_states(states: dict[str, Any]) -> None:
    """Set the global random states from :func:`rng_states`' form; CheckpointError when malformed."""
    try:
        py, npy = states["python"], states["numpy"]
        random.setstate((int(py["version"]), tuple(int(v) for v in py["state"]), py["gauss"]))
        keys = np.asarray(npy["state"].numpy(), dtype=np.uint32)
        np.random.set_state(
            (str(npy["key"]), keys, int(npy["pos"]), int(npy["has_gauss"]), float(npy["cached"]))
        )
        torch.set_rng_state(states["torch"])
    except (KeyError, TypeError, ValueError, AttributeError, RuntimeError) as exc:
        raise CheckpointError(f"the checkpoint's random states are malformed ({exc})") from exc
    if "cuda" in states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states["cuda"])


def save_checkpoint(path: Path, state: dict[str, Any]) -> Path:
    """Write ``state`` (plus the RNG states) to ``path`` atomically, so a kill never leaves half a file."""
    return write_bytes(path, lambda fh: torch.save({**state, "rng": rng_states()}, fh))


def load_checkpoint(path: Path, device: torch.device) -> dict[str, Any]:
    """The checkpoint at ``path`` (tensors and plain types only) with the RNG states already restored."""
    if not path.is_file():
        raise CheckpointError(f"{path}: no checkpoint to resume from; start a new run without --resume")
    try:
        state = torch.load(path, map_location=device, weights_only=True)
    except Exception as exc:  # torch raises many types for a truncated, foreign or unsafe file
        first = " ".join(str(exc).split())[:300]
        raise CheckpointError(
            f"{path}: cannot read the checkpoint safely ({first}); start a new run without --resume"
        ) from exc
    if not isinstance(state, dict):
        raise CheckpointError(f"{path}: not a training checkpoint; start a new run without --resume")
    if "rng" in state:
        try:
            restore_rng_states(state["rng"])
        except CheckpointError as exc:
            raise CheckpointError(f"{path}: {exc}") from exc
    return state
