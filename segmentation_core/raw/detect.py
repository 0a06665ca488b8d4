"""Is a study already BraTS-like (one shared grid, ~1 mm, skull-stripped)? Then steps 2-4 are skipped."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from segmentation_core.raw.study import RawStudy

#: Voxel sizes (mm) BraTS-like data has on every axis.
SPACING_RANGE = (0.8, 1.25)
#: Non-zero volume (cm³) of a skull-stripped brain; a head with its skull is well above it.
STRIPPED_CM3 = (500.0, 2200.0)


@dataclass(frozen=True)
class Detection:
    """``brats_like`` and the reasons for the verdict (each a short phrase a user can read)."""

    brats_like: bool
    reasons: tuple[str, ...]

    def describe(self) -> str:
        verdict = "BraTS-like" if self.brats_like else "a raw study"
        return f"{verdict}: {'; '.join(self.reasons)}"


def detect(study: RawStudy) -> Detection:
    """Check the three properties of preprocessed BraTS data; every failed one is a reason."""
    reference = study.reference_volume
    field_cm3 = float(np.prod(np.asarray(reference.shape) * np.asarray(reference.spacing))) / 1000.0
    if field_cm3 < STRIPPED_CM3[0]:  # nothing to co-register or skull-strip: the loader's checks apply
        return Detection(
            True, (f"field of view {field_cm3:.0f} cm³, smaller than a brain: not a head study",)
        )
    problems: list[str] = []
    others = [name for name, v in study.images.items() if not v.same_grid(reference)]
    if others:
        problems.append(f"{', '.join(sorted(others))} on other grids than {study.reference}")
    spacing = reference.spacing
    if not all(SPACING_RANGE[0] <= s <= SPACING_RANGE[1] for s in spacing):
        problems.append(f"voxels {' x '.join(f'{s:.2g}' for s in spacing)} mm, not ~1 mm isotropic")
    voxel_cm3 = float(np.prod(spacing)) / 1000.0
    nonzero_cm3 = np.count_nonzero(reference.array) * voxel_cm3
    if not STRIPPED_CM3[0] <= nonzero_cm3 <= STRIPPED_CM3[1]:
        problems.append(f"skull on ({nonzero_cm3:.0f} cm³ of non-zero voxels in {study.reference})")
    if problems:
        return Detection(False, tuple(problems))
    return Detection(True, ("one shared grid", "~1 mm voxels", f"skull-stripped ({nonzero_cm3:.0f} cm³)"))
