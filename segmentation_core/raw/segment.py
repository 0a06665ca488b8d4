"""The model on a prepared study, and its labels back on the reference sequence's native grid."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from segmentation_core.raw.brain_mask import mask_volume_cm3
from segmentation_core.raw.cache import StudyCache
from segmentation_core.raw.mapping import labels_from_probabilities, probabilities_onto
from segmentation_core.raw.pipeline import DEFAULT_OPTIONS, WEIGHTS, PreparedStudy, RawOptions, prepare_study
from segmentation_core.raw.progress import ProgressCallback, StepProgress
from segmentation_core.raw.resampling import resample
from segmentation_core.raw.study import RawStudy, read_study
from segmentation_core.types import SEQUENCES, CancelToken, Case, CleanUp, Volume

if TYPE_CHECKING:
    from segmentation_core.inference.predictor import Predictor


@dataclass(eq=False)
class RawSegmentation:
    """Labels (uint8 internal) on ``case``: the study on its reference's native grid (canonical orientation),
    every other sequence registered onto it; ``case.source_affine`` is the reference file's geometry."""

    case: Case
    labels: np.ndarray
    probabilities: np.ndarray | None
    prepared: PreparedStudy
    device: str
    fallback: str | None
    model_version: str
    timings: dict[str, float] = field(default_factory=dict)
    cleanup: CleanUp | None = None

    def labels_on(self, sequence: str) -> np.ndarray:
        """The labels on ``sequence``'s own native grid (its file's axes and affine), through its transform."""
        from segmentation_core.raw.mapping import labels_onto

        volume = self.prepared.study.images[sequence]
        transform = self.prepared.transforms.get(sequence)
        to_reference = np.linalg.inv(transform.matrix) if transform is not None else None
        return labels_onto(self.labels, self.case.affine, (volume.shape, volume.affine), to_reference)

    def provenance(self) -> dict[str, Any]:
        """What an export sidecar records about the raw-study steps (transforms included)."""
        prepared = self.prepared
        info: dict[str, Any] = {
            "reference": prepared.study.reference,
            "detected": prepared.detection.describe(),
            "steps_skipped": prepared.skipped,
            "steps_from_cache": prepared.cached,
            "warnings": prepared.warnings,
        }
        if not prepared.skipped:
            info["transforms"] = {name: t.to_json() for name, t in prepared.transforms.items()}
            assert prepared.brain_mask_native is not None
            info["brain_mask_cm3"] = round(
                mask_volume_cm3(prepared.brain_mask_native, prepared.study.reference_volume.affine), 1
            )
            info["model_grid"] = {
                "shape": list(prepared.model_case.shape),
                "affine": np.round(prepared.model_case.affine, 6).tolist(),
            }
        return info


def native_case(prepared: PreparedStudy) -> Case:
    """The study on the reference's native grid in canonical orientation, the others through their transforms."""
    from segmentation_core.io.orientation import to_canonical

    study = prepared.study
    reference = study.reference_volume
    array, affine = to_canonical(reference.array, reference.affine, dtype=np.float32)
    grid = (array.shape, affine)
    channels = {study.reference: Volume(array, affine, reference.source)}
    for name in SEQUENCES:
        if name != study.reference:
            transform = prepared.transforms[name].matrix if name in prepared.transforms else None
            channels[name] = Volume(
                resample(study.images[name], grid, transform), affine, study.images[name].source
            )
    return Case(
        channels={name: channels[name] for name in SEQUENCES},
        reference=study.reference,
        case_id=study.case_id,
        warnings=list(prepared.warnings),
        source_affine=reference.affine,
        source_shape=reference.shape,
        source_files=dict(study.files),
        source_format=study.source_format,
    )


def segment_study(
    prepared: PreparedStudy,
    predictor: Predictor,
    *,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    steps: StepProgress | None = None,
    want_probabilities: bool = False,
) -> RawSegmentation:
    """Run ``predictor`` on the model-ready case and map its probabilities back onto the native grid."""
    steps = steps or StepProgress(WEIGHTS, progress, cancel)
    timings = dict(prepared.timings)
    start = time.perf_counter()
    steps.begin("segmentation", "segmentation: starting the model")
    generator = predictor.predict(prepared.model_case, cancel=steps.cancel, want_probabilities=True)
    while True:
        try:
            update = next(generator)
        except StopIteration as stop:
            prediction = stop.value
            break
        steps.report(update.fraction, f"segmentation: {update.message}" if update.message else "segmentation")
    timings["segmentation"] = time.perf_counter() - start
    start = time.perf_counter()
    steps.begin("mapping back", f"mapping the labels back onto {prepared.study.reference}")
    case = native_case(prepared)
    if prepared.skipped:
        labels, probabilities, cleanup = prediction.labels, prediction.probabilities, prediction.cleanup
        probabilities = None if probabilities is None else probabilities.astype(np.float32)
    else:
        grid = (case.shape, case.affine)
        probabilities = probabilities_onto(prediction.probabilities, prepared.model_case.affine, grid)
        labels, cleanup = labels_from_probabilities(probabilities, case.spacing, predictor.postprocessing)
    timings["mapping back"] = time.perf_counter() - start
    steps.finish(f"{prepared.study.case_id}: segmented")
    return RawSegmentation(
        case,
        labels,
        probabilities if want_probabilities else None,
        prepared,
        prediction.device,
        prediction.fallback,
        prediction.model_version,
        timings,
        cleanup,
    )


def run_study(
    source: Path | str | Mapping[str, Path | str] | RawStudy,
    predictor: Predictor,
    options: RawOptions = DEFAULT_OPTIONS,
    *,
    reference: str = "t1ce",
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    cache: StudyCache | None = None,
    want_probabilities: bool = False,
) -> RawSegmentation:
    """Read (unless given a RawStudy), prepare and segment a study: the whole pipeline with one progress scale."""
    steps = StepProgress(WEIGHTS, progress, cancel)
    start = time.perf_counter()
    study = source if isinstance(source, RawStudy) else read_study(source, reference=reference, cancel=cancel)
    read_seconds = time.perf_counter() - start
    prepared = prepare_study(study, options, cache=cache, steps=steps)
    prepared.timings = {"reading": read_seconds, **prepared.timings}
    return segment_study(prepared, predictor, steps=steps, want_probabilities=want_probabilities)
