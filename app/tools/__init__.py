"""Qt-free label editing tools, driven by toolkit-independent ToolEvents.

A slice view turns mouse events into ``ToolEvent(voxel, plane, modifiers, button)`` and forwards
them to the active tool's ``press``/``drag``/``release``; every tool edits a
:class:`app.state.label_layer.LabelLayer` in one undo step per stroke or operation, following the
shared :class:`PaintSettings` (active label, paint-over rule, intensity limit, radius, 2D/3D).
Whole-volume operations (morphology, interpolation) are plain functions.
"""

from app.tools.base import PAINT_OVER, IntensityLimit, PaintSettings, Tool
from app.tools.brush import BrushTool, EraserTool, capsule_mask
from app.tools.events import PLANE_AXIS, ToolEvent, in_plane_axes
from app.tools.flood_fill import FloodFillTool, flood_fill
from app.tools.interpolate import KeySliceRecorder, interpolate_slices
from app.tools.morphology import dilate, erode, fill_holes, remove_small_islands
from app.tools.polygon import PolygonTool, fill_polygon

__all__ = [
    "PAINT_OVER",
    "PLANE_AXIS",
    "BrushTool",
    "EraserTool",
    "FloodFillTool",
    "IntensityLimit",
    "KeySliceRecorder",
    "PaintSettings",
    "PolygonTool",
    "Tool",
    "ToolEvent",
    "capsule_mask",
    "dilate",
    "erode",
    "fill_holes",
    "fill_polygon",
    "flood_fill",
    "in_plane_axes",
    "interpolate_slices",
    "remove_small_islands",
]
