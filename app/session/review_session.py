"""ReviewSession: what the radiologist reviews after an AI result — the low-confidence queue, the lesion
table and RANO — kept Qt-free. The review panel shows it; ``next``/``previous`` move the crosshair.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import numpy as np
from psygnal import Signal

from app.jobs.review import Measurements, MeasureRequest
from app.state.viewer_state import ViewerState
from segmentation_core.review.confidence import ConfidenceMap
from segmentation_core.review.lesions import LesionTable
from segmentation_core.review.midline import MidlinePlane
from segmentation_core.review.queue import Cluster, ReviewQueue
from segmentation_core.review.rano import RanoAssessment
from segmentation_core.review.report import review_summary
from segmentation_core.types import Case, Prediction

logger = logging.getLogger(__name__)


class ReviewSession:
    """The review state of the open case: follows ``state.case_changed``; ``set_prediction`` per AI result."""

    changed = Signal(str)  # "queue", "lesions" or "case"

    def __init__(self, state: ViewerState) -> None:
        self.state = state
        self.confidence: ConfidenceMap | None = None
        self.queue: ReviewQueue | None = None
        self.ai_labels: np.ndarray | None = None
        self.lesions: LesionTable | None = None
        self.rano: RanoAssessment | None = None
        #: The last AI result's model version, device and TTA (for the report).
        self.model: dict[str, Any] | None = None
        self._midline: tuple[Case, MidlinePlane | None] | None = None
        #: Runs a MeasureRequest elsewhere (the window: a job); None measures at once.
        self.measure_runner: Callable[[MeasureRequest], object] | None = None
        state.case_changed.connect(self._on_case)
        state.measurements.changed.connect(self._on_measurements)

    def _on_measurements(self) -> None:
        """An end point was dragged in a view: the sums follow."""
        assessment = self.state.measurements.assessment
        if assessment is not None and assessment is not self.rano:
            self.rano = assessment
            self.changed.emit("lesions")

    def _on_case(self, _case: Case | None) -> None:
        self.confidence = self.queue = self.ai_labels = self.lesions = self.rano = self.model = None
        self._midline = None
        self.changed.emit("case")

    # ------------------------------------------------------------------ AI result
    def set_prediction(self, prediction: Prediction) -> None:
        """A new AI result: its confidence map and queue, then the lesion table of the labels."""
        case = self.state.case
        if case is None or prediction.labels.shape != case.shape:
            return
        self.ai_labels = np.array(prediction.labels, dtype=np.uint8)
        self.model = {"version": prediction.model_version, "device": prediction.device, "tta": prediction.tta}
        if prediction.regions is not None:
            self.confidence = ConfidenceMap.from_regions(prediction.regions)
            self.queue = ReviewQueue.build(self.confidence, case.spacing)
            self.state.set_uncertainty(np.subtract(255, self.confidence.full(), dtype=np.uint8))
        else:
            self.confidence = self.queue = None
            self.state.set_uncertainty(None)
        self.changed.emit("queue")
        self.measure()

    def measure_request(self) -> MeasureRequest | None:
        """What measuring the current labels needs (a copy of them, taken now); None without a case."""
        case, labels = self.state.case, self.state.labels
        if case is None or labels is None:
            return None
        midline = self._midline[1] if self._midline is not None and self._midline[0] is case else None
        known = self._midline is not None and self._midline[0] is case
        return MeasureRequest(case, labels.data.copy(), midline, known)

    def measure(self) -> None:
        """Lesion table and RANO of the current labels (after the AI result, or on request after edits).

        With ``measure_runner`` set (the window runs it as a job) the work happens there and
        :meth:`set_measurements` brings the result back; otherwise it runs here and now.
        """
        request = self.measure_request()
        if request is None:
            return
        if self.measure_runner is not None:
            self.measure_runner(request)
        else:
            self.set_measurements(request, request.compute())

    def set_measurements(self, request: MeasureRequest, result: Measurements) -> None:
        """Show measurements computed for ``request`` (ignored when the case changed meanwhile)."""
        if request.case is not self.state.case:
            return
        self._midline = (request.case, result.midline)
        self.lesions, self.rano = result.table, result.rano
        self.state.measurements.set(self.rano)
        self.changed.emit("lesions")

    # ------------------------------------------------------------------ queue
    def _jump(self, cluster: Cluster | None) -> Cluster | None:
        if cluster is not None:
            self.state.cursor.set_position(cluster.target)
            self.changed.emit("queue")
        return cluster

    def next(self) -> Cluster | None:
        """Move the crosshair to the next low-confidence cluster."""
        return self._jump(self.queue.next() if self.queue else None)

    def previous(self) -> Cluster | None:
        return self._jump(self.queue.previous() if self.queue else None)

    def mark_reviewed(self, reviewed: bool = True) -> None:
        """Mark the current cluster reviewed (or not)."""
        if self.queue is not None and 0 <= self.queue.current < len(self.queue):
            self.queue.set_reviewed(self.queue.current, reviewed)
            self.changed.emit("queue")

    def edited(self) -> np.ndarray | None:
        """Voxels whose label differs from the AI result (they count as reviewed)."""
        labels = self.state.labels
        if self.ai_labels is None or labels is None or labels.shape != self.ai_labels.shape:
            return None
        return labels.data != self.ai_labels

    def coverage(self) -> float | None:
        """Fraction of the low-confidence volume reviewed; None without a confidence map."""
        return None if self.queue is None else self.queue.coverage(self.edited())

    def summary(self) -> dict[str, Any] | None:
        """Review coverage for the export sidecar and the report."""
        return None if self.queue is None else review_summary(self.queue, self.edited())

    def sidecar(self) -> dict[str, Any]:
        """The export sidecar's ``review`` entry (the reviewed fraction of the low-confidence volume)."""
        summary = self.summary()
        return {} if summary is None else {"review": summary}

    def jump_to_lesion(self, number: int) -> None:
        """Move the crosshair to a lesion of the table (its voxel nearest its centre)."""
        if self.lesions is not None:
            for lesion in self.lesions.lesions:
                if lesion.number == number:
                    self.state.cursor.set_position(lesion.target)
                    return
