"""Flood fill in the slice: exact regions, 4-connectivity, rules, intensity limit, planes."""

from __future__ import annotations

import numpy as np

from app.state.label_layer import LabelLayer
from app.tools.base import IntensityLimit, PaintSettings
from app.tools.flood_fill import FloodFillTool, flood_fill
from segmentation_core.labels import ED, ET, NCR
from tests.tools.fakes import stroke


def _ring(axis: int = 2) -> LabelLayer:
    """12x12x12 with an ED square outline (rows/cols 3..9, 24 voxels) in slice 4 along ``axis``;
    the same outline sits in slice 5 too, so a fill that leaks out of its slice would show."""
    ring = np.zeros((12, 12), np.uint8)
    ring[3:10, 3:10] = ED
    ring[4:9, 4:9] = 0
    array = np.zeros((12, 12, 12), np.uint8)
    for index in (4, 5):
        box = [slice(None)] * 3
        box[axis] = index
        array[tuple(box)] = ring
    return LabelLayer(array)


def test_fill_inside_an_outline_stays_in_the_slice() -> None:
    layer = _ring()
    assert flood_fill(layer, (6, 6, 4), "axial", NCR) == 25
    assert np.count_nonzero(layer.data[:, :, 4] == NCR) == 25
    assert np.count_nonzero(layer.data[:, :, 5] == NCR) == 0
    assert layer.history.undo_names == ["Flood fill"]


def test_fill_outside_covers_the_rest_of_the_slice() -> None:
    layer = _ring()
    assert flood_fill(layer, (0, 0, 4), "axial", ET) == 144 - 49


def test_fill_does_not_leak_through_a_diagonal_gap() -> None:
    layer = _ring()
    array = layer.data.copy()
    array[3, 3, 4] = 0  # the outline's corner: its inside still only touches it diagonally
    layer = LabelLayer(array)
    assert flood_fill(layer, (6, 6, 4), "axial", NCR) == 25


def test_fill_on_a_label_recolours_its_connected_piece() -> None:
    layer = _ring()
    tool = FloodFillTool(layer, PaintSettings(label=ET))
    stroke(tool, (3, 5, 4))
    assert np.count_nonzero(layer.data[:, :, 4] == ET) == 24
    stroke(tool, (3, 5, 4), button="right")
    assert not np.any(layer.data[:, :, 4])
    assert layer.history.undo_names == ["Flood fill", "Flood fill"]


def test_fill_respects_the_paint_over_rule() -> None:
    layer = _ring()
    only_ed = PaintSettings(paint_over="label", over_label=ED)
    assert flood_fill(layer, (6, 6, 4), "axial", NCR, only_ed) == 0
    assert not layer.history.can_undo
    assert flood_fill(layer, (3, 3, 4), "axial", NCR, only_ed) == 24


def test_intensity_limit_bounds_the_fill() -> None:
    layer = _ring()
    flair = np.zeros((12, 12, 12), np.float32)
    flair[4:9, 4:7, :] = 100.0  # the left 5x3 part of the inside is bright
    settings = PaintSettings(intensity=IntensityLimit("flair", 50.0, 200.0))
    assert flood_fill(layer, (6, 5, 4), "axial", NCR, settings, {"flair": flair}) == 15
    assert flood_fill(layer, (6, 8, 4), "axial", NCR, settings, {"flair": flair}) == 0


def test_fill_in_coronal_and_sagittal_slices() -> None:
    assert flood_fill(_ring(axis=1), (6, 4, 6), "coronal", NCR) == 25
    assert flood_fill(_ring(axis=0), (4, 6, 6), "sagittal", NCR) == 25


def test_click_outside_the_volume_does_nothing() -> None:
    layer = _ring()
    assert flood_fill(layer, (12, 0, 0), "axial", NCR) == 0
    assert not layer.history.can_undo
