"""Networks and self-describing model bundles."""

from segmentation_core.models.bundle import BundleError, ModelBundle
from segmentation_core.models.unet import UNet3D

__all__ = ["BundleError", "ModelBundle", "UNet3D"]
