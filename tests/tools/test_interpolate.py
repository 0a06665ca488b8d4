"""Interpolation between edited slices: identical shapes copy, growing shapes morph, one undo step."""

from __future__ import annotations

import numpy as np
import pytest

from app.state.label_layer import LabelLayer
from app.tools.base import PaintSettings
from app.tools.brush import BrushTool
from app.tools.interpolate import KeySliceRecorder, interpolate_slices
from segmentation_core.labels import ED, ET, NCR
from tests.tools.fakes import stroke


def test_identical_squares_fill_every_slice_between() -> None:
    array = np.zeros((12, 12, 10), np.uint8)
    array[2:7, 2:7, 1] = ET
    array[2:7, 2:7, 5] = ET
    layer = LabelLayer(array)
    assert interpolate_slices(layer, "axial", ET) == 3 * 25
    expected = np.zeros_like(array)
    expected[2:7, 2:7, 1:6] = ET
    assert np.array_equal(layer.data, expected)
    assert layer.history.undo_names == ["Interpolate slices"]
    layer.undo()
    assert np.array_equal(layer.data, array)


def test_a_growing_square_morphs_by_blended_distances() -> None:
    # 3x3 on slice 1 and 7x7 on slice 5. A voxel in the 5x5 ring is 1 mm outside the small square
    # (signed distance +1) and 2 mm inside the big one (-2): blend 0.75*1 - 0.25*2 > 0 at slice 2,
    # 0.5*1 - 0.5*2 < 0 at slice 3. The 7x7 rim (+2, -1) joins at slice 4: 0.25*2 - 0.75*1 < 0.
    array = np.zeros((12, 12, 10), np.uint8)
    array[4:7, 4:7, 1] = NCR
    array[2:9, 2:9, 5] = NCR
    layer = LabelLayer(array)
    assert interpolate_slices(layer, "axial", NCR) == 9 + 25 + 49
    assert np.count_nonzero(layer.data == NCR, axis=(0, 1)).tolist() == [0, 9, 9, 25, 49, 49, 0, 0, 0, 0]


def test_explicit_key_slices_in_the_coronal_plane() -> None:
    array = np.zeros((10, 12, 10), np.uint8)
    for index in (0, 4, 9):  # coronal slices along axis 1
        array[2:5, index, 3:6] = ED
    layer = LabelLayer(array)
    assert interpolate_slices(layer, "coronal", ED, key_slices=[0, 4]) == 3 * 9
    assert np.count_nonzero(layer.data == ED, axis=(0, 2)).tolist() == [9] * 5 + [0] * 4 + [9] + [0] * 2


def test_interpolation_follows_the_paint_over_rule() -> None:
    array = np.zeros((12, 12, 10), np.uint8)
    array[2:7, 2:7, 1] = ET
    array[2:7, 2:7, 5] = ET
    array[2, 2:7, 3] = NCR  # one row of the middle slice is necrosis
    layer = LabelLayer(array)
    assert interpolate_slices(layer, "axial", ET, settings=PaintSettings(paint_over="background")) == 75 - 5
    assert np.count_nonzero(layer.data == NCR) == 5


def test_nothing_to_interpolate_and_bad_arguments() -> None:
    array = np.zeros((6, 6, 6), np.uint8)
    array[1:3, 1:3, 2] = ET
    array[1:3, 1:3, 3] = ET  # neighbouring slices: no gap
    layer = LabelLayer(array)
    assert interpolate_slices(layer, "axial", ET) == 0
    assert not layer.history.can_undo
    with pytest.raises(ValueError, match=r"key slices \[6\] are outside the volume \(6 axial slices\)"):
        interpolate_slices(layer, "axial", ET, key_slices=[2, 6])
    with pytest.raises(ValueError, match="label must be 1"):
        interpolate_slices(layer, "axial", 4)


def test_recorded_key_slices_of_2d_strokes_drive_the_interpolation() -> None:
    array = np.zeros((16, 16, 12), np.uint8)
    array[6:9, 6:9, :] = ET  # an AI result with ET on every slice
    layer = LabelLayer(array)
    recorder = KeySliceRecorder(layer)
    brush = BrushTool(layer, PaintSettings(label=NCR, radius_mm=2.0))
    stroke(brush, (4, 4, 2))  # the user draws NCR on axial slices 2 and 6 ...
    stroke(brush, (4, 4, 6))
    stroke(BrushTool(layer, PaintSettings(label=ED, radius_mm=1.0, sphere=True)), (12, 12, 9))  # 3D: no key
    layer.undo()
    layer.redo()
    assert recorder.slices("axial", NCR) == [2, 6]
    assert recorder.slices("axial", ED) == [] and recorder.slices("coronal", NCR) == []
    assert interpolate_slices(layer, "axial", NCR, recorder.slices("axial", NCR)) == 3 * 13
    assert np.count_nonzero(layer.data == NCR, axis=(0, 1)).tolist() == [0, 0] + [13] * 5 + [0] * 5
    recorder.clear()
    assert recorder.slices("axial", NCR) == []
    recorder.close()
    stroke(brush, (4, 4, 10))
    assert recorder.slices("axial", NCR) == []
