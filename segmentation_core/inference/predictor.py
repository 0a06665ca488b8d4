"""Whole-case prediction: preprocess, sliding window (with TTA and OOM fallbacks), labels on the case grid."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Generator
from typing import TypeVar

import numpy as np
import torch

from segmentation_core.inference.device import (
    Attempt,
    cpu_threads,
    default_batch_size,
    fallback_attempts,
    is_out_of_memory,
    release_memory,
    resolve_device,
)
from segmentation_core.inference.postprocess import (
    OFF,
    Postprocessing,
    bundle_postprocessing,
    clean_up,
    regions_to_labels,
)
from segmentation_core.inference.sliding_window import PatchPredictor, sliding_window
from segmentation_core.inference.tta import mirror_set, mirrored, mirrored_with_spread
from segmentation_core.io.sanity import check_prediction_input
from segmentation_core.models.bundle import ModelBundle
from segmentation_core.models.unet import UNet3D
from segmentation_core.preprocessing import Preprocessed, preprocess
from segmentation_core.types import CancelToken, Case, Prediction, Progress, RegionProbabilities

log = logging.getLogger(__name__)
T = TypeVar("T")


class Predictor:
    """Runs a model bundle on cases. ``predict`` is a generator: Progress per batch, returns a Prediction.

    ``tta``: False, True (8 mirrors) or a number of mirrors 1..8. ``postprocess``: True (the
    bundle's clean-up settings, else the defaults), False, or a :class:`Postprocessing`. ``threads``: CPU threads (default: all cores).
    """

    def __init__(
        self,
        bundle: ModelBundle,
        device: str = "auto",
        overlap: float = 0.5,
        tta: bool | int = False,
        batch_size: int | None = None,
        postprocess: bool | Postprocessing = True,
        threads: int | None = None,
    ) -> None:
        if not 0.0 <= overlap < 1.0:
            raise ValueError(f"overlap must be in [0, 1), got {overlap}")
        self.bundle = bundle
        self.device = resolve_device(device)
        self.overlap = overlap
        self.mirrors = mirror_set(tta)
        self.batch_size = batch_size or default_batch_size(self.device)
        if isinstance(postprocess, Postprocessing):
            self.postprocessing = postprocess
        else:
            self.postprocessing = bundle_postprocessing(bundle) if postprocess else OFF
        self.threads = cpu_threads(threads)
        self._networks: dict[torch.device, UNet3D] = {}

    def network(self, device: torch.device) -> UNet3D:
        """The bundle's trained network on ``device`` (loaded once per device)."""
        if device not in self._networks:
            self._networks[device] = self.bundle.load_network().to(device)
        return self._networks[device]

    @property
    def tta(self) -> bool:
        """Whether more than one mirror is averaged (the output then carries the flips' spread)."""
        return len(self.mirrors) > 1

    def patch_predictor(self, device: torch.device) -> PatchPredictor:
        """Batch -> logits on ``device``: inference mode, fp16 autocast on CUDA, mirroring TTA.

        With TTA the output has twice the channels: the mean logits, then the flips' probability
        standard deviations (see :func:`mirrored_with_spread`).
        """
        wrap = mirrored_with_spread if self.tta else mirrored
        network = wrap(self.network(device), self.mirrors)
        autocast = device.type == "cuda"

        def predict(batch: torch.Tensor) -> torch.Tensor:
            with torch.inference_mode(), torch.autocast(device.type, torch.float16, enabled=autocast):
                return network(batch).float()

        return predict

    def predict(
        self, case: Case, cancel: CancelToken | None = None, want_probabilities: bool = False
    ) -> Generator[Progress, None, Prediction]:
        """Segment ``case``; yields Progress per patch batch; CancelledError within one batch of cancel."""
        start = time.perf_counter()
        if self.bundle.coarse_inputs:
            raise ValueError(
                f"{self.bundle.name} {self.bundle.version} is the fine stage of a cascade: it needs a coarse "
                f"model's {'/'.join(self.bundle.coarse_inputs)} probabilities as input and cannot run alone"
            )
        check_prediction_input(case)  # garbage in must not give a confident tumour out
        if torch.get_num_threads() != self.threads:
            torch.set_num_threads(self.threads)
        prepared = preprocess(case, self.bundle.channels, self.bundle.spacing)
        if not np.isfinite(prepared.image).all():
            raise ValueError(f"{case.case_id}: the normalised images hold NaN or infinite values; no result")
        if cancel is not None:
            cancel.raise_if_cancelled()

        def run(attempt: Attempt) -> Generator[Progress, None, np.ndarray]:
            return sliding_window(
                prepared.image,
                self.patch_predictor(attempt.device),
                self.bundle.patch_size,
                self.overlap,
                attempt.batch_size,
                cancel,
                device=attempt.device,
                stitch_device=attempt.stitch_device,
            )

        logits, attempt = yield from run_with_fallbacks(fallback_attempts(self.device, self.batch_size), run)
        if not np.isfinite(logits).all():
            raise ValueError(
                f"{case.case_id}: the model {self.bundle.name} {self.bundle.version} produced NaN or infinite "
                "outputs; no result was made — check or replace the model"
            )
        prediction = prediction_from_logits(
            torch.from_numpy(logits),
            prepared,
            self,
            case,
            want_probabilities=want_probabilities,
            device=attempt.device,
            fallback=attempt.fallback,
            started=start,
            model_version=str(self.bundle.version),
        )
        log.info("predicted %s on %s in %.1f s", case.case_id, attempt.device, prediction.seconds)
        return prediction


def prediction_from_logits(
    logits: torch.Tensor,
    prepared: Preprocessed,
    predictor: Predictor,
    case: Case,
    *,
    want_probabilities: bool,
    device: torch.device,
    fallback: str | None,
    started: float,
    model_version: str,
) -> Prediction:
    """A Prediction from the network's logits on ``prepared``'s grid (TTA's spread channels follow the regions).

    Sigmoid in place, then labels worked out inside the brain box only (everything outside is background),
    post-processed with ``predictor``'s settings and put back on the case grid.
    """
    regions = logits.shape[0] // 2 if predictor.tta else logits.shape[0]
    logits[:regions].sigmoid_()
    cropped = prepared.to_crop(logits).numpy()
    probabilities = cropped[:regions]
    spread = cropped[regions:] if predictor.tta else None
    labels, cleanup = clean_up(regions_to_labels(probabilities), case.spacing, predictor.postprocessing)
    return Prediction(
        labels=prepared.uncrop(labels),
        probabilities=prepared.uncrop(probabilities.astype(np.float16)) if want_probabilities else None,
        device=device.type,
        fallback=fallback,
        seconds=time.perf_counter() - started,
        model_version=model_version,
        regions=RegionProbabilities.quantise(probabilities, prepared.box, case.shape, spread),
        tta=predictor.tta,
        cleanup=cleanup,
    )


def run_with_fallbacks(
    attempts: list[Attempt], run: Callable[[Attempt], Generator[Progress, None, T]]
) -> Generator[Progress, None, tuple[T, Attempt]]:
    """Run ``run(attempt)`` for each attempt in turn until one finishes without running out of memory."""
    for attempt in attempts:
        try:
            result = yield from run(attempt)
        except Exception as exc:
            if attempt is attempts[-1] or not is_out_of_memory(exc):
                raise
            release_memory(attempt.device)
            continue
        if attempt.fallback:
            log.warning("prediction needed a fallback: %s", attempt.fallback)
        return result, attempt
    raise ValueError("no attempts to run")


def run_prediction(
    predictor: Predictor,
    case: Case,
    cancel: CancelToken | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    want_probabilities: bool = False,
) -> Prediction:
    """Drain ``predictor.predict(case)``, passing each Progress to ``on_progress``; the Prediction."""
    generator = predictor.predict(case, cancel=cancel, want_probabilities=want_probabilities)
    while True:
        try:
            progress = next(generator)
        except StopIteration as stop:
            return stop.value
        if on_progress is not None:
            on_progress(progress)
