"""The RANO measurements shown in the slice views, as an evented, editable layer (Qt-free)."""

from __future__ import annotations

from psygnal import Signal

from segmentation_core.review.diameters import Point
from segmentation_core.review.rano import RanoAssessment, RanoMeasurement


class MeasurementLayer:
    """The current RANO assessment; ``changed`` emits after it is replaced or an end point moved."""

    changed = Signal()

    def __init__(self) -> None:
        self.assessment: RanoAssessment | None = None

    def set(self, assessment: RanoAssessment | None) -> None:
        self.assessment = assessment
        self.changed.emit()

    def on_slice(self, slice_axis: int, slice_index: int) -> list[RanoMeasurement]:
        """The measurements lying on one slice."""
        if self.assessment is None:
            return []
        return [
            m
            for m in self.assessment.measurements
            if m.slice_axis == slice_axis and m.slice_index == slice_index
        ]

    def move(self, lesion: int, line: str, end: int, point: Point) -> None:
        """Move one end point (kept on its slice); lengths, products and the sum follow."""
        if self.assessment is None:
            raise ValueError("there are no measurements")
        self.assessment = self.assessment.moved(lesion, line, end, point)
        self.changed.emit()
