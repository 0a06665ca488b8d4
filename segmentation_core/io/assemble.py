"""Raw images of one case -> a validated Case on the reference grid (canonical orientation).

Shared by the file loader (``loader``) and the DICOM reader (``dicom``), which therefore import this
module and never each other at load time.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from segmentation_core.io.errors import CaseLoadError
from segmentation_core.io.geometry import (
    alignment_tolerance_mm,
    misalignment_mm,
    overlap_fraction,
    resample_to,
)
from segmentation_core.io.label_io import labels_to_internal
from segmentation_core.io.nifti import RawImage
from segmentation_core.io.orientation import to_canonical
from segmentation_core.io.safe_paths import safe_name
from segmentation_core.io.sanity import intensity_warnings
from segmentation_core.io.validation import check_3d, check_finite, check_size, check_voxel_type
from segmentation_core.types import SEQUENCES, Case, LabelMap, Volume

log = logging.getLogger(__name__)
#: The sequence whose grid every other one is resampled onto.
REFERENCE = "t1"


def assemble_case(
    images: dict[str, RawImage],
    seg: RawImage | None,
    *,
    case_id: str,
    scheme: str | None,
    hint: str | None,
    files: dict[str, tuple[Path, ...]],
    fmt: str,
) -> Case:
    """Validate, reorient and (when needed) resample raw images into a Case on the reference grid."""
    warnings: list[str] = list(dict.fromkeys(n for raw in (*images.values(), seg) if raw for n in raw.notes))
    ref_raw = images[REFERENCE]
    ref_array = check_3d(ref_raw.array, ref_raw.path)
    check_size(ref_array, ref_raw.path)
    warnings.extend(_coarse_reference(images, ref_array.size))
    channels: dict[str, Volume] = {}
    for role in SEQUENCES:
        raw = images[role]
        array = check_voxel_type(check_3d(raw.array, raw.path), raw.path)
        check_finite(array, raw.path)
        with np.errstate(over="ignore"):  # overflow to inf is caught just below
            canon, affine = to_canonical(array, raw.affine, dtype=np.float32)
        check_finite(canon, raw.path, cast=True)  # a float64 1e39 becomes inf as float32
        volume = Volume(canon, affine, raw.path)
        if role != REFERENCE:
            volume = _onto_reference(volume, channels[REFERENCE], role, warnings, nearest=False)
        channels[role] = volume
    labels = None
    if seg is not None:
        internal, affine, name, notes = labels_to_internal(seg, scheme, hint)
        warnings.extend(notes)
        volume = _onto_reference(
            Volume(internal, affine, seg.path), channels[REFERENCE], "seg", warnings, nearest=True
        )
        labels = LabelMap(volume, name)
    case = Case(
        channels=channels,
        reference=REFERENCE,
        labels=labels,
        case_id=safe_name(case_id),
        warnings=warnings,
        source_affine=ref_raw.affine.copy(),
        source_shape=tuple(int(s) for s in ref_array.shape),  # type: ignore[arg-type]
        source_files=files,
        source_format=fmt,
    )
    case.warnings.extend(intensity_warnings(case))
    for message in case.warnings:
        log.warning("%s: %s", case_id, message)
    return case


def _coarse_reference(images: dict[str, RawImage], reference_voxels: int) -> list[str]:
    """A warning when another sequence has far more voxels than the reference (detail is lost)."""
    finer = [r for r, raw in images.items() if r != REFERENCE and raw.array.size > 8 * reference_voxels]
    if not finer:
        return []
    return [
        f"the {REFERENCE} grid ({reference_voxels} voxels) is much coarser than {', '.join(finer)}; "
        f"they were resampled down onto it and lost detail"
    ]


def _onto_reference(
    volume: Volume, reference: Volume, role: str, warnings: list[str], *, nearest: bool
) -> Volume:
    if volume.same_grid(reference):
        return volume
    path = volume.source
    if overlap_fraction(volume, reference) <= 0.0:
        raise CaseLoadError(
            path,
            f"the {role} volume does not overlap the {REFERENCE} volume in space (grids "
            f"{volume.shape} @ {volume.orientation} and {reference.shape} @ {reference.orientation})",
            "check that all files belong to the same patient and study, or co-register them first",
        )
    offset = misalignment_mm(volume, reference)
    if offset > alignment_tolerance_mm(volume, reference):
        warnings.append(
            f"POSSIBLY MISALIGNED: the {role} image ({path.name if path else role}) does not line up with "
            f"the {REFERENCE} image — the head lies {offset:.1f} mm apart in the two; check the alignment "
            f"before trusting a segmentation, or co-register the sequences first"
        )
    warnings.append(
        f"{role} ({path.name if path else role}) was resampled onto the {REFERENCE} grid "
        f"({'nearest neighbour' if nearest else 'linear'}): its grid {volume.shape}, spacing "
        f"{tuple(round(s, 3) for s in volume.spacing)} differs from {reference.shape}, spacing "
        f"{tuple(round(s, 3) for s in reference.spacing)}"
    )
    return resample_to(volume, reference, nearest=nearest)
