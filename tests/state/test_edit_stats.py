"""Correction effort against the AI result and live volumes, followed edit by edit."""

from __future__ import annotations

import numpy as np
import pytest

from app.state.edit_stats import EditStats, EditTracker, pair_counts
from app.state.label_layer import LabelLayer
from segmentation_core.labels import ED, ET, NCR


def _box(*bounds: tuple[int, int]) -> tuple[slice, slice, slice]:
    return tuple(slice(a, b) for a, b in bounds)  # type: ignore[return-value]


def test_pair_counts_table() -> None:
    baseline = np.array([0, 0, 1, 1, 2, 3, 3], np.uint8).reshape(1, 1, 7)
    current = np.array([0, 1, 1, 2, 2, 0, 3], np.uint8).reshape(1, 1, 7)
    counts = pair_counts(baseline, current)
    expected = np.zeros((4, 4), np.int64)
    for b, c in [(0, 0), (0, 1), (1, 1), (1, 2), (2, 2), (3, 0), (3, 3)]:
        expected[b, c] += 1
    assert np.array_equal(counts, expected)
    stats = EditStats.from_counts(counts, 0.001)
    assert stats.added == {"NCR": 1, "ED": 1, "ET": 0}
    assert stats.removed == {"NCR": 1, "ED": 0, "ET": 1}
    assert stats.changed_voxels == 3
    assert stats.to_dict() == {
        "voxels_added": {"NCR": 1, "ED": 1, "ET": 0},
        "voxels_removed": {"NCR": 1, "ED": 0, "ET": 1},
        "voxels_changed": 3,
        "cm3_changed": 0.003,
    }
    with pytest.raises(ValueError, match=r"baseline shape \(1, 1, 6\) differs"):
        pair_counts(baseline[..., :6], current)


def test_tracker_follows_strokes_undo_and_a_new_baseline() -> None:
    ai = np.zeros((10, 10, 10), np.uint8)
    ai[2:6, 2:6, 2:6] = ED  # 64 ED
    ai[3:5, 3:5, 3:5] = ET  # 8 of them ET
    layer = LabelLayer(ai, spacing=(1.0, 1.0, 2.0))
    tracker = EditTracker(layer)
    updates = []
    tracker.changed.connect(lambda: updates.append(1))
    assert tracker.stats.changed_voxels == 0
    assert tracker.volumes_cm3 == {
        "NCR": 0.0,
        "ED": 56 * 0.002,
        "ET": 8 * 0.002,
        "WT": 64 * 0.002,
        "TC": 0.016,
    }
    layer.apply(_box((3, 5), (3, 5), (3, 5)), np.ones((2, 2, 2), bool), NCR)  # ET -> NCR
    layer.apply(_box((0, 1), (0, 1), (0, 3)), np.ones((1, 1, 3), bool), ED)  # 3 new ED
    stats = tracker.stats
    assert stats.added == {"NCR": 8, "ED": 3, "ET": 0}
    assert stats.removed == {"NCR": 0, "ED": 0, "ET": 8}
    assert tracker.volumes_cm3["TC"] == pytest.approx(8 * 0.002)
    layer.undo()
    assert tracker.stats.added == {"NCR": 8, "ED": 0, "ET": 0}
    assert np.array_equal(tracker.counts, pair_counts(ai, layer.data))
    tracker.set_baseline(layer.data)  # e.g. a new AI result
    assert tracker.stats.changed_voxels == 0
    assert len(updates) == 4
    tracker.close()
    layer.undo()
    assert tracker.stats.changed_voxels == 0  # no longer following


def test_tracker_follows_a_replace() -> None:
    layer = LabelLayer(np.zeros((4, 4, 4), np.uint8))
    tracker = EditTracker(layer)
    ai = np.zeros((4, 4, 4), np.uint8)
    ai[0] = ET
    layer.replace(ai, "AI segmentation (model v1)")
    assert tracker.stats.added == {"NCR": 0, "ED": 0, "ET": 16}
    tracker.set_baseline(ai)
    layer.undo()
    assert tracker.stats.removed == {"NCR": 0, "ED": 0, "ET": 16}
    assert tracker.volumes_cm3["WT"] == 0.0
