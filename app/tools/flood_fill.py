"""Flood fill in the slice: the 4-connected region of the clicked label that the settings may paint."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from app.state.label_layer import LabelLayer, full_bbox
from app.tools.base import PaintSettings, Tool
from app.tools.events import ToolEvent, plane_axis


def slice_box(shape: tuple[int, int, int], axis: int, index: int) -> tuple[slice, slice, slice]:
    """The box of one slice ``index`` along ``axis``."""
    if not 0 <= index < shape[axis]:
        raise ValueError(f"slice {index} is outside the volume (axis {axis} has {shape[axis]} slices)")
    box = list(full_bbox(shape))
    box[axis] = slice(index, index + 1)
    return tuple(box)  # type: ignore[return-value]


def flood_fill(
    layer: LabelLayer,
    voxel: tuple[int, int, int],
    plane: str,
    value: int,
    settings: PaintSettings | None = None,
    images: Mapping[str, np.ndarray] | None = None,
) -> int:
    """Fill with ``value`` the region around ``voxel`` in its ``plane`` slice (one undo step).

    The region holds the voxels 4-connected to ``voxel`` in the slice that have its label and that
    the paint-over rule and intensity limit allow (so the fill stops where the intensity leaves the
    range). Returns the number of voxels changed; 0 when the clicked voxel may not be painted.
    """
    from skimage.segmentation import flood  # imported on first use: keeps the window's start fast

    settings = settings if settings is not None else PaintSettings()
    if any(not 0 <= v < n for v, n in zip(voxel, layer.shape)):
        return 0
    axis = plane_axis(plane)
    bbox = slice_box(layer.shape, axis, voxel[axis])
    current = layer.data[bbox]
    candidate = (
        current == current[tuple(0 if a == axis else voxel[a] for a in range(3))]
    ) & settings.editable(current, value, bbox, images)
    seed = tuple(voxel[a] for a in range(3) if a != axis)
    plane2d = np.squeeze(candidate, axis=axis)
    if not plane2d[seed]:
        return 0
    region = flood(plane2d.view(np.uint8), seed, connectivity=1)
    with layer.stroke("Flood fill"):
        return layer.apply(bbox, np.expand_dims(region, axis), value)


class FloodFillTool(Tool):
    """A click fills the clicked region in the slice with the active label (right button: erase)."""

    name = "Flood fill"

    def press(self, event: ToolEvent) -> None:
        flood_fill(self.layer, event.voxel, event.plane, self.value_for(event), self.settings, self.images)
