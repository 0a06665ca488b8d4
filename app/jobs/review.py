"""Measuring the labels for the review (lesion table, RANO, and the case's midline once) as a job."""

from __future__ import annotations

import logging
from collections.abc import Generator
from dataclasses import dataclass

import numpy as np

from segmentation_core.labels import ET
from segmentation_core.review.lesions import LesionTable, components, lesion_table
from segmentation_core.review.midline import MidlinePlane, midsagittal_plane
from segmentation_core.review.rano import RanoAssessment, rano_assessment
from segmentation_core.review.report import brain_mask
from segmentation_core.types import CancelToken, Case, Progress

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Measurements:
    midline: MidlinePlane | None
    table: LesionTable
    rano: RanoAssessment


@dataclass(frozen=True, eq=False)
class MeasureRequest:
    """Measure ``labels`` (a copy) of ``case``; ``midline`` is reused when ``midline_known``."""

    case: Case
    labels: np.ndarray
    midline: MidlinePlane | None = None
    midline_known: bool = False

    def compute(self) -> Measurements:
        midline = self.midline
        if not self.midline_known:
            try:
                midline = midsagittal_plane(brain_mask(self.case), self.case.affine)
            except ValueError as exc:
                logger.warning("no midline: %s", exc)
                midline = None
        enhancing = components(self.labels == ET)
        table = lesion_table(self.labels, self.case.affine, midline, enhancing=enhancing)
        return Measurements(
            midline, table, rano_assessment(self.labels, self.case.affine, enhancing=enhancing)
        )

    def run(self, cancel: CancelToken) -> Generator[Progress, None, Measurements]:
        yield Progress(0, 1, "measuring lesions")
        result = self.compute()
        cancel.raise_if_cancelled()
        return result
