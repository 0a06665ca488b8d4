"""Networks and self-describing model bundles.

``spec`` (reading ``model.json``) is torch-free; ``bundle`` (network and weights) and ``unet`` import
torch, so they load on first use of ``ModelBundle`` or ``UNet3D``.
"""

from typing import Any

from segmentation_core.models.spec import BundleError, ModelSpec

__all__ = ["BundleError", "ModelBundle", "ModelSpec", "UNet3D"]


def __getattr__(name: str) -> Any:
    if name == "ModelBundle":
        from segmentation_core.models.bundle import ModelBundle

        return ModelBundle
    if name == "UNet3D":
        from segmentation_core.models.unet import UNet3D

        return UNet3D
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
