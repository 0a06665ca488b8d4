"""Patch-based 3D U-Net inference: sliding window, TTA, device fallbacks, post-processing."""

from segmentation_core.inference.cascade import CascadePredictor
from segmentation_core.inference.ensemble import EnsemblePredictor
from segmentation_core.inference.postprocess import Postprocessing, regions_to_labels
from segmentation_core.inference.predictor import Prediction, Predictor, run_prediction
from segmentation_core.inference.sliding_window import gaussian_importance, sliding_window

__all__ = [
    "CascadePredictor",
    "EnsemblePredictor",
    "Postprocessing",
    "Prediction",
    "Predictor",
    "gaussian_importance",
    "regions_to_labels",
    "run_prediction",
    "sliding_window",
]
