"""An ensemble of models (e.g. the cross-validation folds): region probabilities averaged on the case grid."""

from __future__ import annotations

import time
from collections.abc import Generator

import numpy as np

from segmentation_core.inference.postprocess import Postprocessing, clean_up, regions_to_labels
from segmentation_core.inference.predictor import Predictor
from segmentation_core.types import CancelToken, Case, Prediction, Progress, RegionProbabilities


class EnsemblePredictor:
    """Runs every predictor on the case and averages their WT/TC/ET probabilities (nnU-Net's fold ensemble).

    The members may differ in architecture and spacing: each maps its own result back to the case grid
    first. The labels are post-processed once, with ``postprocessing`` (default: the first member's).
    It costs one prediction per member: an "accurate" mode, not the default. The members' TTA spread is
    not carried over (the members' disagreement is a different quantity).
    """

    def __init__(self, members: list[Predictor], postprocessing: Postprocessing | None = None) -> None:
        if not members:
            raise ValueError("an ensemble needs at least one model")
        self.members = members
        self.postprocessing = postprocessing or members[0].postprocessing

    def predict(
        self, case: Case, cancel: CancelToken | None = None, want_probabilities: bool = False
    ) -> Generator[Progress, None, Prediction]:
        start = time.perf_counter()
        total: np.ndarray | None = None
        results = []
        for index, member in enumerate(self.members):
            generator = member.predict(case, cancel, want_probabilities=True)
            while True:
                try:
                    progress = next(generator)
                except StopIteration as stop:
                    result = stop.value
                    break
                yield Progress(
                    index * progress.total + progress.done,
                    len(self.members) * progress.total,
                    f"model {index + 1} of {len(self.members)}: {progress.message}",
                )
            probabilities = result.probabilities.astype(np.float32)
            total = probabilities if total is None else total + probabilities
            results.append(result)
        assert total is not None
        mean = total / len(self.members)
        labels, cleanup = clean_up(regions_to_labels(mean), case.spacing, self.postprocessing)
        fallbacks = [r.fallback for r in results if r.fallback]
        box = _union_box([r.regions.slices for r in results if r.regions is not None], case.shape)
        return Prediction(
            labels=labels,
            probabilities=mean.astype(np.float16) if want_probabilities else None,
            device=results[0].device,
            fallback="; ".join(fallbacks) or None,
            seconds=time.perf_counter() - start,
            model_version="+".join(r.model_version for r in results),
            regions=RegionProbabilities.quantise(mean[(slice(None), *box)], box, case.shape),
            cleanup=cleanup,
        )


def _union_box(boxes: list[tuple[slice, ...]], shape: tuple[int, int, int]) -> tuple[slice, slice, slice]:
    """The smallest box holding every member's brain box (the whole grid when there is none)."""
    if not boxes:
        return tuple(slice(0, n) for n in shape)  # type: ignore[return-value]
    return tuple(
        slice(min(b[axis].start for b in boxes), max(b[axis].stop for b in boxes)) for axis in range(3)
    )  # type: ignore[return-value]
