"""Helpers for tool tests: fake mouse events on small label layers."""

from __future__ import annotations

from app.tools.base import Tool
from app.tools.events import ToolEvent


def stroke(tool: Tool, *voxels: tuple[int, int, int], plane: str = "axial", button: str = "left") -> None:
    """Press at the first voxel, drag through the others, release at the last."""
    tool.press(ToolEvent(voxels[0], plane, button=button))
    for voxel in voxels[1:]:
        tool.drag(ToolEvent(voxel, plane, button=button))
    tool.release(ToolEvent(voxels[-1], plane, button=button))
