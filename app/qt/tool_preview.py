"""What the slice views draw for the active editing tool: the brush's circle under the mouse and the
outline of a lasso or polygon while it is drawn. Built from the tool; drawn by ``SliceView``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from app.tools import BrushTool, PaintSettings, PolygonTool, Tool

Voxel = tuple[int, int, int]


@dataclass(frozen=True)
class ToolPreview:
    """``brush_radius_mm`` (when set) gives the radius of the circle under the mouse; ``outline`` (when
    set) gives the plane and vertices drawn so far; ``rubber_band`` adds a line from the last vertex to
    the mouse and back to the first (a polygon still open)."""

    brush_radius_mm: Callable[[], float] | None = None
    outline: Callable[[], tuple[str, list[Voxel]]] | None = None
    rubber_band: bool = False


def preview_for(tool: Tool | None, settings: PaintSettings) -> ToolPreview | None:
    """The preview of ``tool`` (None for tools that draw nothing while used, and for navigating)."""
    if isinstance(tool, BrushTool):  # the eraser is a brush too
        return ToolPreview(brush_radius_mm=lambda: settings.radius_mm)
    if isinstance(tool, PolygonTool):
        return ToolPreview(
            outline=lambda: (tool.plane, list(tool.vertices)), rubber_band=tool.mode == "polygon"
        )
    return None
