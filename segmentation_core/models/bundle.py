"""Self-describing model bundle: a folder with ``model.json`` (see ``segmentation_core.models.spec``,
torch-free) and fp16 weights; this module adds building the network and loading its weights (torch).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from segmentation_core.atomic import write_bytes
from segmentation_core.models.spec import (
    FORMAT_VERSION,
    MODEL_JSON,
    REQUIRED_KEYS,
    WEIGHTS,
    BundleError,
    ModelSpec,
    checked_weights_name,
)
from segmentation_core.models.unet import UNet3D

__all__ = [
    "FORMAT_VERSION",
    "MODEL_JSON",
    "REQUIRED_KEYS",
    "WEIGHTS",
    "BundleError",
    "ModelBundle",
    "ModelSpec",
]


@dataclass
class ModelBundle(ModelSpec):
    """A model description that can build its network and load its trained weights."""

    def build_network(self) -> UNet3D:
        """A fresh (randomly initialised) network with this bundle's architecture."""
        arch = {k: v for k, v in self.architecture.items() if k != "type"}
        inputs = len(self.channels) + len(self.coarse_inputs)
        return UNet3D(in_channels=inputs, out_channels=len(self.outputs), **arch)

    def load_network(self, map_location: str | torch.device = "cpu") -> UNet3D:
        """The network with its trained weights, in eval mode (float32)."""
        path = self.weights_path()
        if not path.is_file():
            raise BundleError(f"{path}: weights file missing; the bundle is incomplete")
        try:
            state = torch.load(path, map_location=map_location, weights_only=True)
        except Exception as exc:  # torch raises many types for a corrupt file
            raise BundleError(f"{path}: cannot read weights ({exc})") from exc
        if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
            raise BundleError(f"{path}: not a weights file (expected a dictionary of tensors)")
        damaged = [k for k, v in state.items() if v.is_floating_point() and not torch.isfinite(v).all()]
        if damaged:
            raise BundleError(
                f"{path}: {len(damaged)} weight tensor(s) hold NaN or infinite values (e.g. {damaged[0]}); "
                "the model is damaged — re-export or retrain it"
            )
        network = self.build_network()
        try:
            network.load_state_dict({k: v.float() for k, v in state.items()})
        except (RuntimeError, AttributeError) as exc:
            raise BundleError(
                f"{path}: weights do not match the architecture in {MODEL_JSON} ({exc})"
            ) from exc
        return network.eval()

    def save(self, folder: str | Path, state_dict: dict[str, torch.Tensor] | None = None) -> Path:
        """Write model.json (and fp16 weights when given) into ``folder``, atomically per file."""
        folder = Path(folder)
        checked_weights_name(self.weights, folder / MODEL_JSON)
        folder.mkdir(parents=True, exist_ok=True)
        if state_dict is not None:
            half = {
                k: (v.detach().cpu().half() if v.is_floating_point() else v.cpu())
                for k, v in state_dict.items()
            }
            write_bytes(folder / self.weights, lambda f: torch.save(half, f))
        return self.save_description(folder)
