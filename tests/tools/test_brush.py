"""Brush and eraser on fake events: exact voxel counts, mm radii on anisotropic grids, paint-over rules,
the intensity-limited brush, gap-free drags, one undo step per stroke."""

from __future__ import annotations

import numpy as np
import pytest

from app.state.label_layer import LabelLayer
from app.tools.base import IntensityLimit, PaintSettings
from app.tools.brush import BrushTool, EraserTool
from app.tools.events import ToolEvent, in_plane_axes
from segmentation_core.labels import ED, ET, NCR
from tests.tools.fakes import stroke


def _layer(spacing: tuple[float, float, float] = (1.0, 1.0, 1.0), shape=(24, 24, 16)) -> LabelLayer:
    return LabelLayer(np.zeros(shape, np.uint8), spacing)


# Lattice points (i, j) with i^2 + j^2 <= 9 (Gauss circle problem, r = 3): rows |i| = 0..3 hold
# 7, 5, 5, 1 points -> 7 + 2 * (5 + 5 + 1) = 29.
CIRCLE_R3 = 29


def test_sphere_radius_in_mm_on_an_anisotropic_grid() -> None:
    # spacing (1, 1, 3), r = 3 mm: k = 0 gives the 29-point circle, k = +-1 (3 mm away) only the axis voxel.
    layer = _layer((1.0, 1.0, 3.0))
    stroke(BrushTool(layer, PaintSettings(label=ET, radius_mm=3.0, sphere=True)), (10, 10, 8))
    assert np.count_nonzero(layer.data == ET) == CIRCLE_R3 + 2
    assert np.count_nonzero(layer.data[:, :, 7]) == 1 and np.count_nonzero(layer.data[:, :, 9]) == 1
    assert layer.history.undo_names == ["Brush"]


@pytest.mark.parametrize(
    ("plane", "expected"),
    [
        ("axial", CIRCLE_R3),  # in-plane spacing (1, 1): the full circle
        ("coronal", 9),  # axes (0, 2), spacing (1, 3): i^2 + 9 k^2 <= 9 -> 7 + 1 + 1
        ("sagittal", 9),  # axes (1, 2), spacing (1, 3): same
    ],
)
def test_disc_in_each_plane_uses_the_in_plane_spacing(plane: str, expected: int) -> None:
    layer = _layer((1.0, 1.0, 3.0))
    stroke(BrushTool(layer, PaintSettings(radius_mm=3.0)), (10, 10, 8), plane=plane)
    painted = np.nonzero(layer.data)
    assert len(painted[0]) == expected
    fixed = ({0, 1, 2} - set(in_plane_axes(plane))).pop()
    assert set(painted[fixed].tolist()) == {(10, 10, 8)[fixed]}  # all in the clicked slice


def test_tiny_radius_paints_the_clicked_voxel_and_edges_clip() -> None:
    layer = _layer()
    stroke(BrushTool(layer, PaintSettings(radius_mm=0.4)), (5, 5, 5))
    assert np.count_nonzero(layer.data) == 1 and layer.data[5, 5, 5] == NCR
    corner = _layer()
    stroke(BrushTool(corner, PaintSettings(radius_mm=1.0, sphere=True)), (0, 0, 0))
    assert np.count_nonzero(corner.data) == 4  # the 7-voxel cross, clipped to the volume
    outside = _layer()
    stroke(BrushTool(outside, PaintSettings(radius_mm=1.0)), (-5, 3, 3))
    assert not outside.history.can_undo


def test_a_fast_drag_leaves_no_gaps() -> None:
    layer = _layer()
    stroke(BrushTool(layer, PaintSettings(radius_mm=1.0)), (2, 2, 4), (17, 17, 4))
    # Capsule around the diagonal: |i - j| <= 1 within the segment (16 + 15 + 15) plus the two
    # voxels 1 mm beyond each end cap, (1, 2), (2, 1), (18, 17), (17, 18).
    assert np.count_nonzero(layer.data) == 16 + 15 + 15 + 4
    assert all(layer.data[i, i, 4] == NCR for i in range(2, 18))
    assert layer.history.undo_names == ["Brush"]


def test_a_drag_along_an_axis_paints_the_exact_capsule() -> None:
    layer = _layer()
    stroke(BrushTool(layer, PaintSettings(radius_mm=1.0)), (10, 5, 3), (10, 8, 3), (10, 15, 3))
    # Three rows of 11 voxels (i = 9, 10, 11 for j = 5..15) plus one voxel beyond each end.
    assert np.count_nonzero(layer.data) == 3 * 11 + 2


def test_a_2d_stroke_stays_in_its_slice() -> None:
    layer = _layer()
    tool = BrushTool(layer, PaintSettings(radius_mm=1.0))
    tool.press(ToolEvent((10, 10, 3), "axial"))
    tool.drag(ToolEvent((10, 12, 6), "axial"))  # a view that moved on still paints slice 3
    tool.release(ToolEvent((10, 12, 6), "axial"))
    assert set(np.nonzero(layer.data)[2].tolist()) == {3}
    assert np.count_nonzero(layer.data) == 3 * 3 + 2


def test_one_stroke_is_one_undo_step() -> None:
    layer = _layer()
    tool = BrushTool(layer, PaintSettings(radius_mm=2.0, sphere=True))
    stroke(tool, (5, 5, 5), (8, 8, 8), (12, 6, 9))
    stroke(tool, (15, 15, 10), (18, 15, 10))
    assert layer.history.undo_names == ["Brush", "Brush"]
    layer.undo()
    layer.undo()
    assert not np.any(layer.data)


