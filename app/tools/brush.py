"""Brush and eraser: a disc in the slice (2D) or a sphere (3D) with a radius in mm.

A drag paints the capsule swept between successive mouse positions (all voxels within the radius of
the segment joining them), so fast mouse moves leave no gaps. One press-drag-release is one undo step.
"""

from __future__ import annotations

import numpy as np

from app.state.history import BBox
from app.tools.base import Tool, clip_box
from app.tools.events import ToolEvent
from segmentation_core.labels import BACKGROUND


def capsule_mask(
    start: tuple[int, int, int],
    end: tuple[int, int, int],
    radius_mm: float,
    spacing: tuple[float, float, float],
    shape: tuple[int, int, int],
    fixed_axis: int | None = None,
) -> tuple[BBox, np.ndarray] | None:
    """Voxels whose centre lies within ``radius_mm`` (physical distance) of the segment start-end.

    With ``fixed_axis`` the shape is cut to the slice of ``start`` along that axis (a 2D disc);
    ``end`` is projected into that slice. Returns the clipped box and its mask, or None outside.
    """
    p0 = np.asarray(start, dtype=np.int64)
    p1 = np.asarray(end, dtype=np.int64).copy()
    sp = np.asarray(spacing, dtype=np.float64)
    reach = np.floor(radius_mm / sp + 1e-9).astype(np.int64)
    if fixed_axis is not None:
        p1[fixed_axis] = p0[fixed_axis]
        reach[fixed_axis] = 0
    bbox = clip_box(np.minimum(p0, p1) - reach, np.maximum(p0, p1) + reach + 1, shape)
    if bbox is None:
        return None
    # Physical offsets of each voxel from start, one broadcastable axis per dimension.
    rel = [(np.arange(s.start, s.stop) - p0[d]) * sp[d] for d, s in enumerate(bbox)]
    rel = [r.reshape([-1 if d == k else 1 for k in range(3)]) for d, r in enumerate(rel)]
    seg = (p1 - p0) * sp
    length2 = float(seg @ seg)
    if length2 > 0:
        t = np.clip(sum(r * s for r, s in zip(rel, seg)) / length2, 0.0, 1.0)
        dist2 = sum((r - t * s) ** 2 for r, s in zip(rel, seg))
    else:
        dist2 = sum(r**2 for r in rel)
    mask = np.broadcast_to(dist2 <= radius_mm**2 * (1 + 1e-9), tuple(s.stop - s.start for s in bbox))
    return bbox, np.ascontiguousarray(mask)


class BrushTool(Tool):
    """Paints the active label (the right button erases); ``settings.sphere`` selects 3D."""

    name = "Brush"
    erases = False

    _last: tuple[int, int, int] | None = None
    _fixed_axis: int | None = None
    _value: int = BACKGROUND

    def press(self, event: ToolEvent) -> None:
        self.finish_stroke()  # the view lost a release (e.g. focus change): close that stroke
        self._value = BACKGROUND if self.erases else self.value_for(event)
        self._fixed_axis = None if self.settings.sphere else event.axis
        self.layer.begin_stroke("Eraser" if self._value == BACKGROUND else self.name)
        self._last = event.voxel
        self._stamp(event.voxel, event.voxel)

    def drag(self, event: ToolEvent) -> None:
        if self._last is None or not self.layer.in_stroke:  # the stroke was closed for us (AI result)
            return
        end = self._in_stroke_slice(event.voxel)
        self._stamp(self._last, end)
        self._last = end

    def release(self, event: ToolEvent) -> None:
        if self._last is None or not self.layer.in_stroke:
            self._last = None
            return
        end = self._in_stroke_slice(event.voxel)
        if end != self._last:
            self._stamp(self._last, end)
        self.finish_stroke()

    def finish_stroke(self) -> None:
        if self._last is not None:
            self._last = None
            if self.layer.in_stroke:
                self.layer.end_stroke()

    def _in_stroke_slice(self, voxel: tuple[int, int, int]) -> tuple[int, int, int]:
        """A 2D stroke stays in the slice it started on."""
        if self._fixed_axis is None or self._last is None:
            return voxel
        axis = self._fixed_axis
        return tuple(self._last[a] if a == axis else voxel[a] for a in range(3))  # type: ignore[return-value]

    def _stamp(self, start: tuple[int, int, int], end: tuple[int, int, int]) -> int:
        shaped = capsule_mask(
            start, end, self.settings.radius_mm, self.layer.spacing, self.layer.shape, self._fixed_axis
        )
        if shaped is None:
            return 0
        return self.paint(*shaped, self._value)


class EraserTool(BrushTool):
    """Sets voxels to background, limited by the paint-over rule "only one label" when chosen."""

    name = "Eraser"
    erases = True
