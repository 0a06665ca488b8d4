"""The torch-free description of a model bundle: ``model.json``, parsed and checked in one place.

``model.json`` holds everything needed to rebuild and run the network: architecture arguments,
input channel order, output regions, label scheme, patch size, target spacing, normalisation,
version, training settings, the training-data fingerprint and validation metrics. Reading it needs
no torch (the registry, the GUI and the CLI read it); ``segmentation_core.models.bundle`` adds the
network and its weights.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Self

from segmentation_core.atomic import write_text
from segmentation_core.labels import REGION_NAMES
from segmentation_core.types import SEQUENCES

MODEL_JSON = "model.json"
WEIGHTS = "weights.pt"
FORMAT_VERSION = 1
REQUIRED_KEYS = ("name", "version", "architecture", "channels", "outputs", "patch_size")
#: Largest patch side a bundle may ask for (a 1024^3 patch would need hundreds of GB).
MAX_PATCH_SIDE = 512


class BundleError(ValueError):
    """A model bundle folder is missing, unreadable or inconsistent."""


@dataclass
class ModelSpec:
    """The description of a trained model; ``folder`` is where it was loaded from (if anywhere)."""

    name: str
    version: str
    architecture: dict[str, Any]
    channels: tuple[str, ...] = SEQUENCES
    outputs: tuple[str, ...] = REGION_NAMES
    #: Regions of a coarse model's probabilities given as extra input channels after ``channels``: a
    #: cascade's fine stage (run through ``inference.CascadePredictor``); empty for a stand-alone model.
    coarse_inputs: tuple[str, ...] = ()
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

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("folder")
        return data

    def weights_path(self) -> Path:
        """The weights file, which must be a plain file name inside the bundle folder."""
        if self.folder is None:
            raise BundleError(f"bundle {self.name!r} has no folder to load weights from")
        return self.folder / checked_weights_name(self.weights, self.folder / MODEL_JSON)

    def to_json_text(self) -> str:
        """``model.json`` as written (tuples become lists)."""
        return json.dumps(self.to_json(), indent=2, default=float)

    def save_description(self, folder: str | Path) -> Path:
        """Write ``folder/model.json`` atomically."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        write_text(folder / MODEL_JSON, self.to_json_text())
        self.folder = folder
        return folder

    @classmethod
    def load(cls, folder: str | Path) -> Self:
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
        try:
            _check_types(data)
            if int(data.get("format_version", FORMAT_VERSION)) > FORMAT_VERSION:
                raise BundleError(
                    f"{path}: bundle format {data['format_version']} is newer than this app supports"
                )
            data["channels"] = tuple(data["channels"])
            data["outputs"] = tuple(data["outputs"])
            data["coarse_inputs"] = tuple(data.get("coarse_inputs", ()))
            data["patch_size"] = tuple(int(s) for s in data["patch_size"])
            if data.get("spacing") is not None:
                data["spacing"] = tuple(float(s) for s in data["spacing"])
        except (TypeError, ValueError) as exc:
            if isinstance(exc, BundleError):
                raise
            raise BundleError(f"{path}: {exc}") from exc
        checked_weights_name(data.get("weights", WEIGHTS), path)
        bundle = cls(**data, folder=folder)
        bundle.validate(path)
        return bundle

    def validate(self, path: Path) -> None:
        unknown = [c for c in self.channels if c not in SEQUENCES]
        if unknown:
            raise BundleError(
                f"{path}: unknown input channels {unknown}; expected names from {list(SEQUENCES)}"
            )
        strange = [r for r in self.coarse_inputs if r not in REGION_NAMES]
        if strange or len(set(self.coarse_inputs)) != len(self.coarse_inputs):
            raise BundleError(
                f"{path}: coarse_inputs must be distinct regions of {list(REGION_NAMES)}, "
                f"got {list(self.coarse_inputs)}"
            )
        if tuple(self.outputs) != REGION_NAMES:
            raise BundleError(
                f"{path}: outputs must be the regions ['WT', 'TC', 'ET'], got {list(self.outputs)}"
            )
        if len(self.patch_size) != 3 or min(self.patch_size) < 1:
            raise BundleError(f"{path}: patch_size must be three positive integers, got {self.patch_size}")
        if max(self.patch_size) > MAX_PATCH_SIDE:
            raise BundleError(
                f"{path}: patch_size {self.patch_size} is larger than {MAX_PATCH_SIDE} voxels per side; "
                "no machine this app runs on has the memory for it"
            )
        divisor = 2 ** (int(self.architecture.get("depth", 4)) - 1)
        if any(s % divisor for s in self.patch_size):
            raise BundleError(f"{path}: patch_size {self.patch_size} must be a multiple of {divisor}")


#: The JSON types of model.json's fields (value: a type or a tuple of types; None is allowed where listed).
_FIELD_TYPES: dict[str, tuple[type, ...]] = {
    "name": (str,),
    "version": (str, int),
    "architecture": (dict,),
    "channels": (list,),
    "outputs": (list,),
    "coarse_inputs": (list,),
    "label_scheme": (str,),
    "patch_size": (list,),
    "spacing": (list, type(None)),
    "normalization": (str,),
    "training": (dict,),
    "data_fingerprint": (dict,),
    "validation_metrics": (dict,),
    "postprocessing": (dict,),
    "weights": (str,),
    "format_version": (int,),
}


def _check_types(data: dict[str, Any]) -> None:
    """TypeError naming the first field of model.json with the wrong JSON type."""
    for key, kinds in _FIELD_TYPES.items():
        if key in data and (not isinstance(data[key], kinds) or isinstance(data[key], bool)):
            names = " or ".join("null" if k is type(None) else k.__name__ for k in kinds)
            raise TypeError(f"field {key!r} must be {names}, not {type(data[key]).__name__}")
    for key in ("channels", "outputs", "coarse_inputs"):
        if key in data and not all(isinstance(v, str) for v in data[key]):
            raise TypeError(f"field {key!r} must be a list of names")
    for key in ("patch_size", "spacing"):
        values = data.get(key) or []
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
            raise TypeError(f"field {key!r} must be a list of numbers")
    architecture = data.get("architecture", {})
    if not all(_plain_setting(v) for v in architecture.values()):
        raise TypeError("field 'architecture' must map names to numbers, flags, names or lists of numbers")


def _plain_setting(value: Any) -> bool:
    """A number, flag or name, or a list of numbers (an architecture setting of model.json)."""
    if isinstance(value, list):
        return all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)
    return isinstance(value, (int, float, str, bool))


def checked_weights_name(name: str, model_json: Path) -> str:
    """``name`` when it is a plain file name inside the bundle; BundleError for a path leading elsewhere."""
    plain = Path(name)
    if not name or plain.is_absolute() or len(plain.parts) != 1 or name in (".", "..") or "\\" in name:
        raise BundleError(
            f"{model_json}: the weights {name!r} must be a file inside the bundle folder "
            "(a plain file name, no folders, no absolute path)"
        )
    folder = model_json.parent
    if (folder / name).is_symlink():
        raise BundleError(
            f"{model_json}: the weights {name!r} are a symbolic link; the bundle must hold the file"
        )
    return name