def _ring_layer() -> LabelLayer:
    """A 24x24x16 map with ED in rows 0..9 and ET in rows 10..11 of slice 5."""
    array = np.zeros((24, 24, 16), np.uint8)
    array[0:10, :, 5] = ED
    array[10:12, :, 5] = ET
    return LabelLayer(array)


def test_paint_over_rules() -> None:
    # Disc r = 3 at (10, 10): its rows i = 7..13 hold 1, 5, 5, 7, 5, 5, 1 voxels.
    # Rows 7..9 are ED (1 + 5 + 5 = 11), rows 10..11 ET (7 + 5 = 12), rows 12..13 background (5 + 1 = 6).
    for over, label, expected_ncr in (("everything", ED, 29), ("background", ED, 6), ("label", ED, 11)):
        layer = _ring_layer()
        settings = PaintSettings(label=NCR, radius_mm=3.0, paint_over=over, over_label=label)
        stroke(BrushTool(layer, settings), (10, 10, 5))
        assert np.count_nonzero(layer.data == NCR) == expected_ncr, over
    only_et = _ring_layer()
    stroke(BrushTool(only_et, PaintSettings(radius_mm=3.0, paint_over="label", over_label=ET)), (10, 10, 5))
    assert np.count_nonzero(only_et.data == NCR) == 12


def test_eraser_and_right_button() -> None:
    layer = _ring_layer()
    stroke(EraserTool(layer, PaintSettings(radius_mm=3.0)), (10, 10, 5))
    # 288 labelled voxels (24 x 10 ED + 24 x 2 ET); the disc covers 11 ED and 12 ET of them.
    assert np.count_nonzero(layer.data) == 288 - 23
    assert layer.history.undo_names == ["Eraser"]
    only_et = _ring_layer()
    stroke(EraserTool(only_et, PaintSettings(radius_mm=3.0, paint_over="label", over_label=ET)), (10, 10, 5))
    assert np.count_nonzero(only_et.data == ET) == 48 - 12 and np.count_nonzero(only_et.data == ED) == 240
    background_rule = _ring_layer()  # erasing "only background" would do nothing: it erases all labels
    stroke(EraserTool(background_rule, PaintSettings(radius_mm=3.0, paint_over="background")), (10, 10, 5))
    assert np.count_nonzero(background_rule.data) == 288 - 23
    right = _ring_layer()
    stroke(BrushTool(right, PaintSettings(radius_mm=3.0)), (10, 10, 5), button="right")
    assert np.count_nonzero(right.data) == 288 - 23 and right.history.undo_names == ["Eraser"]


def test_intensity_limited_brush_paints_only_inside_the_range() -> None:
    layer = _layer()
    t1ce = np.broadcast_to(np.arange(24, dtype=np.float32)[:, None, None], (24, 24, 16))  # value = row
    settings = PaintSettings(label=ET, radius_mm=3.0, intensity=IntensityLimit("t1ce", 8.0, 11.0))
    stroke(BrushTool(layer, settings, images={"t1ce": t1ce}), (10, 10, 5))
    # Rows 8..11 of the r = 3 disc at row 10: 5 + 5 + 7 + 5.
    assert np.count_nonzero(layer.data == ET) == 22
    assert set(np.nonzero(layer.data)[0].tolist()) == {8, 9, 10, 11}


def test_intensity_limit_without_its_sequence_is_a_clear_error() -> None:
    layer = _layer()
    settings = PaintSettings(intensity=IntensityLimit("t1ce", 0.0, 1.0))
    with pytest.raises(ValueError, match=r"needs sequence 't1ce', but the case has \['flair'\]"):
        BrushTool(layer, settings, images={"flair": np.zeros((24, 24, 16))}).press(ToolEvent((1, 1, 1)))


def test_settings_refuse_bad_values_and_signal_changes() -> None:
    settings = PaintSettings()
    seen = []
    settings.events.radius_mm.connect(seen.append)
    settings.radius_mm = 5.0
    assert seen == [5.0]
    with pytest.raises(ValueError, match="label must be a tumour label 1"):
        settings.label = 0
    with pytest.raises(ValueError, match="paint_over must be one of"):
        settings.paint_over = "visible"
    with pytest.raises(ValueError, match="brush radius must be positive"):
        PaintSettings(radius_mm=0)
    with pytest.raises(ValueError, match="intensity range of 't1ce' is empty"):
        IntensityLimit("t1ce", 5.0, 1.0)


def test_events_check_their_plane() -> None:
    event = ToolEvent((1, 2, 3), "coronal", frozenset({"Shift"}))
    assert event.axis == 1 and event.slice_index == 2 and event.modifiers == {"shift"}
    assert in_plane_axes("axial") == (0, 1) and in_plane_axes("sagittal") == (1, 2)
    with pytest.raises(ValueError, match="unknown plane 'oblique'"):
        ToolEvent((0, 0, 0), "oblique")


def test_a_lost_release_closes_the_previous_stroke() -> None:
    layer = _layer()
    tool = BrushTool(layer, PaintSettings(radius_mm=0.5))
    tool.press(ToolEvent((1, 1, 1)))
    tool.press(ToolEvent((5, 5, 5)))  # no release in between
    tool.release(ToolEvent((5, 5, 5)))
    tool.drag(ToolEvent((6, 6, 6)))  # a drag without a press paints nothing
    assert layer.history.undo_names == ["Brush", "Brush"] and not layer.in_stroke
    assert np.count_nonzero(layer.data) == 2
