"""Morphology on one label: islands, holes, dilation and erosion with mm radii; one undo step each."""

from __future__ import annotations

import numpy as np
import pytest

from app.state.label_layer import LabelLayer
from app.tools.base import PaintSettings
from app.tools.morphology import ball, dilate, erode, fill_holes, remove_small_islands
from segmentation_core.labels import ED, ET, NCR


def _empty() -> np.ndarray:
    return np.zeros((16, 16, 16), np.uint8)


def test_remove_small_islands_of_one_label() -> None:
    array = _empty()
    array[1, 1, 1] = NCR  # 1 voxel
    array[4:6, 4:6, 4:6] = NCR  # 8 voxels
    array[10:13, 10:13, 10:13] = NCR  # 27 voxels
    array[1, 1, 2] = ED  # another label next to the single voxel: not part of its island
    layer = LabelLayer(array)
    assert remove_small_islands(layer, min_voxels=8, label=NCR) == 1
    assert np.count_nonzero(layer.data == NCR) == 35 and layer.data[1, 1, 2] == ED
    assert remove_small_islands(layer, min_voxels=9, label=NCR) == 8
    assert layer.history.undo_names == ["Remove small islands", "Remove small islands"]
    layer.undo()
    layer.undo()
    assert np.array_equal(layer.data, array)


def test_whole_tumour_islands_count_every_label_and_corner_contacts() -> None:
    array = _empty()
    array[1, 1, 1] = NCR
    array[1, 1, 2] = ET  # NCR + ET: one 2-voxel tumour island
    array[5, 5, 5] = ED
    array[6, 6, 6] = ED  # touches (5, 5, 5) only at a corner: 26-connected, one island of 2
    array[10, 10, 10] = ET  # alone
    layer = LabelLayer(array)
    assert remove_small_islands(layer, min_voxels=2) == 1
    assert layer.data[10, 10, 10] == 0 and np.count_nonzero(layer.data) == 4


def test_fill_holes_fills_enclosed_voxels_under_the_rule() -> None:
    array = _empty()
    array[2:7, 2:7, 2:7] = ET  # 5^3 shell around a 3^3 cavity
    array[3:6, 3:6, 3:6] = 0
    array[4, 4, 4] = NCR
    everything = LabelLayer(array)
    assert fill_holes(everything, ET) == 27
    assert np.count_nonzero(everything.data == ET) == 125
    background_only = LabelLayer(array)
    assert fill_holes(background_only, ET, PaintSettings(paint_over="background")) == 26
    assert background_only.data[4, 4, 4] == NCR
    assert background_only.history.undo_names == ["Fill holes"]


def test_fill_holes_in_slices_fills_a_ring_that_3d_leaves_open() -> None:
    array = _empty()
    array[3:10, 3:10, 6] = ED  # a 7x7 square outline on axial slice 6 ...
    array[4:9, 4:9, 6] = 0
    array[3:10, 6, 2:4] = ED  # ... and a 7x2 bar on coronal slice 6: no hole in any slice
    layer = LabelLayer(array)
    assert fill_holes(layer, ED) == 0  # open in 3D
    assert fill_holes(layer, ED, plane="coronal") == 0  # the ring is a line in coronal slices
    assert fill_holes(layer, ED, plane="axial") == 25
    assert np.count_nonzero(layer.data[:, :, 6] == ED) == 49
    assert layer.history.undo_names == ["Fill holes"]


def test_dilate_with_an_mm_radius_on_an_anisotropic_grid() -> None:
    array = _empty()
    array[8, 8, 8] = ET
    layer = LabelLayer(array, spacing=(1.0, 1.0, 3.0))
    assert dilate(layer, ET, radius_mm=3.0) == 30  # the 31-voxel ball of r = 3 mm, minus the seed
    assert np.count_nonzero(layer.data[:, :, 8] == ET) == 29
    assert layer.history.undo_names == ["Dilate"]
    iso = LabelLayer(array)
    assert dilate(iso, ET, radius_mm=1.0) == 6


def test_dilate_respects_the_paint_over_rule() -> None:
    array = _empty()
    array[8, 8, 8] = ET
    array[9, 8, 8] = ED
    layer = LabelLayer(array)
    assert dilate(layer, ET, radius_mm=1.0, settings=PaintSettings(paint_over="background")) == 5
    assert layer.data[9, 8, 8] == ED


def test_erode_removes_the_outer_shell() -> None:
    array = _empty()
    array[3:8, 3:8, 3:8] = NCR
    layer = LabelLayer(array)
    assert erode(layer, NCR, radius_mm=1.0) == 125 - 27
    assert np.count_nonzero(layer.data[4:7, 4:7, 4:7] == NCR) == 27
    assert layer.history.undo_names == ["Erode"]
    # Spacing (1, 1, 3): a 1 mm ball reaches no neighbour along axis 2, so only in-plane rims go.
    thick = LabelLayer(array, spacing=(1.0, 1.0, 3.0))
    assert erode(thick, NCR, radius_mm=1.0) == 125 - 9 * 5


def test_ball_counts() -> None:
    assert int(ball(3.0, (1.0, 1.0, 3.0)).sum()) == 31
    assert int(ball(1.0, (1.0, 1.0, 1.0)).sum()) == 7
    assert int(ball(0.5, (1.0, 1.0, 1.0)).sum()) == 1


def test_empty_label_and_bad_label() -> None:
    layer = LabelLayer(_empty())
    assert fill_holes(layer, NCR) == 0 and dilate(layer, ED, 2.0) == 0 and erode(layer, ET, 1.0) == 0
    assert remove_small_islands(layer, 5) == 0
    assert not layer.history.can_undo
    with pytest.raises(ValueError, match=r"label must be 1 \(NCR\), 2 \(ED\) or 3 \(ET\), got 0"):
        dilate(layer, 0, 1.0)
