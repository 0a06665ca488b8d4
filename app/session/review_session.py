"""ReviewSession: what the radiologist reviews after an AI result — the low-confidence queue, the lesion
table and RANO — kept Qt-free. The review panel shows it; ``next``/``previous`` move the crosshair.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from psygnal import Signal

from app.state.viewer_state import ViewerState
from segmentation_core.labels import ET
from segmentation_core.review.confidence import ConfidenceMap
from segmentation_core.review.lesions import LesionTable, components, lesion_table
from segmentation_core.review.midline import MidlinePlane, midsagittal_plane
from segmentation_core.review.queue import Cluster, ReviewQueue
from segmentation_core.review.rano import RanoAssessment, rano_assessment
from segmentation_core.review.report import brain_mask, review_summary
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

    def midline(self) -> MidlinePlane | None:
        """The open case's mid-sagittal plane (computed once per case)."""
        case = self.state.case
        if case is None:
            return None
        if self._midline is None or self._midline[0] is not case:
            try:
                plane = midsagittal_plane(brain_mask(case), case.affine)
            except ValueError as exc:
                logger.warning("no midline: %s", exc)
                plane = None
            self._midline = (case, plane)
        return self._midline[1]

    def measure(self) -> None:
        """Lesion table and RANO of the current labels (after the AI result, or on request after edits)."""
        case, labels = self.state.case, self.state.labels
        if case is None or labels is None:
            return
        data = labels.data
        enhancing = components(data == ET)
        self.lesions = lesion_table(data, case.affine, self.midline(), enhancing=enhancing)
        self.rano = rano_assessment(data, case.affine, enhancing=enhancing)
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
