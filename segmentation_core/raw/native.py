"""A raw study opened for viewing: the reference sequence's native grid, the others placed by their headers.

The viewer shows a raw study on its reference sequence's own grid (canonical orientation: axis permutations
and flips only, so the export writes exactly that file's geometry). Before the AI run co-registers them,
the other sequences are resampled onto that grid by their header geometry alone, and the case says so.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from segmentation_core.io.naming import IMAGE_SUFFIXES
from segmentation_core.io.orientation import to_canonical
from segmentation_core.io.safe_paths import safe_name
from segmentation_core.io.steps import ProgressCallback
from segmentation_core.raw.detect import Detection, detect
from segmentation_core.raw.identify import identify_files
from segmentation_core.raw.resampling import resample
from segmentation_core.raw.study import RawStudy, blank_sequences, looks_like_study, read_study
from segmentation_core.types import SEQUENCES, CancelToken, Case, Volume

#: How the warning that the sequences are not co-registered yet begins (the AI run removes it).
NOT_REGISTERED = "NOT CO-REGISTERED YET"
#: A sequence placed by its header that covers less than this share of the reference's field is named.
MIN_HEADER_OVERLAP = 0.5


@dataclass(eq=False)
class OpenedStudy:
    """A raw study as the viewer opens it: ``case`` on the reference's native grid and how it was made.

    ``header_only``: each other sequence on the case grid by its header geometry (the same arrays as the
    case's channels until the AI run replaces them by registered ones).
    """

    case: Case
    header_only: dict[str, np.ndarray]
    detection: Detection

    def provenance(self) -> dict[str, object]:
        """What an export sidecar records about a raw study that was not co-registered (yet)."""
        return {
            "reference": self.case.reference,
            "detected": self.detection.describe(),
            "co_registered": False,
            "note": "sequences other than the reference were placed on its grid by their header geometry only",
        }


def study_folder(folder: Path) -> Path | None:
    """The folder holding a study's named sequence files: ``folder`` itself or its only complete subfolder.

    ``folder`` counts when any of its image files names a sequence (reading it then says which sequence
    is missing, if any). A study as archived often keeps its images one level down (``<patient>/raw/``):
    the one subfolder whose files name all four sequences is taken. None when there is neither.
    """
    if not folder.is_dir():
        return None
    if names_a_sequence(folder):
        return folder
    found = [p for p in sorted(folder.iterdir()) if p.is_dir() and looks_like_study(p)]
    return found[0] if len(found) == 1 else None


def names_a_sequence(folder: Path) -> bool:
    """True when an image file directly in ``folder`` names a sequence (by its file name)."""
    return bool(identify_files(_images(folder))[0])


def named_files(folder: Path) -> dict[str, Path] | None:
    """Sequence -> file of a folder whose file names name each of the four sequences once, else None."""
    found, _ = identify_files(_images(folder))
    if not all(len(found.get(name, [])) == 1 for name in SEQUENCES):
        return None
    return {name: found[name][0] for name in SEQUENCES}


def _images(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if p.is_file() and p.name.lower().endswith(IMAGE_SUFFIXES)]


def header_case(study: RawStudy, cancel: CancelToken | None = None) -> OpenedStudy:
    """``study`` on its reference's native grid (canonical orientation), the others placed by their headers."""
    reference = study.reference_volume
    array, affine = to_canonical(reference.array, reference.affine, dtype=np.float32)
    grid = (array.shape, affine)
    channels = {study.reference: Volume(array, affine, reference.source)}
    header_only: dict[str, np.ndarray] = {}
    outside: list[str] = []
    for name in SEQUENCES:
        if name == study.reference:
            continue
        if cancel is not None:
            cancel.raise_if_cancelled()
        moving = study.images[name]
        placed = resample(moving, grid)
        covered = resample(Volume(np.ones(moving.shape, np.float32), moving.affine), grid)
        if float(np.mean(covered > 0.5)) < MIN_HEADER_OVERLAP:
            outside.append(name)
        header_only[name] = placed
        channels[name] = Volume(placed, affine, moving.source)
    others = ", ".join(n for n in SEQUENCES if n != study.reference)
    warnings = [
        *study.warnings,
        f"{NOT_REGISTERED}: {others} are placed on the {study.reference} grid by their header geometry "
        f"only and may not line up with it; Run AI co-registers them (Segment ▸ Run AI segmentation)",
    ]
    warnings.extend(
        f"the {name} image {problem}; a segmentation of this study is not trustworthy"
        for name, problem in blank_sequences(study).items()
    )
    if outside:
        warnings.append(
            f"{', '.join(outside)} cover(s) less than half of the {study.reference} field of view by "
            "header geometry; they will be co-registered when the AI runs"
        )
    case = Case(
        channels={name: channels[name] for name in SEQUENCES},
        reference=study.reference,
        case_id=safe_name(study.case_id),
        warnings=warnings,
        source_affine=reference.affine.copy(),
        source_shape=reference.shape,
        source_files=dict(study.files),
        source_format=study.source_format,
    )
    return OpenedStudy(case, header_only, detect(study))


def open_study(
    source: Path | Mapping[str, Path],
    *,
    reference: str = "t1ce",
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> OpenedStudy:
    """Read a study (folder of named files, DICOM folder, or role -> file) and place it for viewing.

    Raises RawStudyError (a missing or ambiguous sequence) or CaseLoadError (a file that cannot be read).
    """
    study = read_study(source, reference=reference, progress=progress, cancel=cancel)
    return header_case(study, cancel)
