"""The AI segmentation job: a frozen request and a generator that yields Progress per patch batch.

torch is imported only inside ``run``, in the worker thread, so the window opens without it.
"""

from __future__ import annotations

import os
from collections.abc import Generator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from segmentation_core.types import CancelToken, Case, Progress

if TYPE_CHECKING:
    from segmentation_core.inference import Prediction


@dataclass(frozen=True, eq=False)
class SegmentRequest:
    """Segment ``case`` with the bundle in ``bundle_dir`` on ``device`` (auto/cpu/cuda), optional TTA."""

    case: Case
    bundle_dir: Path
    device: str = "auto"
    tta: bool = False

    def run(self, cancel: CancelToken) -> Generator[Progress, None, Prediction]:
        from segmentation_core.inference import Predictor
        from segmentation_core.models.bundle import ModelBundle

        bundle = ModelBundle.load(self.bundle_dir)
        yield Progress(0, 0, f"loading {bundle.name} v{bundle.version}")
        # leave one core to the GUI thread so the views stay responsive while the AI runs
        threads = max(1, (os.cpu_count() or 2) - 1)
        predictor = Predictor(bundle, device=self.device, tta=self.tta, threads=threads)
        yield Progress(0, 0, f"running on {predictor.device.type.upper()}")
        return (yield from predictor.predict(self.case, cancel=cancel))
