"""A raw study's co-registration, as the viewer shows it: every sequence on the case (reference) grid.

A raw study (skull on, thick oblique slices, sequences not aligned) opens on its reference sequence's
native grid. The other sequences are first placed there by their header geometry alone; after the AI
run's co-registration they are shown through the rigid transforms. This record keeps both, so the
"Check alignment" view can compare them, plus the brain mask, for the radiologist to verify. Qt-free.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class StudyAlignment:
    """Sequences of a raw study on the case grid (the reference's native grid), before and after registration.

    ``reference``: the sequence the case grid belongs to (e.g. "t1ce"). ``header_only``: each other
    sequence resampled by its header geometry only (float32, case shape). ``registered``: the same
    through the co-registration transform (empty until the pipeline ran). ``brain_mask``: bool, case
    shape, or None before brain extraction. ``transforms``: per sequence, a JSON-able description of
    the rigid transform (rotation in degrees, translation in mm, similarity), as written to the sidecar.
    """

    reference: str
    header_only: dict[str, np.ndarray] = field(default_factory=dict)
    registered: dict[str, np.ndarray] = field(default_factory=dict)
    brain_mask: np.ndarray | None = None
    transforms: dict[str, dict[str, object]] = field(default_factory=dict)

    @property
    def is_registered(self) -> bool:
        return bool(self.registered)
