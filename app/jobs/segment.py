"""The AI segmentation job: a frozen request and a generator that yields Progress per patch batch.

The network runs in a child process (``segmentation_core.inference_process``): this process, whose
GUI thread draws the views, never imports torch for it and never waits on the network's GIL.
"""

from __future__ import annotations

import os
from collections.abc import Generator
from dataclasses import dataclass
from pathlib import Path

from segmentation_core import inference_process
from segmentation_core.inference_process import predict_in_child_process
from segmentation_core.types import CancelToken, Case, Prediction, Progress

#: How much lower the AI process's CPU priority is than the viewer's (POSIX nice increment).
AI_NICE = 10


def warm_up_ai_process() -> None:
    """Start the AI process's fork server (torch imported) in the background at the AI's low priority."""
    inference_process.warm_up(AI_NICE)


@dataclass(frozen=True, eq=False)
class SegmentRequest:
    """Segment ``case`` with the bundle in ``bundle_dir`` on ``device`` (auto/cpu/cuda), optional TTA."""

    case: Case
    bundle_dir: Path
    device: str = "auto"
    tta: bool = False

    def run(self, cancel: CancelToken) -> Generator[Progress, None, Prediction]:
        # leave one core to the GUI, and let the GUI win the CPU when it needs it, so the views stay
        # responsive while the AI runs
        threads = max(1, (os.cpu_count() or 2) - 1)
        return (
            yield from predict_in_child_process(
                self.case,
                self.bundle_dir,
                device=self.device,
                tta=self.tta,
                threads=threads,
                nice=AI_NICE,
                cancel=cancel,
            )
        )
