"""Display settings of the slice views: window/level per sequence, active sequence, overlay, orientation.

Qt-free and evented: every change emits ``DisplaySettings.changed`` with the name of what changed
(``"window_level"``, ``"sequence"``, ``"overlay"`` or ``"convention"``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from psygnal import Signal

from segmentation_core.labels import ED, ET, NCR
from segmentation_core.types import SEQUENCES

CONVENTIONS = ("radiological", "neurological")
#: Default colours of the internal labels (RGB): NCR red, ED green, ET yellow.
LABEL_COLOURS: dict[int, tuple[int, int, int]] = {NCR: (255, 48, 48), ED: (48, 220, 48), ET: (255, 230, 0)}
#: Colours of the nested regions in composite mode.
REGION_COLOURS: dict[str, tuple[int, int, int]] = {
    "WT": (48, 220, 48),
    "TC": (255, 48, 48),
    "ET": (255, 230, 0),
}
#: Window/level presets as percentiles of the brain voxels (low, high).
PRESETS: dict[str, tuple[float, float]] = {
    "Auto (1–99 %)": (1.0, 99.0),
    "Full range": (0.0, 100.0),
    "Soft (5–95 %)": (5.0, 95.0),
    "Bright (0.5–99.9 %)": (0.5, 99.9),
}


@dataclass(frozen=True)
class WindowLevel:
    """Grey-value mapping: ``level`` is the centre, ``window`` the width (both in image units)."""

    window: float
    level: float

    @property
    def low(self) -> float:
        return self.level - self.window / 2.0

    @property
    def high(self) -> float:
        return self.level + self.window / 2.0

    @classmethod
    def from_range(cls, low: float, high: float) -> WindowLevel:
        low, high = float(low), float(high)
        if high <= low:
            high = low + 1.0
        return cls(window=high - low, level=(low + high) / 2.0)


def percentile_window(array: np.ndarray, low_pct: float = 1.0, high_pct: float = 99.0) -> WindowLevel:
    """Window spanning the given percentiles of the non-zero voxels (all voxels when none are non-zero).

    Uses every 4th voxel along each axis: percentiles of a brain need no more, and it keeps a
    240x240x155 volume under a few milliseconds.
    """
    sample = np.asarray(array)[::4, ::4, ::4] if min(np.shape(array)) >= 16 else np.asarray(array)
    values = sample[sample != 0]
    if values.size == 0:
        values = sample.ravel()
    low, high = np.percentile(values, [low_pct, high_pct])
    return WindowLevel.from_range(float(low), float(high))


@dataclass(frozen=True)
class OverlaySettings:
    """How the label map is drawn over the image."""

    colours: tuple[tuple[int, tuple[int, int, int]], ...] = tuple(LABEL_COLOURS.items())
    visible: tuple[tuple[int, bool], ...] = ((NCR, True), (ED, True), (ET, True))
    opacity: float = 0.5
    outline: bool = False
    #: Show the regions WT/TC/ET (nested) instead of the labels NCR/ED/ET.
    composite: bool = False
    region_colours: tuple[tuple[str, tuple[int, int, int]], ...] = tuple(REGION_COLOURS.items())
    region_visible: tuple[tuple[str, bool], ...] = (("WT", True), ("TC", True), ("ET", True))
    show: bool = True

    def colour(self, label: int) -> tuple[int, int, int]:
        return dict(self.colours)[label]

    def is_visible(self, label: int) -> bool:
        return self.show and dict(self.visible)[label]

    def region_colour(self, region: str) -> tuple[int, int, int]:
        return dict(self.region_colours)[region]

    def region_is_visible(self, region: str) -> bool:
        return self.show and dict(self.region_visible)[region]


@dataclass(frozen=True)
class ConfidenceOverlay:
    """The AI's uncertainty drawn as a heat map: where it reaches ``threshold`` (0..1), at ``opacity``."""

    show: bool = False
    threshold: float = 0.5
    opacity: float = 0.6


