"""Undo/redo fuzz: 1000 seeded random edits, undos and redos checked against full reference copies."""

from __future__ import annotations

import numpy as np

from app.state.edit_stats import EditTracker, pair_counts
from app.state.history import History
from app.state.label_layer import LabelLayer
from app.tools.base import PAINT_OVER, PaintSettings
from app.tools.brush import BrushTool, EraserTool
from app.tools.events import PLANE_AXIS
from app.tools.flood_fill import flood_fill
from app.tools.morphology import dilate, erode
from tests.tools.fakes import stroke

SHAPE = (20, 18, 14)
MAX_STEPS = 30


class Reference:
    """Full copies of every state: what undo and redo must reproduce."""

    def __init__(self, start: np.ndarray) -> None:
        self.states = [start.copy()]
        self.at = 0

    @property
    def current(self) -> np.ndarray:
        return self.states[self.at]

    def record(self, after: np.ndarray) -> None:
        if np.array_equal(after, self.current):
            return  # no change, no step
        del self.states[self.at + 1 :]
        self.states.append(after.copy())
        if len(self.states) > MAX_STEPS + 1:
            del self.states[0]
        self.at = len(self.states) - 1

    def undo(self) -> bool:
        if self.at == 0:
            return False
        self.at -= 1
        return True

    def redo(self) -> bool:
        if self.at == len(self.states) - 1:
            return False
        self.at += 1
        return True


def _random_edit(rng: np.random.Generator, layer: LabelLayer) -> None:
    settings = PaintSettings(
        label=int(rng.integers(1, 4)),
        paint_over=str(rng.choice(PAINT_OVER)),
        over_label=int(rng.integers(1, 4)),
        radius_mm=float(rng.uniform(0.5, 4.0)),
        sphere=bool(rng.random() < 0.5),
    )
    kind = rng.random()
    plane = str(rng.choice(list(PLANE_AXIS)))
    voxels = [tuple(int(v) for v in rng.integers(-2, np.array(SHAPE) + 2)) for _ in range(rng.integers(1, 5))]
    if kind < 0.6:
        stroke(BrushTool(layer, settings), *voxels, plane=plane, button=str(rng.choice(["left", "right"])))
    elif kind < 0.75:
        stroke(EraserTool(layer, settings), *voxels, plane=plane)
    elif kind < 0.85:
        flood_fill(layer, voxels[0], plane, settings.label, settings)
    elif kind < 0.9:
        dilate(layer, settings.label, settings.radius_mm, settings)
    elif kind < 0.95:
        erode(layer, settings.label, settings.radius_mm)
    else:
        layer.replace(rng.integers(0, 4, SHAPE, dtype=np.uint8) * (rng.random(SHAPE) < 0.2), "AI")


def test_thousand_random_operations_match_the_reference() -> None:
    rng = np.random.default_rng(20260523)
    start = (rng.random(SHAPE) < 0.05).astype(np.uint8) * 2
    layer = LabelLayer(start, spacing=(1.0, 1.5, 2.5), history=History(max_steps=MAX_STEPS))
    tracker = EditTracker(layer)
    reference = Reference(start)
    counts = {"edit": 0, "undo": 0, "redo": 0}
    for _ in range(1000):
        roll = rng.random()
        if roll < 0.55:
            _random_edit(rng, layer)
            reference.record(layer.data)
            counts["edit"] += 1
        elif roll < 0.8:
            assert (layer.undo() is not None) == reference.undo()
            counts["undo"] += 1
        else:
            assert (layer.redo() is not None) == reference.redo()
            counts["redo"] += 1
        assert np.array_equal(layer.data, reference.current)
        assert layer.history.can_undo == (reference.at > 0)
        assert layer.history.can_redo == (reference.at < len(reference.states) - 1)
        assert len(layer.history.steps) == len(reference.states) - 1
        assert np.array_equal(tracker.counts, pair_counts(start, layer.data))
    assert min(counts.values()) > 150  # every kind of operation was exercised
    stored = sum(
        c.packed_mask.nbytes + c.old.nbytes + c.new.nbytes for s in layer.history.steps for c in s.changes
    )
    assert layer.history.nbytes == stored
