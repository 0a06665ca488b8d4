"""Two-stage (cascade) prediction: a coarse model finds the tumour, a fine model segments only around it.

As nnU-Net's cascade localises with a low-resolution network and refines at full resolution: the
``coarse`` predictor (e.g. the 2 mm model) runs on the whole case; the ``fine`` predictor (e.g. a 1 mm
model) then runs its sliding window only over the box around the coarse whole tumour (grown by
``margin_mm``, at least one patch wide). The fine model sees the case normalised exactly as in its
training (z-score over the whole brain, then the crop), and its result is mapped back to the case grid
through the same :class:`Preprocessed` steps as a single-stage prediction. A fine model whose bundle lists
``coarse_inputs`` also gets the coarse probabilities of those regions as extra input channels (as
nnU-Net's cascade gives its full-resolution stage the low-resolution segmentation).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Generator

import numpy as np
import torch

from segmentation_core.inference.device import fallback_attempts
from segmentation_core.inference.predictor import Predictor, prediction_from_logits, run_with_fallbacks
from segmentation_core.inference.sliding_window import sliding_window
from segmentation_core.labels import REGION_NAMES
from segmentation_core.preprocessing import Box, Preprocessed, preprocess
from segmentation_core.types import CancelToken, Case, Prediction, Progress

log = logging.getLogger(__name__)

#: Logit given to network-grid voxels outside the fine stage's window: probability ~0 (background).
OUTSIDE_LOGIT = -20.0


def tumour_box(mask: np.ndarray, spacing: tuple[float, float, float], margin_mm: float) -> Box | None:
    """Bounding box of ``mask`` on its grid grown by ``margin_mm`` per side; None when it is empty."""
    hits = np.argwhere(mask)
    if hits.size == 0:
        return None
    lo, hi = hits.min(axis=0), hits.max(axis=0) + 1
    grow = [math.ceil(margin_mm / s) for s in spacing]
    return tuple(
        slice(max(0, int(a) - g), min(n, int(b) + g)) for a, b, g, n in zip(lo, hi, grow, mask.shape)
    )  # type: ignore[return-value]


def network_window(prepared: Preprocessed, box: Box, patch_size: tuple[int, int, int]) -> Box:
    """The case-grid ``box`` as a window of the network grid, widened to at least one patch."""
    window = []
    for axis, (wanted, crop) in enumerate(zip(box, prepared.box)):
        n_crop, n_net = crop.stop - crop.start, prepared.image.shape[1 + axis]
        scale = n_net / n_crop
        lo = max(0, math.floor((max(wanted.start, crop.start) - crop.start) * scale))
        hi = min(n_net, math.ceil((min(wanted.stop, crop.stop) - crop.start) * scale))
        short = patch_size[axis] - (hi - lo)
        if short > 0:  # widen symmetrically within the image so the network sees a whole patch
            lo = max(0, lo - short // 2 - short % 2)
            hi = min(n_net, lo + patch_size[axis])
            lo = max(0, hi - patch_size[axis])
        window.append(slice(lo, max(hi, lo + 1)))
    return tuple(window)  # type: ignore[return-value]


class CascadePredictor:
    """``coarse`` then ``fine`` (see the module docstring); ``predict`` has Predictor's interface.

    The fine predictor's post-processing settings apply to the result; with no coarse tumour the
    coarse (empty) result is returned as it is.
    """

    def __init__(self, coarse: Predictor, fine: Predictor, margin_mm: float = 16.0) -> None:
        if margin_mm < 0:
            raise ValueError(f"margin_mm must be >= 0, got {margin_mm}")
        self.coarse = coarse
        self.fine = fine
        self.margin_mm = margin_mm

    def predict(
        self, case: Case, cancel: CancelToken | None = None, want_probabilities: bool = False
    ) -> Generator[Progress, None, Prediction]:
        start = time.perf_counter()
        fine = self.fine
        guided = bool(fine.bundle.coarse_inputs)
        coarse = yield from self.coarse.predict(case, cancel, want_probabilities=want_probabilities or guided)
        box = tumour_box(coarse.labels != 0, case.spacing, self.margin_mm)
        if box is None:
            return coarse
        if torch.get_num_threads() != fine.threads:
            torch.set_num_threads(fine.threads)
        prepared = preprocess(case, fine.bundle.channels, fine.bundle.spacing)
        if guided:
            assert coarse.probabilities is not None, "asked for above"
            picked = [REGION_NAMES.index(r) for r in fine.bundle.coarse_inputs]
            prepared = prepared.with_inputs(coarse.probabilities[picked])
        window = network_window(prepared, box, fine.bundle.patch_size)

        def run(attempt):  # noqa: ANN001, ANN202 (an Attempt; a sliding-window generator)
            return sliding_window(
                prepared.image[(slice(None), *window)],
                fine.patch_predictor(attempt.device),
                fine.bundle.patch_size,
                fine.overlap,
                attempt.batch_size,
                cancel,
                device=attempt.device,
                stitch_device=attempt.stitch_device,
            )

        inside, attempt = yield from run_with_fallbacks(fallback_attempts(fine.device, fine.batch_size), run)
        regions = inside.shape[0] // 2 if fine.tta else inside.shape[0]  # TTA adds the flips' spread
        logits = np.zeros((inside.shape[0], *prepared.image.shape[1:]), np.float32)
        logits[:regions] = OUTSIDE_LOGIT
        logits[(slice(None), *window)] = inside
        prediction = prediction_from_logits(
            torch.from_numpy(logits),
            prepared,
            fine,
            case,
            want_probabilities=want_probabilities,
            device=attempt.device,
            fallback=attempt.fallback or coarse.fallback,
            started=start,
            model_version=f"{coarse.model_version}+{fine.bundle.version}",
        )
        log.info("cascade predicted %s on %s in %.1f s", case.case_id, attempt.device, prediction.seconds)
        return prediction