class DisplaySettings:
    """Evented display state shared by the three slice views and the 3D view."""

    changed = Signal(str)

    def __init__(self) -> None:
        self._window_levels: dict[str, WindowLevel] = {s: WindowLevel(1.0, 0.5) for s in SEQUENCES}
        self._sequence = "t1ce"
        self._overlay = OverlaySettings()
        self._convention = "radiological"
        self._confidence = ConfidenceOverlay()

    # window / level -----------------------------------------------------------------------------
    def window_level(self, sequence: str | None = None) -> WindowLevel:
        return self._window_levels[sequence or self._sequence]

    def set_window_level(self, value: WindowLevel, sequence: str | None = None) -> None:
        """Set the window/level of one sequence (the active one by default); the window stays > 0."""
        if value.window <= 0:
            value = WindowLevel(1e-6, value.level)
        name = sequence or self._sequence
        if self._window_levels.get(name) != value:
            self._window_levels[name] = value
            self.changed.emit("window_level")

    def set_all_window_levels(self, values: dict[str, WindowLevel]) -> None:
        """Replace the window/level of several sequences at once (one event)."""
        self._window_levels.update(values)
        self.changed.emit("window_level")

    # active sequence ----------------------------------------------------------------------------
    @property
    def sequence(self) -> str:
        return self._sequence

    def set_sequence(self, name: str) -> None:
        if name not in SEQUENCES:
            raise ValueError(f"unknown sequence {name!r}; choose one of {SEQUENCES}")
        if name != self._sequence:
            self._sequence = name
            self.changed.emit("sequence")

    # overlay ------------------------------------------------------------------------------------
    @property
    def overlay(self) -> OverlaySettings:
        return self._overlay

    def update_overlay(self, **changes: Any) -> None:
        """Change overlay fields, e.g. ``update_overlay(opacity=0.3, outline=True)``."""
        if "opacity" in changes:
            changes["opacity"] = min(1.0, max(0.0, float(changes["opacity"])))
        new = replace(self._overlay, **changes)
        if new != self._overlay:
            self._overlay = new
            self.changed.emit("overlay")

    def set_label_colour(self, label: int, colour: tuple[int, int, int]) -> None:
        colours = dict(self._overlay.colours) | {label: tuple(int(c) for c in colour)}
        self.update_overlay(colours=tuple(colours.items()))

    def set_label_visible(self, label: int, visible: bool) -> None:
        self.update_overlay(visible=tuple((dict(self._overlay.visible) | {label: bool(visible)}).items()))

    def set_region_visible(self, region: str, visible: bool) -> None:
        regions = dict(self._overlay.region_visible) | {region: bool(visible)}
        self.update_overlay(region_visible=tuple(regions.items()))

    # orientation convention ---------------------------------------------------------------------
    @property
    def convention(self) -> str:
        return self._convention

    def set_convention(self, convention: str) -> None:
        """``"radiological"`` (patient right on screen left) or ``"neurological"``."""
        if convention not in CONVENTIONS:
            raise ValueError(f"unknown convention {convention!r}; choose one of {CONVENTIONS}")
        if convention != self._convention:
            self._convention = convention
            self.changed.emit("convention")

    # confidence overlay -------------------------------------------------------------------------
    @property
    def confidence(self) -> ConfidenceOverlay:
        return self._confidence

    def update_confidence(
        self, *, show: bool | None = None, threshold: float | None = None, opacity: float | None = None
    ) -> None:
        """Change the confidence overlay, e.g. ``update_confidence(show=True, threshold=0.3)``."""
        new = self._confidence
        if show is not None:
            new = replace(new, show=bool(show))
        if threshold is not None:
            new = replace(new, threshold=float(np.clip(threshold, 0.01, 1.0)))
        if opacity is not None:
            new = replace(new, opacity=float(np.clip(opacity, 0.0, 1.0)))
        if new != self._confidence:
            self._confidence = new
            self.changed.emit("confidence")
