"""Step 5, back to the study: model-grid probabilities -> the reference's native grid -> labels.

The probabilities are resampled (linear) onto the native grid and thresholded there; resampling a 1 mm
label map with nearest neighbour onto 5 mm slices would pick one thin sheet of each thick voxel instead.
Labels are shown on any other sequence through its transform the same way.
"""

from __future__ import annotations

import numpy as np

from segmentation_core.inference.postprocess import Postprocessing, clean_up, regions_to_labels
from segmentation_core.raw.resampling import Grid, resample
from segmentation_core.types import CleanUp, Volume


def probabilities_onto(
    probabilities: np.ndarray, source_affine: np.ndarray, grid: Grid, transform: np.ndarray | None = None
) -> np.ndarray:
    """(K, x, y, z) maps on the grid ``source_affine`` -> (K, *grid shape) float32 on ``grid``.

    ``transform``: 4x4 RAS ``grid``-world -> source-world (None: both grids share one world).
    Outside the source grid the maps are 0.
    """
    out = np.zeros((probabilities.shape[0], *grid[0]), dtype=np.float32)
    for k, channel in enumerate(probabilities):
        out[k] = resample(Volume(np.asarray(channel, dtype=np.float32), source_affine), grid, transform)
    return out


def labels_from_probabilities(
    probabilities: np.ndarray, spacing: tuple[float, float, float], settings: Postprocessing
) -> tuple[np.ndarray, CleanUp]:
    """(3, X, Y, Z) WT/TC/ET probabilities -> (uint8 internal labels cleaned up at this grid's ``spacing``,
    what the clean-up removed)."""
    return clean_up(regions_to_labels(probabilities), spacing, settings)


def labels_onto(
    labels: np.ndarray, source_affine: np.ndarray, grid: Grid, transform: np.ndarray | None = None
) -> np.ndarray:
    """An internal label map moved onto ``grid`` through one-hot linear resampling (argmax per voxel).

    Used to show labels on another sequence's native grid: each label's indicator is resampled
    and the voxel takes the label with the largest share (background wins ties).
    """
    values = np.arange(int(labels.max()) + 1 if labels.size else 1)
    shares = probabilities_onto(
        np.stack([labels == v for v in values]).astype(np.float32), source_affine, grid, transform
    )
    shares[0] += 1e-6
    return np.argmax(shares, axis=0).astype(np.uint8)
