"""Label volumes in cm^3, computed exactly as the viewer's Volumes panel computes them."""

from __future__ import annotations

import numpy as np

from segmentation_core.labels import ET, LABEL_NAMES, REGIONS

MM3_PER_CM3 = 1000.0


def voxel_volume_cm3(spacing: tuple[float, float, float]) -> float:
    return float(np.prod(spacing)) / MM3_PER_CM3


def label_volumes_cm3(labels: np.ndarray, spacing: tuple[float, float, float]) -> dict[str, float]:
    """Volumes of NCR, ED, ET and the regions WT, TC of an internal label map, in cm^3.

    The same arithmetic as ``app.state.edit_stats.EditTracker.volumes_cm3`` (voxel counts times the
    voxel volume, regions as sums of their labels), so both give the same numbers to the last bit.
    """
    counts = np.bincount(np.asarray(labels, np.uint8).ravel(), minlength=ET + 1)[: ET + 1]
    per_label = counts.astype(np.int64) * voxel_volume_cm3(spacing)
    volumes = {name: float(per_label[label]) for label, name in LABEL_NAMES.items()}
    for region in ("WT", "TC"):
        volumes[region] = float(sum(per_label[label] for label in REGIONS[region]))
    return volumes
