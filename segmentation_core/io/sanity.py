"""Plausibility of a case's intensities: garbage in must never give a confident tumour out.

Loading records what looks wrong as case warnings (shown in the window, printed by the CLI, kept
in the export sidecar); :func:`check_prediction_input` refuses to segment a case whose sequences
carry no information (blank, constant, or constant inside the head).
"""

from __future__ import annotations

import numpy as np

from segmentation_core.types import Case

#: A sequence whose central 98 % of head voxels spans less than this fraction of its range is flat.
MIN_SPREAD = 1e-3
#: Voxels sampled per sequence for the percentiles (a stride through the volume).
SAMPLE = 200_000


def head_mask(case: Case) -> np.ndarray:
    """Voxels where any sequence is non-zero (the head in skull-stripped or background-zero images)."""
    mask = np.zeros(case.shape, bool)
    for volume in case.channels.values():
        mask |= volume.array != 0
    return mask


def intensity_problems(case: Case) -> dict[str, str]:
    """Sequence -> what makes it unusable for segmentation (only sequences with a problem)."""
    problems: dict[str, str] = {}
    head = head_mask(case)
    for role, volume in case.channels.items():
        array = volume.array
        lo, hi = float(array.min()), float(array.max())
        if not (np.isfinite(lo) and np.isfinite(hi)):
            problems[role] = "holds NaN or infinite voxels"
        elif lo == hi:
            problems[role] = (
                "is blank (every voxel is 0)" if hi == 0 else f"is constant (every voxel is {hi:g})"
            )
        elif not head.any():
            problems[role] = "has no head: every sequence is 0 everywhere"
        else:
            inside = array[head]
            step = max(1, inside.size // SAMPLE)
            p1, p99 = np.percentile(inside[::step], [1, 99])
            if p99 - p1 <= MIN_SPREAD * (hi - lo):
                problems[role] = (
                    f"is flat inside the head (98 % of its head voxels lie within {p99 - p1:.3g} "
                    f"of {p1:.4g}, range {lo:.4g} to {hi:.4g})"
                )
    return problems


def intensity_warnings(case: Case) -> list[str]:
    """One warning line per implausible sequence."""
    return [
        f"the {role} image {problem}; a segmentation of this case is not trustworthy"
        for role, problem in intensity_problems(case).items()
    ]


def check_prediction_input(case: Case) -> None:
    """Raise ValueError (one line naming the sequences and files) when a sequence carries no signal."""
    problems = intensity_problems(case)
    if problems:
        parts = []
        for role, problem in problems.items():
            source = case.channels[role].source
            parts.append(f"{role} ({source.name if source else 'in memory'}) {problem}")
        raise ValueError(
            f"{case.case_id}: cannot segment: {'; '.join(parts)} — check that the right files were loaded"
        )
