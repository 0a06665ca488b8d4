"""Memory of the undo history: 100 brush strokes on a full-size 240x240x155 case stay under 50 MB."""

from __future__ import annotations

import numpy as np

from app.state.label_layer import LabelLayer
from app.tools.base import PaintSettings
from app.tools.brush import BrushTool
from segmentation_core.labels import ED, ET, NCR
from tests.tools.fakes import stroke

SHAPE = (240, 240, 155)
LIMIT_BYTES = 50 * 1024 * 1024


def synthetic_tumour(shape: tuple[int, int, int] = SHAPE) -> np.ndarray:
    """Nested balls around the centre: ED (r 40), NCR (r 25), ET shell (r 15-20)."""
    grid = np.ogrid[tuple(slice(0, n) for n in shape)]
    r2 = sum((g - n // 2) ** 2 for g, n in zip(grid, shape))
    labels = np.zeros(shape, np.uint8)
    labels[r2 <= 40**2] = ED
    labels[r2 <= 25**2] = NCR
    labels[(r2 <= 20**2) & (r2 >= 15**2)] = ET
    return labels


def test_hundred_strokes_are_kept_in_under_50_mb_and_undo_exactly() -> None:
    start = synthetic_tumour()
    layer = LabelLayer(start)
    rng = np.random.default_rng(7)
    for i in range(100):
        settings = PaintSettings(label=int(rng.integers(1, 4)), radius_mm=8.0, sphere=i % 2 == 0)
        centre = rng.integers((80, 80, 40), (160, 160, 115))
        path = [tuple(int(c) for c in centre + rng.integers(-30, 31, 3) * k // 10) for k in range(10)]
        stroke(BrushTool(layer, settings), *path)
    history = layer.history
    assert len(history.undo_names) == 100  # the default cap keeps at least 100 steps
    stored = sum(c.packed_mask.nbytes + c.old.nbytes + c.new.nbytes for s in history.steps for c in s.changes)
    assert history.nbytes == stored
    assert 0 < history.nbytes <= LIMIT_BYTES
    for _ in range(100):
        layer.undo()
    assert np.array_equal(layer.data, start)
    assert len(history.redo_names) == 100 and history.nbytes == stored
