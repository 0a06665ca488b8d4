"""Self-describing model bundle: a folder with ``model.json`` and fp16 weights.

``model.json`` holds everything needed to rebuild and run the network: architecture arguments,
input channel order, output regions, label scheme, patch size, target spacing, normalisation,
version, training settings, the training-data fingerprint and validation metrics.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch

from segmentation_core.atomic import write_bytes, write_text
from segmentation_core.models.unet import UNet3D
from segmentation_core.types import SEQUENCES

MODEL_JSON = "model.json"
WEIGHTS = "weights.pt"
FORMAT_VERSION = 1
REQUIRED_KEYS = ("name", "version", "architecture", "channels", "outputs", "patch_size")


class BundleError(ValueError):
    """A model bundle folder is missing, unreadable or inconsistent."""


@dataclass
class ModelBundle:
    """The description of a trained model; ``folder`` is where it was loaded from (if anywhere)."""

    name: str
    version: str
    architecture: dict[str, Any]
    channels: tuple[str, ...] = SEQUENCES
    outputs: tuple[str, ...] = ("WT", "TC", "ET")
    label_scheme: str = "internal"
    patch_size: tuple[int, int, int] = (128, 128, 128)
    spacing: tuple[float, float, float] | None = None
    normalization: str = "zscore-nonzero"
    training: dict[str, Any] = field(default_factory=dict)
    data_fingerprint: dict[str, Any] = field(default_factory=dict)
    validation_metrics: dict[str, Any] = field(default_factory=dict)
    postprocessing: dict[str, Any] = field(default_factory=dict)  # inference.postprocess settings
    weights: str = WEIGHTS
    format_version: int = FORMAT_VERSION
    folder: Path | None = field(default=None, compare=False)

    def build_network(self) -> UNet3D:
        """A fresh (randomly initialised) network with this bundle's architecture."""
        arch = {k: v for k, v in self.architecture.items() if k != "type"}
        return UNet3D(in_channels=len(self.channels), out_channels=len(self.outputs), **arch)

    def load_network(self, map_location: str | torch.device = "cpu") -> UNet3D:
        """The network with its trained weights, in eval mode (float32)."""
        if self.folder is None:
            raise BundleError(f"bundle {self.name!r} has no folder to load weights from")
        path = self.folder / self.weights
        if not path.is_file():
            raise BundleError(f"{path}: weights file missing; the bundle is incomplete")
        try:
            state = torch.load(path, map_location=map_location, weights_only=True)
        except Exception as exc:  # torch raises many types for a corrupt file
            raise BundleError(f"{path}: cannot read weights ({exc})") from exc
        network = self.build_network()
        try:
            network.load_state_dict({k: v.float() for k, v in state.items()})
        except (RuntimeError, AttributeError) as exc:
            raise BundleError(
                f"{path}: weights do not match the architecture in {MODEL_JSON} ({exc})"
            ) from exc
        return network.eval()

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("folder")
        return data

    def save(self, folder: str | Path, state_dict: dict[str, torch.Tensor] | None = None) -> Path:
        """Write model.json (and fp16 weights when given) into ``folder``, atomically per file."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        if state_dict is not None:
            half = {
                k: (v.detach().cpu().half() if v.is_floating_point() else v.cpu())
                for k, v in state_dict.items()
            }
            write_bytes(folder / self.weights, lambda f: torch.save(half, f))
        text = json.dumps(self.to_json(), indent=2, default=float)
        write_text(folder / MODEL_JSON, text)
        self.folder = folder
        return folder

    @classmethod
    def load(cls, folder: str | Path) -> ModelBundle:
        """Read ``folder/model.json``; raises BundleError naming the file on any problem."""
        folder = Path(folder)
        path = folder / MODEL_JSON
        if not path.is_file():
            raise BundleError(f"{path}: not a model bundle (no {MODEL_JSON} in {folder})")
        try:
            data = json.loads(path.read_text())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise BundleError(f"{path}: unreadable model description ({exc})") from exc
        if not isinstance(data, dict):
            raise BundleError(f"{path}: expected a JSON object")
        missing = [k for k in REQUIRED_KEYS if k not in data]
        if missing:
            raise BundleError(f"{path}: missing keys {missing}; this is not one of our model bundles")
        known = set(cls.__dataclass_fields__) - {"folder"}
        unknown = sorted(set(data) - known)
        if unknown:
            raise BundleError(f"{path}: unknown keys {unknown}; written by a newer version of the app?")
        if int(data.get("format_version", FORMAT_VERSION)) > FORMAT_VERSION:
            raise BundleError(
                f"{path}: bundle format {data['format_version']} is newer than this app supports"
            )
        data["channels"] = tuple(data["channels"])
        data["outputs"] = tuple(data["outputs"])
        data["patch_size"] = tuple(int(s) for s in data["patch_size"])
        if data.get("spacing") is not None:
            data["spacing"] = tuple(float(s) for s in data["spacing"])
        bundle = cls(**data, folder=folder)
        bundle.validate(path)
        return bundle

    def validate(self, path: Path) -> None:
        unknown = [c for c in self.channels if c not in SEQUENCES]
        if unknown:
            raise BundleError(
                f"{path}: unknown input channels {unknown}; expected names from {list(SEQUENCES)}"
            )
        if tuple(self.outputs) != ("WT", "TC", "ET"):
            raise BundleError(
                f"{path}: outputs must be the regions ['WT', 'TC', 'ET'], got {list(self.outputs)}"
            )
        if len(self.patch_size) != 3 or min(self.patch_size) < 1:
            raise BundleError(f"{path}: patch_size must be three positive integers, got {self.patch_size}")
        divisor = 2 ** (int(self.architecture.get("depth", 4)) - 1)
        if any(s % divisor for s in self.patch_size):
            raise BundleError(f"{path}: patch_size {self.patch_size} must be a multiple of {divisor}")
