"""Correction effort against a baseline (the AI result) and live label volumes, kept up to date per edit.

The tracker keeps a 4x4 table ``counts[b, c]``: voxels whose baseline label is ``b`` and current
label is ``c``. Each edit moves only its changed voxels between cells, so a brush stroke costs
microseconds, not a pass over the whole volume.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from psygnal import Signal

from app.state.label_layer import Edit, LabelLayer
from segmentation_core.labels import ET, LABEL_NAMES, REGIONS

N_LABELS = ET + 1
MM3_PER_CM3 = 1000.0


def _table(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    """4x4 counts of the (before, after) label pairs of two equally long value lists."""
    pairs = before.astype(np.intp) * N_LABELS + after
    return np.bincount(pairs, minlength=N_LABELS * N_LABELS).reshape(N_LABELS, N_LABELS).astype(np.int64)


def pair_counts(baseline: np.ndarray, current: np.ndarray) -> np.ndarray:
    """``counts[b, c]``: voxels with label ``b`` in ``baseline`` and ``c`` in ``current`` (int64 4x4)."""
    if baseline.shape != current.shape:
        raise ValueError(f"baseline shape {baseline.shape} differs from the labels' shape {current.shape}")
    differ = baseline != current
    counts = _table(baseline[differ], current[differ])
    for label in range(N_LABELS):
        counts[label, label] = np.count_nonzero(baseline == label) - counts[label].sum()
    return counts


@dataclass(frozen=True)
class EditStats:
    """Voxels added to and removed from each label (NCR, ED, ET) compared with the baseline."""

    added: dict[str, int]
    removed: dict[str, int]
    changed_voxels: int
    voxel_volume_cm3: float

    @classmethod
    def from_counts(cls, counts: np.ndarray, voxel_volume_cm3: float) -> EditStats:
        off = counts - np.diag(np.diag(counts))
        added = {name: int(off[:, label].sum()) for label, name in LABEL_NAMES.items()}
        removed = {name: int(off[label, :].sum()) for label, name in LABEL_NAMES.items()}
        return cls(added, removed, int(off.sum()), voxel_volume_cm3)

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form for the export sidecar."""
        return {
            "voxels_added": self.added,
            "voxels_removed": self.removed,
            "voxels_changed": self.changed_voxels,
            "cm3_changed": self.changed_voxels * self.voxel_volume_cm3,
        }


class EditTracker:
    """Follows a LabelLayer: correction effort vs a baseline and label volumes, updated on each edit."""

    changed = Signal()

    def __init__(self, layer: LabelLayer, baseline: np.ndarray | None = None) -> None:
        self.layer = layer
        self.voxel_volume_cm3 = float(np.prod(layer.spacing)) / MM3_PER_CM3
        self.set_baseline(layer.data if baseline is None else baseline)
        layer.edited.connect(self._on_edit)

    def set_baseline(self, baseline: np.ndarray) -> None:
        """Compare from now on with ``baseline`` (e.g. a new AI result); the array is copied."""
        baseline = np.asarray(baseline)
        self._baseline = np.array(baseline, dtype=np.uint8)
        self._counts = pair_counts(self._baseline, self.layer.data)
        self.changed.emit()

    @property
    def stats(self) -> EditStats:
        return EditStats.from_counts(self._counts, self.voxel_volume_cm3)

    @property
    def volumes_cm3(self) -> dict[str, float]:
        """Current volumes of NCR, ED, ET and the regions WT, TC in cm^3."""
        per_label = self._counts.sum(axis=0) * self.voxel_volume_cm3
        volumes = {name: float(per_label[label]) for label, name in LABEL_NAMES.items()}
        for region in ("WT", "TC"):
            volumes[region] = float(sum(per_label[label] for label in REGIONS[region]))
        return volumes

    @property
    def counts(self) -> np.ndarray:
        """A copy of the baseline-by-current voxel table."""
        return self._counts.copy()

    def close(self) -> None:
        """Stop following the layer."""
        self.layer.edited.disconnect(self._on_edit)

    def _on_edit(self, edit: Edit) -> None:
        base = self._baseline[edit.bbox][edit.mask]
        self._counts += _table(base, edit.new) - _table(base, edit.old)
        self.changed.emit()
