"""The raw-study pipeline's result as a viewer applies it: arrays on the open case's grid, JSON transforms.

The viewer shows a raw study on its reference's native grid in canonical orientation (``native``). The
AI process sends this back (pickled, no torch inside): the labels and region probabilities as a
``Prediction``, every other sequence resampled onto that grid through its co-registration transform,
the brain mask on it, and the transforms and steps as the export sidecar records them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from segmentation_core.io.orientation import to_canonical
from segmentation_core.raw.segment import RawSegmentation
from segmentation_core.types import SEQUENCES, Prediction, RegionProbabilities


@dataclass(eq=False)
class StudyResult:
    """Everything on the case grid (``shape``, ``affine``).

    ``registered``: each sequence but the reference through its transform (empty when the study was
    BraTS-like and the steps were skipped); ``brain_mask``: bool, None when skipped; ``transforms``:
    sequence -> JSON (rotation in degrees, translation in mm, similarity, the 4x4 matrix).
    """

    prediction: Prediction
    shape: tuple[int, int, int]
    affine: np.ndarray
    reference: str
    registered: dict[str, np.ndarray] = field(default_factory=dict)
    brain_mask: np.ndarray | None = None
    transforms: dict[str, dict[str, Any]] = field(default_factory=dict)
    provenance: dict[str, Any] = field(default_factory=dict)
    skipped: bool = False
    cached: bool = False

    def summary(self) -> str:
        """One line on how the steps went, for the status bar."""
        if self.skipped:
            return "BraTS-like study: co-registration and brain extraction skipped"
        moved = ", ".join(
            f"{name} {t['rotation_degrees']:.1f}° {t['translation_mm']:.1f} mm"
            for name, t in self.transforms.items()
            if name != self.reference
        )
        source = "from the cache" if self.cached else "co-registered"
        mask = self.provenance.get("brain_mask_cm3")
        return f"{source}: {moved}; brain mask {mask} cm³"


def study_result(result: RawSegmentation, seconds: float, tta: bool = False) -> StudyResult:
    """The viewer's form of ``result`` (its case is the reference on its native grid, canonical)."""
    case, prepared = result.case, result.prepared
    reference = prepared.study.reference
    registered: dict[str, np.ndarray] = {}
    mask = None
    if not prepared.skipped:
        registered = {n: case.channels[n].array for n in SEQUENCES if n != reference}
        assert prepared.brain_mask_native is not None
        native = prepared.study.reference_volume
        mask = to_canonical(prepared.brain_mask_native, native.affine, dtype=bool)[0]
    regions = None
    if result.probabilities is not None:
        box = _box(mask if mask is not None else result.probabilities.max(axis=0) > 0, case.shape)
        regions = RegionProbabilities.quantise(result.probabilities[(slice(None), *box)], box, case.shape)
    prediction = Prediction(
        labels=np.asfortranarray(result.labels, dtype=np.uint8),
        probabilities=None,
        device=result.device,
        fallback=result.fallback,
        seconds=seconds,
        model_version=result.model_version,
        regions=regions,
        tta=tta,
        cleanup=result.cleanup,
    )
    provenance = result.provenance()
    provenance["steps"] = [name for name in result.timings if name != "reading"]
    provenance["step_seconds"] = {name: round(t, 2) for name, t in result.timings.items()}
    return StudyResult(
        prediction,
        case.shape,
        case.affine,
        reference,
        registered,
        mask,
        dict(provenance.get("transforms", {})),
        provenance,
        prepared.skipped,
        prepared.cached,
    )


def _box(inside: np.ndarray, shape: tuple[int, int, int]) -> tuple[slice, slice, slice]:
    """The bounding box of ``inside`` (the whole grid when it is empty)."""
    if not inside.any():
        return tuple(slice(0, n) for n in shape)  # type: ignore[return-value]
    box = []
    for axis in range(3):
        hits = np.flatnonzero(inside.any(axis=tuple(a for a in range(3) if a != axis)))
        box.append(slice(int(hits[0]), int(hits[-1]) + 1))
    return tuple(box)  # type: ignore[return-value]
