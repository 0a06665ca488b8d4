"""Is a study already BraTS-like (one shared grid, no thick slices, skull-stripped)? Then steps 2-4 are skipped."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from segmentation_core.raw.study import RawStudy

#: Thicker voxels (mm) than this on any axis are thick slices: they need the 1 mm canonical resampling.
MAX_SPACING_MM = 2.5
#: Non-zero volume (cm³) above which an image holds more than a skull-stripped brain (a head is 3000+).
MAX_STRIPPED_CM3 = 2200.0
#: A field of view smaller than this (cm³) holds no whole brain: nothing to co-register or skull-strip.
MIN_HEAD_FIELD_CM3 = 500.0


@dataclass(frozen=True)
class Detection:
    """``brats_like`` and the reasons for the verdict (each a short phrase a user can read)."""

    brats_like: bool
    reasons: tuple[str, ...]

    def describe(self) -> str:
        verdict = "BraTS-like" if self.brats_like else "a raw study"
        return f"{verdict}: {'; '.join(self.reasons)}"


def detect(study: RawStudy) -> Detection:
    """Check the three properties of preprocessed BraTS data; every failed one is a reason.

    Only evidence counts against an input: a sequence on another grid, slices thicker than 2.5 mm
    (finer voxels are resampled by the model itself), or more non-zero voxels than a brain has.
    """
    reference = study.reference_volume
    field_cm3 = float(np.prod(np.asarray(reference.shape) * np.asarray(reference.spacing))) / 1000.0
    if field_cm3 < MIN_HEAD_FIELD_CM3:  # nothing to co-register or skull-strip: the loader's checks apply
        return Detection(
            True, (f"field of view {field_cm3:.0f} cm³, smaller than a brain: not a head study",)
        )
    problems: list[str] = []
    others = [name for name, v in study.images.items() if not v.same_grid(reference)]
    if others:
        problems.append(f"{', '.join(sorted(others))} on other grids than {study.reference}")
    spacing = reference.spacing
    if max(spacing) > MAX_SPACING_MM:
        problems.append(f"voxels {' x '.join(f'{s:.2g}' for s in spacing)} mm: thick slices")
    voxel_cm3 = float(np.prod(spacing)) / 1000.0
    nonzero_cm3 = np.count_nonzero(reference.array) * voxel_cm3
    if nonzero_cm3 > MAX_STRIPPED_CM3:
        problems.append(f"skull on ({nonzero_cm3:.0f} cm³ of non-zero voxels in {study.reference})")
    if problems:
        return Detection(False, tuple(problems))
    return Detection(True, ("one shared grid", "no thick slices", f"skull-stripped ({nonzero_cm3:.0f} cm³)"))
