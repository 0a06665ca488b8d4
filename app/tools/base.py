"""What every editing tool shares: paint settings (label, paint-over rule, intensity limit) and Tool."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from psygnal import evented

from app.state.history import BBox
from app.state.label_layer import LabelLayer
from app.tools.events import ToolEvent
from segmentation_core.labels import BACKGROUND, ET, NCR

#: Which voxels a paint may change: every voxel, only background, or only voxels of ``over_label``.
PAINT_OVER: tuple[str, ...] = ("everything", "background", "label")


@dataclass(frozen=True)
class IntensityLimit:
    """Paint only where sequence ``channel`` lies in ``[low, high]`` (e.g. ET where T1ce enhances)."""

    channel: str
    low: float
    high: float

    def __post_init__(self) -> None:
        if not self.low <= self.high:
            raise ValueError(
                f"intensity range of {self.channel!r} is empty: low {self.low} > high {self.high}"
            )


@evented
@dataclass
class PaintSettings:
    """The editing options a toolbar shows; ``settings.events.<name>`` signals each change."""

    label: int = NCR
    paint_over: str = "everything"
    over_label: int = NCR
    intensity: IntensityLimit | None = None
    radius_mm: float = 3.0
    sphere: bool = False

    def __setattr__(self, name: str, value: object) -> None:
        if name in ("label", "over_label") and value not in range(NCR, ET + 1):
            raise ValueError(f"{name} must be a tumour label 1 (NCR), 2 (ED) or 3 (ET), got {value!r}")
        if name == "paint_over" and value not in PAINT_OVER:
            raise ValueError(f"paint_over must be one of {PAINT_OVER}, got {value!r}")
        if name == "radius_mm" and not float(value) > 0:  # type: ignore[arg-type]
            raise ValueError(f"brush radius must be positive (mm), got {value!r}")
        object.__setattr__(self, name, value)

    def editable(
        self, current: np.ndarray, value: int, bbox: BBox, images: Mapping[str, np.ndarray] | None = None
    ) -> np.ndarray:
        """Which voxels of ``current`` (the labels at ``bbox``) painting ``value`` may change.

        Erasing (value 0) under "background" is allowed everywhere, since erasing only background
        would do nothing.
        """
        if self.paint_over == "everything" or (value == BACKGROUND and self.paint_over == "background"):
            allowed = np.ones(current.shape, dtype=bool)
        elif self.paint_over == "background":
            allowed = current == BACKGROUND
        else:
            allowed = current == self.over_label
        if self.intensity is not None:
            limit = self.intensity
            if images is None or limit.channel not in images:
                have = sorted(images) if images else []
                raise ValueError(
                    f"the intensity-limited brush needs sequence {limit.channel!r}, but the case has {have}; "
                    "pick one of those or turn the intensity limit off"
                )
            patch = images[limit.channel][bbox]
            allowed &= (patch >= limit.low) & (patch <= limit.high)
        return allowed


def clip_box(lo: np.ndarray, hi: np.ndarray, shape: tuple[int, ...]) -> BBox | None:
    """The box ``[lo, hi)`` clipped to an array of ``shape``; None when nothing is left."""
    lo = np.maximum(lo, 0)
    hi = np.minimum(hi, shape)
    if np.any(hi <= lo):
        return None
    return tuple(slice(int(a), int(b)) for a, b in zip(lo, hi))  # type: ignore[return-value]


class Tool:
    """Base of the mouse-driven tools: a view forwards press, drag and release ToolEvents.

    Tools act on ``layer`` with ``settings`` (shared with the toolbar) and may read the case's
    sequences in ``images`` (name -> array on the label grid), e.g. for the intensity limit.
    """

    name = "Tool"

    def __init__(
        self,
        layer: LabelLayer,
        settings: PaintSettings | None = None,
        images: Mapping[str, np.ndarray] | None = None,
    ) -> None:
        self.layer = layer
        self.settings = settings if settings is not None else PaintSettings()
        self.images = images

    def press(self, event: ToolEvent) -> None:
        """Mouse button went down."""

    def drag(self, event: ToolEvent) -> None:
        """Mouse moved with the button down."""

    def release(self, event: ToolEvent) -> None:
        """Mouse button went up."""

    def finish_stroke(self) -> None:
        """Close a stroke left open by a release that never came (default: nothing to close)."""

    def value_for(self, event: ToolEvent) -> int:
        """The label a press paints: the active label, or background for the right button."""
        return BACKGROUND if event.button == "right" else self.settings.label

    def paint(self, bbox: BBox, mask: np.ndarray, value: int) -> int:
        """Paint ``value`` into the voxels of ``mask`` that the settings allow; returns voxels changed."""
        mask = mask & self.settings.editable(self.layer.data[bbox], value, bbox, self.images)
        return self.layer.apply(bbox, mask, value)
