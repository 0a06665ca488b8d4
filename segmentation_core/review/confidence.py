"""A confidence map from the model's kept probabilities, and its low-confidence set.

Per voxel and region (WT, TC, ET) the uncertainty is ``1 - |2p - 1|``: 1 where the probability is
0.5, 0 where it is 0 or 1. With test-time augmentation the flips' disagreement (their probability
standard deviation, scaled so 1 means two flips at 0 and 1) counts too: the voxel's uncertainty is the
largest of these. Confidence is ``1 - uncertainty``. Everything is uint8 (255 = 1) and lives inside
the brain box the probabilities were kept in; outside it the model is certain of background.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from segmentation_core.types import PROBABILITY_SCALE, RegionProbabilities

#: Voxels whose uncertainty reaches this are "low confidence" (0.5: a probability in [0.25, 0.75]).
DEFAULT_UNCERTAINTY = 0.5


@dataclass(frozen=True, eq=False)
class ConfidenceMap:
    """uint8 confidence (255 = certain) inside ``box`` of a grid of ``case_shape``."""

    box: tuple[tuple[int, int], tuple[int, int], tuple[int, int]]
    case_shape: tuple[int, int, int]
    confidence: np.ndarray

    @classmethod
    def from_regions(cls, regions: RegionProbabilities) -> ConfidenceMap:
        """The confidence map of kept probabilities (and their TTA spread when there is one)."""
        # 1 - |2p - 1| = 2 min(p, 1 - p): uint8 arithmetic only (no float copies of the box)
        half = np.zeros(regions.probabilities.shape[1:], np.uint8)
        for channel in regions.probabilities:
            np.maximum(half, np.minimum(channel, PROBABILITY_SCALE - channel), out=half)
        uncertainty = np.left_shift(half, 1, out=half)
        if regions.spread is not None:
            np.maximum(uncertainty, regions.spread.max(axis=0), out=uncertainty)
        return cls(
            regions.box, regions.case_shape, np.subtract(PROBABILITY_SCALE, uncertainty, dtype=np.uint8)
        )

    @property
    def slices(self) -> tuple[slice, slice, slice]:
        return tuple(slice(start, stop) for start, stop in self.box)  # type: ignore[return-value]

    def full(self) -> np.ndarray:
        """uint8 confidence on the whole grid (255 outside the box), e.g. for a slice overlay."""
        out = np.full(self.case_shape, PROBABILITY_SCALE, np.uint8)
        out[self.slices] = self.confidence
        return out

    def low_in_box(self, uncertainty: float = DEFAULT_UNCERTAINTY) -> np.ndarray:
        """Boolean mask (box-sized) of voxels whose uncertainty is at least ``uncertainty`` (0..1)."""
        return self.confidence <= threshold_value(uncertainty)

    def low(self, uncertainty: float = DEFAULT_UNCERTAINTY) -> np.ndarray:
        """Boolean mask (whole grid) of the low-confidence voxels."""
        out = np.zeros(self.case_shape, bool)
        out[self.slices] = self.low_in_box(uncertainty)
        return out


def threshold_value(uncertainty: float) -> int:
    """The largest uint8 confidence that counts as low for an uncertainty threshold in (0, 1]."""
    if not 0.0 < uncertainty <= 1.0:
        raise ValueError(f"the uncertainty threshold must be in (0, 1], got {uncertainty}")
    return int(np.floor((1.0 - uncertainty) * PROBABILITY_SCALE + 1e-9))
