"""Polygon and lasso fill in a slice (scikit-image rasterises the outline and its inside)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from app.state.label_layer import LabelLayer
from app.tools.base import PaintSettings, Tool
from app.tools.events import ToolEvent, in_plane_axes, plane_axis
from app.tools.flood_fill import slice_box


def fill_polygon(
    layer: LabelLayer,
    plane: str,
    slice_index: int,
    vertices: Sequence[tuple[int, int, int]],
    value: int,
    settings: PaintSettings | None = None,
    images: Mapping[str, np.ndarray] | None = None,
    name: str = "Polygon",
) -> int:
    """Paint ``value`` inside and on the closed polygon through ``vertices`` (voxels of that slice).

    Vertices are projected into slice ``slice_index`` of ``plane``; the fill is one undo step and
    follows the paint-over rule and intensity limit. Returns the number of voxels changed.
    """
    from skimage.draw import polygon, polygon_perimeter  # imported on first use (start-up time)

    if len(vertices) < 3:
        raise ValueError(f"a polygon needs at least 3 vertices, got {len(vertices)}")
    settings = settings if settings is not None else PaintSettings()
    axis = plane_axis(plane)
    rows_axis, cols_axis = in_plane_axes(plane)
    bbox = slice_box(layer.shape, axis, slice_index)
    shape2d = (layer.shape[rows_axis], layer.shape[cols_axis])
    rows = np.array([v[rows_axis] for v in vertices], dtype=np.float64)
    cols = np.array([v[cols_axis] for v in vertices], dtype=np.float64)
    mask2d = np.zeros(shape2d, dtype=bool)
    mask2d[polygon(rows, cols, shape2d)] = True
    mask2d[polygon_perimeter(rows, cols, shape2d, clip=False)] = True
    mask = np.expand_dims(mask2d, axis)
    mask &= settings.editable(layer.data[bbox], value, bbox, images)
    with layer.stroke(name):
        return layer.apply(bbox, mask, value)


class PolygonTool(Tool):
    """Lasso (``mode="lasso"``: press, drag the outline, release fills) or polygon (clicks add vertices,
    :meth:`finish` fills, e.g. on double click or Enter). ``vertices`` is the outline drawn so far."""

    name = "Polygon"

    def __init__(self, *args, mode: str = "lasso", **kwargs) -> None:  # noqa: ANN002, ANN003 (Tool's)
        super().__init__(*args, **kwargs)
        if mode not in ("lasso", "polygon"):
            raise ValueError(f"mode must be 'lasso' or 'polygon', got {mode!r}")
        self.mode = mode
        self.vertices: list[tuple[int, int, int]] = []
        self._plane = "axial"
        self._value = self.settings.label

    @property
    def plane(self) -> str:
        """The plane of the outline being drawn."""
        return self._plane

    def press(self, event: ToolEvent) -> None:
        if not self.vertices or self.mode == "lasso" or event.plane != self._plane:
            self.vertices = []
            self._plane = event.plane
            self._value = self.value_for(event)
        self.vertices.append(event.voxel)

    def drag(self, event: ToolEvent) -> None:
        if self.mode == "lasso" and self.vertices:
            self.vertices.append(event.voxel)

    def release(self, event: ToolEvent) -> None:
        if self.mode == "lasso":
            self.finish()

    def finish(self) -> int:
        """Fill the outline drawn so far (fewer than 3 vertices fill nothing); returns voxels changed."""
        vertices, self.vertices = self.vertices, []
        if len(vertices) < 3:
            return 0
        index = vertices[0][plane_axis(self._plane)]
        name = "Lasso" if self.mode == "lasso" else "Polygon"
        return fill_polygon(
            self.layer, self._plane, index, vertices, self._value, self.settings, self.images, name
        )

    def cancel(self) -> None:
        """Drop the outline drawn so far."""
        self.vertices = []
