"""BraTS segmentation metrics: Dice, HD95, ASD, sensitivity, specificity, volumes, lesion-wise scores.

Label maps are internal-scheme arrays (0 bg, 1 NCR, 2 ED, 3 ET); regions WT, TC, ET (and the single
labels NCR, ED) as in ``segmentation_core.labels``. Distances in mm, volumes in cm^3. Empty-mask
conventions follow BraTS and are documented on each function.
"""

from __future__ import annotations

from segmentation_core.metrics.lesionwise import LESION_MISS_DISTANCE_MM, lesion_wise
from segmentation_core.metrics.overlap import dice, sensitivity, specificity, volumes_cm3
from segmentation_core.metrics.report import METRIC_NAMES, region_metrics, summarize, summarize_cases
from segmentation_core.metrics.surface import (
    EMPTY_MASK_DISTANCE_MM,
    average_surface_distance,
    hd95,
    surface_distances,
)

__all__ = [
    "EMPTY_MASK_DISTANCE_MM",
    "LESION_MISS_DISTANCE_MM",
    "METRIC_NAMES",
    "average_surface_distance",
    "dice",
    "hd95",
    "lesion_wise",
    "region_metrics",
    "sensitivity",
    "specificity",
    "summarize",
    "summarize_cases",
    "surface_distances",
    "volumes_cm3",
]
