"""From region probabilities to labels, and the optional clean-up BraTS winners apply."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from segmentation_core.labels import BACKGROUND, ED, ET, NCR


@dataclass(frozen=True)
class Postprocessing:
    """Clean-up settings; volumes are in mm^3 so they mean the same at any voxel size.

    ``min_component_mm3``: tumour (WT) connected components smaller than this are removed.
    ``min_et_mm3``: if all ET together is smaller than this, it is relabelled NCR.
    Set either to 0 to switch that step off.
    """

    min_component_mm3: float = 100.0
    min_et_mm3: float = 200.0


OFF = Postprocessing(0.0, 0.0)


def regions_to_labels(probabilities: np.ndarray, threshold: float = 0.5) -> np.ndarray:
    """(3, X, Y, Z) WT/TC/ET probabilities -> uint8 internal labels with ET ⊂ TC ⊂ WT enforced."""
    wt = probabilities[0] > threshold
    tc = (probabilities[1] > threshold) & wt
    et = (probabilities[2] > threshold) & tc
    labels = np.zeros(wt.shape, dtype=np.uint8)
    labels[wt] = ED
    labels[tc] = NCR
    labels[et] = ET
    return labels


def remove_small_components(labels: np.ndarray, min_voxels: float) -> np.ndarray:
    """Zero every tumour component (26-connected, any label) smaller than ``min_voxels``; in place."""
    if min_voxels <= 0:
        return labels
    components, count = ndimage.label(labels != BACKGROUND, structure=np.ones((3, 3, 3), bool))
    if count == 0:
        return labels
    sizes = np.bincount(components.ravel())
    small = np.flatnonzero(sizes < min_voxels)
    small = small[small != 0]
    if small.size:
        labels[np.isin(components, small)] = BACKGROUND
    return labels


def small_et_to_ncr(labels: np.ndarray, min_voxels: float) -> np.ndarray:
    """Relabel all ET as NCR when there are fewer than ``min_voxels`` ET voxels; in place."""
    et = labels == ET
    if min_voxels > 0 and 0 < int(et.sum()) < min_voxels:
        labels[et] = NCR
    return labels


def postprocess(
    labels: np.ndarray, spacing: tuple[float, float, float], settings: Postprocessing
) -> np.ndarray:
    """Apply ``settings`` to an internal label map with voxel ``spacing`` (mm); in place."""
    voxel_mm3 = float(np.prod(spacing))
    remove_small_components(labels, settings.min_component_mm3 / voxel_mm3)
    return small_et_to_ncr(labels, settings.min_et_mm3 / voxel_mm3)
