"""Small synthetic cases for the viewer's state, render and widget tests."""

from __future__ import annotations

import numpy as np

from segmentation_core.labels import ED, ET, NCR
from segmentation_core.types import SEQUENCES, Case, LabelMap, Volume

LPS = np.diag([-1.0, -1.0, 1.0, 1.0])


def ramp_case(shape: tuple[int, int, int] = (20, 16, 12), affine: np.ndarray | None = None) -> Case:
    """Sequence ``s`` (0..3) holds ``100 * s + i`` at voxel (i, j, k); labels: a block of ED around a
    block of NCR with one ET voxel, at known places."""
    affine = np.diag([1.0, 1.5, 2.0, 1.0]) if affine is None else affine
    i = np.arange(shape[0], dtype=np.float32)[:, None, None]
    channels = {
        name: Volume(np.asfortranarray(np.broadcast_to(100.0 * s + i, shape), dtype=np.float32), affine)
        for s, name in enumerate(SEQUENCES)
    }
    labels = np.zeros(shape, np.uint8)
    labels[4:10, 4:10, 4:8] = ED
    labels[6:8, 6:8, 5:7] = NCR
    labels[7, 7, 6] = ET
    return Case(channels, labels=LabelMap(Volume(labels, affine), "brats"), case_id="ramp")
