"""The report's slow part as a job: the report data (lesion table, midline, RANO) and its key images.

Pure numpy (no Qt): the worker thread prepares, the GUI thread then writes the PDF, HTML and JSON
(``app.report_cli.write_report_files``).
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from app.render.key_images import report_key_images
from segmentation_core.review.queue import ReviewQueue
from segmentation_core.review.rano import RanoAssessment
from segmentation_core.review.report import KeyImage, ReportData, build_report
from segmentation_core.types import CancelToken, Case, Progress

Prepared = tuple[ReportData, dict[str, np.ndarray]]


@dataclass(frozen=True, eq=False)
class ReportRequest:
    """Everything the report is built from (``labels``: a copy taken on the GUI thread)."""

    case: Case
    labels: np.ndarray
    labels_source: str = ""
    ai_labels: np.ndarray | None = None
    model: dict[str, Any] | None = None
    anonymise: bool = False
    queue: ReviewQueue | None = None
    #: More pictures for the report (e.g. the viewer's 3D view), already taken.
    extra_images: Sequence[tuple[KeyImage, np.ndarray]] = field(default=())
    #: RANO measurements the user adjusted (end points moved); None: measured from the labels.
    rano: RanoAssessment | None = None

    def prepare(self) -> Prepared:
        """The report data with its key images, and the images' pixels by name."""
        report = build_report(
            self.case,
            self.labels,
            labels_source=self.labels_source,
            ai_labels=self.ai_labels,
            queue=self.queue,
            model=self.model,
            anonymise=self.anonymise,
        )
        if self.rano is not None:
            report = report.with_rano(self.rano)
        keys, pixels = report_key_images(report, self.case, self.labels)
        for key, picture in self.extra_images:
            keys, pixels = (*keys, key), {**pixels, key.name: picture}
        return report.with_key_images(keys), pixels

    def run(self, cancel: CancelToken) -> Generator[Progress, None, Prepared]:
        yield Progress(0, 1, "measuring lesions and drawing key images")
        prepared = self.prepare()
        cancel.raise_if_cancelled()
        yield Progress(1, 1, "writing the report")
        return prepared
