"""Polygon and lasso fill: exact rasterised areas in each plane, one undo step, rules."""

from __future__ import annotations

import numpy as np
import pytest

from app.state.label_layer import LabelLayer
from app.tools.base import PaintSettings
from app.tools.events import ToolEvent
from app.tools.polygon import PolygonTool, fill_polygon
from segmentation_core.labels import ED, ET, NCR
from tests.tools.fakes import stroke


def _layer() -> LabelLayer:
    return LabelLayer(np.zeros((12, 12, 12), np.uint8))


def test_square_fills_its_inside_and_outline() -> None:
    layer = _layer()
    square = [(2, 2, 7), (2, 6, 7), (6, 6, 7), (6, 2, 7)]
    assert fill_polygon(layer, "axial", 7, square, ET) == 25  # rows and columns 2..6
    assert np.count_nonzero(layer.data[2:7, 2:7, 7] == ET) == 25
    assert layer.history.undo_names == ["Polygon"]


def test_triangle_includes_its_diagonal_edge() -> None:
    layer = _layer()
    # Vertices (0,0), (0,4), (4,0): the voxels with r + c <= 4 -> 5 + 4 + 3 + 2 + 1.
    assert fill_polygon(layer, "axial", 3, [(0, 0, 3), (0, 4, 3), (4, 0, 3)], NCR) == 15
    rows, cols = np.nonzero(layer.data[:, :, 3])
    assert np.all(rows + cols <= 4)


def test_planes_map_vertices_to_their_in_plane_axes() -> None:
    coronal = _layer()
    # Coronal slices hold axes (0, 2): rows 1..3, columns (axis 2) 5..9.
    fill_polygon(coronal, "coronal", 4, [(1, 4, 5), (1, 4, 9), (3, 4, 9), (3, 4, 5)], ED)
    assert np.array_equal(np.argwhere(coronal.data)[[0, -1]], [[1, 4, 5], [3, 4, 9]])
    assert np.count_nonzero(coronal.data) == 15
    sagittal = _layer()
    fill_polygon(sagittal, "sagittal", 8, [(8, 0, 0), (8, 0, 1), (8, 1, 1), (8, 1, 0)], ED)
    assert np.argwhere(sagittal.data).tolist() == [[8, 0, 0], [8, 0, 1], [8, 1, 0], [8, 1, 1]]


def test_lasso_is_one_step_from_press_drag_release() -> None:
    layer = _layer()
    tool = PolygonTool(layer, PaintSettings(label=ED))
    stroke(tool, (2, 2, 5), (2, 4, 5), (2, 6, 5), (6, 6, 5), (6, 2, 5))
    assert np.count_nonzero(layer.data == ED) == 25
    assert layer.history.undo_names == ["Lasso"] and tool.vertices == []


def test_polygon_mode_adds_vertices_until_finish() -> None:
    layer = _layer()
    tool = PolygonTool(layer, PaintSettings(label=NCR), mode="polygon")
    for voxel in ((2, 2, 5), (2, 6, 5), (6, 6, 5)):
        tool.press(ToolEvent(voxel))
        tool.release(ToolEvent(voxel))
    assert len(tool.vertices) == 3 and not np.any(layer.data)
    tool.press(ToolEvent((6, 2, 5)))
    assert tool.finish() == 25
    assert layer.history.undo_names == ["Polygon"]
    tool.press(ToolEvent((1, 1, 5)))
    tool.cancel()
    assert tool.finish() == 0 and layer.history.undo_names == ["Polygon"]


def test_polygon_follows_the_paint_over_rule() -> None:
    array = np.zeros((12, 12, 12), np.uint8)
    array[2:4, :, 7] = ED  # rows 2..3 are edema
    layer = LabelLayer(array)
    square = [(2, 2, 7), (2, 6, 7), (6, 6, 7), (6, 2, 7)]
    assert fill_polygon(layer, "axial", 7, square, ET, PaintSettings(paint_over="background")) == 15


def test_bad_polygons_are_refused() -> None:
    with pytest.raises(ValueError, match="at least 3 vertices, got 2"):
        fill_polygon(_layer(), "axial", 0, [(0, 0, 0), (1, 1, 0)], NCR)
    with pytest.raises(ValueError, match="slice 12 is outside the volume"):
        fill_polygon(_layer(), "axial", 12, [(0, 0, 12), (0, 3, 12), (3, 3, 12)], NCR)
    with pytest.raises(ValueError, match="mode must be 'lasso' or 'polygon'"):
        PolygonTool(_layer(), mode="spline")


def test_a_click_in_another_view_starts_a_new_polygon() -> None:
    layer = _layer()
    tool = PolygonTool(layer, mode="polygon")
    tool.press(ToolEvent((2, 2, 5), "axial"))
    tool.press(ToolEvent((2, 6, 5), "axial"))
    tool.press(ToolEvent((3, 3, 3), "coronal"))
    assert tool.vertices == [(3, 3, 3)]
