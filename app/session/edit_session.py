"""EditSession: the paint settings, the active tool and every edit operation on the open case's labels.

Everything that changes labels by hand goes through here, so the settings (label, paint-over rule,
intensity limit) always apply and a stroke whose release was lost is closed in one place.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
from psygnal import Signal

from app.session.text import plural
from app.state.viewer_state import ViewerState
from app.tools import (
    BrushTool,
    EraserTool,
    FloodFillTool,
    KeySliceRecorder,
    PaintSettings,
    PolygonTool,
    Tool,
    ToolEvent,
    dilate,
    erode,
    fill_holes,
    interpolate_slices,
    remove_small_islands,
)
from segmentation_core.labels import LABEL_NAMES

logger = logging.getLogger(__name__)

ToolFactory = Callable[..., Tool]


def _lasso(*args: object, **kwargs: object) -> Tool:
    return PolygonTool(*args, mode="lasso", **kwargs)


def _polygon(*args: object, **kwargs: object) -> Tool:
    return PolygonTool(*args, mode="polygon", **kwargs)


#: Tool key -> factory; "navigate" has no tool: clicks move the crosshair.
TOOLS: dict[str, ToolFactory | None] = {
    "navigate": None,
    "brush": BrushTool,
    "eraser": EraserTool,
    "fill": FloodFillTool,
    "lasso": _lasso,
    "polygon": _polygon,
}


@dataclass(frozen=True)
class EditOutcome:
    """What an edit operation reports to the user: a status line, or an error to show."""

    text: str
    changed: int = 0
    error: bool = False


class EditSession:
    """Paint settings, the active tool and the edit operations on ``state.labels``."""

    tool_changed = Signal(str)  # the active tool's key

    def __init__(self, state: ViewerState) -> None:
        self.state = state
        self.settings = PaintSettings()
        self.active = "navigate"
        self.tool: Tool | None = None
        self.recorder: KeySliceRecorder | None = None
        #: The plane of the last tool event: interpolation runs across its slices.
        self.last_plane = "axial"
        state.case_changed.connect(self._on_case)

    # ------------------------------------------------------------------ tools
    @property
    def tool_active(self) -> bool:
        """True when the left button edits labels (a tool other than Navigate, and a case open)."""
        return self.tool is not None

    def set_tool(self, key: str) -> None:
        """Activate a tool by key (see TOOLS); an open polygon is closed and filled first."""
        if key not in TOOLS:
            raise ValueError(f"unknown tool {key!r}; expected one of {list(TOOLS)}")
        self.end_stroke()
        self.finish_polygon()
        self.active = key
        self.tool = self._make_tool(key)
        self.tool_changed.emit(key)

    def _make_tool(self, key: str) -> Tool | None:
        factory = TOOLS[key]
        if factory is None or self.state.labels is None or self.state.case is None:
            return None
        return factory(self.state.labels, self.settings, self._images())

    def _images(self) -> Mapping[str, np.ndarray] | None:
        case = self.state.case
        return None if case is None else {name: volume.array for name, volume in case.channels.items()}

    # ------------------------------------------------------------------ mouse strokes
    def press(
        self, plane: str, voxel: tuple[int, int, int], modifiers: frozenset[str] = frozenset()
    ) -> EditOutcome | None:
        """Left button down at ``voxel`` (inside the image); returns an error outcome or None."""
        self.end_stroke()  # a release that never arrived (focus lost mid-drag) ends its stroke here
        return self._forward("press", plane, voxel, modifiers)

    def drag(
        self, plane: str, voxel: tuple[int, int, int], modifiers: frozenset[str] = frozenset()
    ) -> EditOutcome | None:
        """Mouse moved with the button down; ``voxel`` may lie outside the volume (tools clip)."""
        return self._forward("drag", plane, voxel, modifiers)

    def release(
        self, plane: str, voxel: tuple[int, int, int], modifiers: frozenset[str] = frozenset()
    ) -> EditOutcome | None:
        """Button up (possibly outside the volume): the stroke is one closed undo step afterwards."""
        outcome = self._forward("release", plane, voxel, modifiers)
        self.end_stroke()
        return outcome

    def _forward(
        self, kind: str, plane: str, voxel: tuple[int, int, int], modifiers: frozenset[str]
    ) -> EditOutcome | None:
        if self.tool is None:
            return None
        self.last_plane = plane
        try:
            getattr(self.tool, kind)(ToolEvent(voxel, plane, modifiers, "left"))
        except ValueError as exc:  # e.g. the intensity limit names a sequence the case lacks
            self.end_stroke()
            return EditOutcome(f"Cannot paint: {exc}", error=True)
        return None

    def end_stroke(self) -> None:
        """Close the stroke in progress, if any (the one place a lost release is handled)."""
        if self.tool is not None:
            self.tool.finish_stroke()
        labels = self.state.labels
        if labels is not None and labels.in_stroke:
            labels.end_stroke()

    def finish_polygon(self) -> int:
        """Close and fill the polygon being drawn; returns the voxels changed."""
        if isinstance(self.tool, PolygonTool) and self.tool.vertices:
            return self.tool.finish()
        return 0

    # ------------------------------------------------------------------ undo / redo
    def undo(self) -> EditOutcome:
        return self._move("undo")

    def redo(self) -> EditOutcome:
        return self._move("redo")

    def _move(self, verb: str) -> EditOutcome:
        labels = self.state.labels
        if labels is None:
            return EditOutcome(f"Nothing to {verb}")
        self.end_stroke()
        name = labels.undo() if verb == "undo" else labels.redo()
        past = "Undid" if verb == "undo" else "Redid"
        return EditOutcome(f"{past}: {name}" if name else f"Nothing to {verb}")

    # ------------------------------------------------------------------ whole-volume operations
    def _run(self, name: str, operation: Callable[[], int]) -> EditOutcome:
        if self.state.labels is None:
            return EditOutcome("Open a case first")
        self.end_stroke()
        try:
            changed = operation()
        except ValueError as exc:
            return EditOutcome(f"{name}: {exc}", error=True)
        return EditOutcome(f"{name}: {plural(changed, 'voxel')} changed", changed)

    def remove_islands(self, min_voxels: int) -> EditOutcome:
        label = self.settings.label
        return self._run(
            f"Remove small islands of {LABEL_NAMES[label]}",
            lambda: remove_small_islands(self._labels(), min_voxels, label),
        )

    def fill_holes(self) -> EditOutcome:
        label = self.settings.label
        return self._run(
            f"Fill holes in {LABEL_NAMES[label]}",
            lambda: fill_holes(self._labels(), label, self.settings, self._images()),
        )

    def dilate(self, radius_mm: float) -> EditOutcome:
        label = self.settings.label
        return self._run(
            f"Dilate {LABEL_NAMES[label]}",
            lambda: dilate(self._labels(), label, radius_mm, self.settings, self._images()),
        )

    def erode(self, radius_mm: float) -> EditOutcome:
        label = self.settings.label
        return self._run(
            f"Erode {LABEL_NAMES[label]}",
            lambda: erode(self._labels(), label, radius_mm, self.settings, self._images()),
        )

    def interpolate(self) -> EditOutcome:
        plane, label = self.last_plane, self.settings.label
        keys = self.recorder.slices(plane, label) if self.recorder is not None else []
        return self._run(
            f"Interpolate {LABEL_NAMES[label]} between {plane} slices",
            lambda: interpolate_slices(
                self._labels(), plane, label, keys or None, self.settings, self._images()
            ),
        )

    def _labels(self):  # noqa: ANN202 (LabelLayer; checked by _run)
        assert self.state.labels is not None
        return self.state.labels

    # ------------------------------------------------------------------ case changes
    def _on_case(self, _case: object) -> None:
        if self.recorder is not None:
            self.recorder.close()
        labels = self.state.labels
        self.recorder = KeySliceRecorder(labels) if labels is not None else None
        if isinstance(self.tool, PolygonTool):
            self.tool.cancel()  # an outline on the old case must not be filled into the new one
        self.tool = None
        self.set_tool(self.active)
