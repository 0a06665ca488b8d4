"""Step 2, co-registration: rigid (6 degrees of freedom) registration of a sequence onto the reference.

SimpleITK, Mattes mutual information, three resolution levels, regular-step gradient descent, run from
each distinct centred start (scanner coordinates, image centres, centres of mass) keeping the best final
metric (the start with the best initial metric can lead to a wrong optimum). Both images are first
resampled (B-spline) to 2 mm isotropic working grids: registering 5 mm slices directly makes the metric
favour transforms that line the slices up, which costs up to a degree of accuracy.

Each run uses one ITK thread: with several, ITK sums the metric in a varying order, so the same study
gave a different transform on every run (1e-3 mm on TCGA-FG-6692, and once a different optimum on a
synthetic case). The starts run side by side in Python threads instead (SimpleITK releases the GIL).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import TypeVar

import numpy as np
import SimpleITK as sitk

from segmentation_core.io.sitk_formats import to_sitk
from segmentation_core.raw.errors import RawStudyError
from segmentation_core.raw.transforms import RigidTransform
from segmentation_core.types import CancelledError, CancelToken, Volume

log = logging.getLogger(__name__)
STEP = "co-registration"
#: Working grid spacing (mm) and the registration schedule.
WORKING_SPACING = 2.0
SHRINK_FACTORS = (4, 2, 1)
SMOOTHING_MM = (4.0, 2.0, 0.0)
HISTOGRAM_BINS = 32
SAMPLING_FRACTION = 0.05
MAX_ITERATIONS = 200
SEED = 20260
#: Plausibility limits: a rigid head motion between two series of one study stays well inside these.
MAX_ROTATION_DEGREES = 30.0
MAX_TRANSLATION_MM = 50.0
MIN_SIMILARITY = 0.2
#: Two starts closer than this (the fixed image's corners moved, mm) converge alike: only one is run.
START_TOLERANCE_MM = 2.0

T = TypeVar("T")

#: Called with the fraction (0..1) of this registration done and a message.
FractionCallback = Callable[[float, str], None]


def working_image(volume: Volume, spacing: float = WORKING_SPACING) -> sitk.Image:
    """``volume`` B-spline resampled onto an isotropic grid of ``spacing`` mm with the same directions."""
    image = to_sitk(np.asarray(volume.array, dtype=np.float32), volume.affine)
    size = [max(2, int(round(n * s / spacing))) for n, s in zip(image.GetSize(), image.GetSpacing())]
    # same physical extent: the grid's corner stays, the first voxel centre moves by half a voxel change
    direction = np.asarray(image.GetDirection()).reshape(3, 3)
    half_change = (spacing - np.asarray(image.GetSpacing())) / 2.0
    origin = np.asarray(image.GetOrigin()) + direction @ half_change
    return sitk.Resample(
        image,
        size,
        sitk.Transform(),
        sitk.sitkBSpline,
        origin.tolist(),
        [spacing] * 3,
        image.GetDirection(),
        0.0,
        sitk.sitkFloat32,
    )


def _new_method() -> sitk.ImageRegistrationMethod:
    """The registration method: metric, sampling, optimiser and pyramid (no start, no callbacks)."""
    method = sitk.ImageRegistrationMethod()
    method.SetMetricAsMattesMutualInformation(HISTOGRAM_BINS)
    method.SetMetricSamplingStrategy(method.RANDOM)
    method.SetMetricSamplingPercentage(SAMPLING_FRACTION, SEED)
    method.SetInterpolator(sitk.sitkLinear)
    method.SetOptimizerAsRegularStepGradientDescent(
        learningRate=2.0,
        minStep=1e-3,
        numberOfIterations=MAX_ITERATIONS,
        relaxationFactor=0.5,
        gradientMagnitudeTolerance=1e-8,
    )
    method.SetShrinkFactorsPerLevel(list(SHRINK_FACTORS))
    method.SetSmoothingSigmasPerLevel(list(SMOOTHING_MM))
    method.SmoothingSigmasAreSpecifiedInPhysicalUnitsOn()
    return method


def _starting_points(fixed: sitk.Image, moving: sitk.Image) -> list[sitk.Transform]:
    """Distinct centred starts (scanner coordinates, image centres, centres of mass), best metric first.

    Starts that move the fixed image's corners by less than START_TOLERANCE_MM from a better one are
    dropped: they would converge to the same result.
    """
    centre = fixed.TransformContinuousIndexToPhysicalPoint([(n - 1) / 2.0 for n in fixed.GetSize()])
    scanner = sitk.Euler3DTransform()
    scanner.SetCenter(centre)
    candidates = [scanner]
    for mode in (
        sitk.CenteredTransformInitializerFilter.GEOMETRY,
        sitk.CenteredTransformInitializerFilter.MOMENTS,
    ):
        candidates.append(sitk.CenteredTransformInitializer(fixed, moving, sitk.Euler3DTransform(), mode))
    method = _new_method()
    scores = []
    for candidate in candidates:
        method.SetInitialTransform(candidate, inPlace=False)
        scores.append(method.MetricEvaluate(fixed, moving))
    corners = [
        fixed.TransformIndexToPhysicalPoint([i * (n - 1) for i, n in zip(corner, fixed.GetSize())])
        for corner in np.ndindex(2, 2, 2)
    ]
    kept: list[tuple[sitk.Transform, np.ndarray]] = []  # (start, where it moves the corners)
    for index in np.argsort(scores):
        candidate = candidates[int(index)]
        moved = np.array([candidate.TransformPoint(c) for c in corners])
        if all(np.linalg.norm(moved - other, axis=1).max() > START_TOLERANCE_MM for _, other in kept):
            kept.append((candidate, moved))
    return [start for start, _ in kept]


def register(
    reference: Volume,
    moving: Volume,
    sequence: str,
    *,
    on_fraction: FractionCallback | None = None,
    cancel: CancelToken | None = None,
) -> RigidTransform:
    """The rigid transform taking ``reference`` world points to ``moving`` world points.

    The registration runs from every distinct centred start and keeps the result with the best final
    metric: the start with the best initial metric (often the centres of mass) can lead to a wrong
    optimum (a 10 degree error on a synthetic case) that another start avoids.

    Raises RawStudyError when the result is implausible (rotation, translation or similarity outside
    the limits above) and CancelledError when ``cancel`` is set (checked every optimiser iteration).
    """
    fixed, moved = working_image(reference), working_image(moving)
    with _one_thread():  # deterministic (see the module docstring)
        starts = _try(sequence, lambda: _starting_points(fixed, moved))
        progress = _SharedProgress(on_fraction, len(starts))

        def run(number: int) -> tuple[sitk.Transform, sitk.ImageRegistrationMethod]:
            return _execute(fixed, moved, starts[number], sequence, progress.part(number), cancel)

        # SimpleITK releases the GIL while it works: the starts run side by side on the cores
        with ThreadPoolExecutor(max_workers=min(len(starts), os.cpu_count() or 1)) as pool:
            runs = list(pool.map(run, range(len(starts))))
    if cancel is not None:
        cancel.raise_if_cancelled()
    similarities = [-method.GetMetricValue() for _, method in runs]
    log.info("%s %s: similarity per start %s", STEP, sequence, [round(v, 4) for v in similarities])
    best = int(np.argmax(similarities))
    result, method = runs[best]
    similarity = similarities[best]
    transform = RigidTransform.from_itk(
        result, similarity=similarity, iterations=method.GetOptimizerIteration()
    )
    log.info(
        "%s %s: rotation %.2f deg, translation %.2f mm, similarity %.3f (%s)",
        STEP,
        sequence,
        transform.rotation_degrees,
        transform.translation_mm,
        transform.similarity,
        method.GetOptimizerStopConditionDescription(),
    )
    check_plausible(transform, sequence)
    return transform


class _SharedProgress:
    """One progress callback for several runs side by side: it reports their mean fraction."""

    def __init__(self, on_fraction: FractionCallback | None, count: int) -> None:
        self.on_fraction = on_fraction
        self.fractions = [0.0] * count
        self.lock = threading.Lock()

    def part(self, number: int) -> FractionCallback | None:
        """The callback for run ``number``."""
        if self.on_fraction is None:
            return None

        def report(fraction: float, message: str) -> None:
            with self.lock:
                self.fractions[number] = fraction
                self.on_fraction(sum(self.fractions) / len(self.fractions), message)  # type: ignore[misc]

        return report


@contextmanager
def _one_thread() -> Iterator[None]:
    """SimpleITK filters created inside run on one thread (the metric's threads follow the global default)."""
    previous = sitk.ProcessObject.GetGlobalDefaultNumberOfThreads()
    sitk.ProcessObject.SetGlobalDefaultNumberOfThreads(1)
    try:
        yield
    finally:
        sitk.ProcessObject.SetGlobalDefaultNumberOfThreads(previous)


def _try(sequence: str, work: Callable[[], T]) -> T:
    """``work()``, with SimpleITK's failures (e.g. on an image without structure) as one RawStudyError."""
    try:
        return work()
    except RuntimeError as exc:
        last = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        raise RawStudyError(
            STEP, sequence, f"SimpleITK failed ({last})", "check that the sequence shows the same head"
        ) from exc


def _execute(
    fixed: sitk.Image,
    moved: sitk.Image,
    start: sitk.Transform,
    sequence: str,
    on_fraction: FractionCallback | None,
    cancel: CancelToken | None,
) -> tuple[sitk.Transform, sitk.ImageRegistrationMethod]:
    """The multi-resolution registration of ``moved`` onto ``fixed`` from ``start``: (transform, method)."""
    method = _new_method()
    levels = len(SHRINK_FACTORS)

    def on_iteration() -> None:
        if cancel is not None and cancel.cancelled:
            method.StopRegistration()
            return
        if on_fraction is not None:
            level = method.GetCurrentLevel()
            iteration = method.GetOptimizerIteration()
            within = min(iteration / 40.0, 0.95)
            on_fraction((level + within) / levels, f"{STEP} {sequence}: level {level + 1} of {levels}")

    method.AddCommand(sitk.sitkIterationEvent, on_iteration)

    def run() -> sitk.Transform:
        method.SetOptimizerScalesFromPhysicalShift()
        method.SetInitialTransform(start, inPlace=False)
        return method.Execute(fixed, moved)

    return _try(sequence, run), method


def check_plausible(transform: RigidTransform, sequence: str) -> None:
    """Raise RawStudyError when a registration result cannot be a head's motion between two series."""
    remedy = "check that the series belong to the same patient and study, or register them elsewhere first"
    if transform.similarity < MIN_SIMILARITY:
        raise RawStudyError(
            STEP,
            sequence,
            f"failed: the images are too dissimilar after registration (mutual information "
            f"{transform.similarity:.2f} < {MIN_SIMILARITY})",
            remedy,
        )
    if transform.rotation_degrees > MAX_ROTATION_DEGREES:
        raise RawStudyError(
            STEP,
            sequence,
            f"implausible result: rotation {transform.rotation_degrees:.1f}° > {MAX_ROTATION_DEGREES:g}°",
            remedy,
        )
    if transform.translation_mm > MAX_TRANSLATION_MM:
        raise RawStudyError(
            STEP,
            sequence,
            f"implausible result: translation {transform.translation_mm:.1f} mm > {MAX_TRANSLATION_MM:g} mm",
            remedy,
        )


__all__ = ["CancelledError", "check_plausible", "register", "working_image"]
