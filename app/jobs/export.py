"""Exporting the labels as a job: NIfTI in the source geometry (verified), DICOM-SEG, training library."""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from segmentation_core.types import CancelToken, Case, Progress


@dataclass(frozen=True)
class ExportResult:
    """Where everything was written."""

    nifti: Path
    dicom_seg: Path | None = None
    library_case: Path | None = None


@dataclass(frozen=True, eq=False)
class ExportRequest:
    """Export ``labels`` (internal scheme, a copy taken on the GUI thread) of ``case`` to ``path``.

    The label map, its sidecar and the DICOM-SEG are committed together; files the case was read
    from are never written over, other existing files only with ``overwrite`` (the user said yes).
    """

    case: Case
    labels: np.ndarray
    path: Path
    scheme: str = "brats"
    model_version: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    dicom_seg: bool = False
    add_to_library: bool = False
    overwrite: bool = False

    @property
    def steps(self) -> int:
        return 1 + int(self.add_to_library)

    def run(self, cancel: CancelToken) -> Generator[Progress, None, ExportResult]:
        from segmentation_core.io.export import dicom_seg_path, write_label_map  # slow imports, in the worker

        dicom_path = dicom_seg_path(self.path) if self.dicom_seg else None
        yield Progress(0, self.steps, f"writing {self.path.name}")
        nifti = write_label_map(
            self.labels,
            self.case,
            self.path,
            scheme=self.scheme,
            model_version=self.model_version,
            extra=self.extra,
            dicom_seg=dicom_path,
            overwrite=self.overwrite,
        )
        library_case = None
        if self.add_to_library:
            cancel.raise_if_cancelled()
            from segmentation_core.registry import add_to_training_library

            yield Progress(1, self.steps, "adding the case to your training set")
            library_case = add_to_training_library(self.case, self.labels, model_version=self.model_version)
        yield Progress(self.steps, self.steps, "done")
        return ExportResult(nifti, dicom_path, library_case)
