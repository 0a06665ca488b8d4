"""RANO bidimensional measurements of the enhancing lesions, as editable annotations.

For each enhancing lesion (26-connected ET component): the longest diameter on the axial slice where
the lesion is largest, and the longest diameter perpendicular to it. A lesion is measurable when both
are at least 10 mm. The sum of products of perpendicular diameters (SPD) adds the products of up to
five measurable lesions, the largest products first. The user may move any end point; lengths,
products, measurability and the sum follow.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from segmentation_core.labels import ET
from segmentation_core.review.diameters import Point, length_mm
from segmentation_core.review.lesions import Component, component_diameters, components

#: Both diameters must reach this for a lesion to be measurable (mm).
MEASURABLE_MM = 10.0
#: At most this many target lesions enter the sum of products.
MAX_TARGETS = 5
LINES = ("long", "short")


@dataclass(frozen=True)
class RanoMeasurement:
    """Two lines on one axial slice of one enhancing lesion; end points in voxel coordinates."""

    lesion: int
    slice_axis: int
    slice_index: int
    long: tuple[Point, Point]
    short: tuple[Point, Point]
    affine: np.ndarray
    edited: bool = False

    @property
    def long_mm(self) -> float:
        return length_mm(self.affine, *self.long)

    @property
    def short_mm(self) -> float:
        return length_mm(self.affine, *self.short)

    @property
    def product_mm2(self) -> float:
        return self.long_mm * self.short_mm

    @property
    def measurable(self) -> bool:
        return self.long_mm >= MEASURABLE_MM and self.short_mm >= MEASURABLE_MM

    def moved(self, line: str, end: int, point: Point) -> RanoMeasurement:
        """This measurement with one end point moved (kept on the measurement's slice)."""
        if line not in LINES or end not in (0, 1):
            raise ValueError(f"no end point {line!r}[{end}]; lines are {LINES}, ends 0 and 1")
        moved = [float(v) for v in point]
        moved[self.slice_axis] = float(self.slice_index)
        ends = list(getattr(self, line))
        ends[end] = tuple(moved)
        return replace(self, **{line: tuple(ends)}, edited=True)  # type: ignore[arg-type]

    def to_dict(self) -> dict[str, Any]:
        return {
            "lesion": self.lesion,
            "slice_axis": self.slice_axis,
            "slice_index": self.slice_index,
            "long": [list(p) for p in self.long],
            "short": [list(p) for p in self.short],
            "long_mm": self.long_mm,
            "short_mm": self.short_mm,
            "product_mm2": self.product_mm2,
            "measurable": self.measurable,
            "edited": self.edited,
        }

    @classmethod
    def from_dict(cls, data: Any, affine: np.ndarray, shape: tuple[int, int, int]) -> RanoMeasurement:
        """A saved measurement, checked against the grid (ValueError on anything malformed)."""
        try:
            lines = {line: tuple(tuple(float(v) for v in point) for point in data[line]) for line in LINES}
            axis, index = int(data["slice_axis"]), int(data["slice_index"])
            lesion, edited = int(data["lesion"]), bool(data["edited"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"saved RANO measurement is malformed ({exc!r})") from exc
        points = [p for line in LINES for p in lines[line]]
        if not 0 <= axis < 3 or not 0 <= index < shape[axis] or any(len(p) != 3 for p in points):
            raise ValueError(f"saved RANO measurement does not fit the grid {shape}")
        if any(not (-1 <= v <= n) for p in points for v, n in zip(p, shape)):
            raise ValueError(f"saved RANO measurement has end points outside the grid {shape}")
        return cls(lesion, axis, index, lines["long"], lines["short"], np.asarray(affine, float), edited)  # type: ignore[arg-type]


@dataclass(frozen=True)
class RanoAssessment:
    """Every enhancing lesion's measurement and the sum of products of the target lesions."""

    measurements: tuple[RanoMeasurement, ...]

    @property
    def targets(self) -> tuple[RanoMeasurement, ...]:
        """Up to five measurable lesions with the largest products (largest first)."""
        measurable = [m for m in self.measurements if m.measurable]
        return tuple(sorted(measurable, key=lambda m: -m.product_mm2)[:MAX_TARGETS])

    @property
    def sum_of_products_mm2(self) -> float:
        return float(sum(m.product_mm2 for m in self.targets))

    def with_measurement(self, measurement: RanoMeasurement) -> RanoAssessment:
        """The assessment with one lesion's measurement replaced (e.g. after moving an end point)."""
        found = [m.lesion for m in self.measurements]
        if measurement.lesion not in found:
            raise ValueError(f"no enhancing lesion {measurement.lesion} (lesions: {found})")
        return RanoAssessment(
            tuple(measurement if m.lesion == measurement.lesion else m for m in self.measurements)
        )

    def moved(self, lesion: int, line: str, end: int, point: Point) -> RanoAssessment:
        """Move one end point of one lesion's measurement; the sum follows."""
        current = next((m for m in self.measurements if m.lesion == lesion), None)
        if current is None:
            raise ValueError(f"no enhancing lesion {lesion}")
        return self.with_measurement(current.moved(line, end, point))

    def to_dict(self) -> dict[str, Any]:
        return {
            "measurable_mm": MEASURABLE_MM,
            "max_targets": MAX_TARGETS,
            "measurements": [m.to_dict() for m in self.measurements],
            "target_lesions": [m.lesion for m in self.targets],
            "sum_of_products_mm2": self.sum_of_products_mm2,
        }


def measure(component: Component, affine: np.ndarray, lesion: int | None = None) -> RanoMeasurement:
    """The RANO measurement of one enhancing component."""
    found = component_diameters(component, affine)
    return RanoMeasurement(
        component.number if lesion is None else lesion,
        found.slice_axis,
        found.slice_index,
        found.long,
        found.short,
        np.asarray(affine, float),
    )


def rano_assessment(
    labels: np.ndarray, affine: np.ndarray, enhancing: list[Component] | None = None
) -> RanoAssessment:
    """Measure every enhancing lesion of an internal label map (``enhancing``: its ET components)."""
    enhancing = components(np.asarray(labels) == ET) if enhancing is None else enhancing
    return RanoAssessment(tuple(measure(c, affine) for c in enhancing))
