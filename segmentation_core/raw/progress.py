"""Progress of the whole pipeline: each step owns a share of one 0..1000 scale; cancel checked at each report."""

from __future__ import annotations

from collections.abc import Callable

from segmentation_core.types import CancelToken, Progress

ProgressCallback = Callable[[Progress], None]
TOTAL = 1000


class StepProgress:
    """Reports ``Progress(done, 1000, message)``; ``begin(step, weight)`` opens the next share of the scale."""

    def __init__(
        self, weights: dict[str, float], progress: ProgressCallback | None, cancel: CancelToken | None
    ):
        total = sum(weights.values())
        self._shares = {name: w / total for name, w in weights.items()}
        self._starts: dict[str, float] = {}
        start = 0.0
        for name, share in self._shares.items():
            self._starts[name] = start
            start += share
        self.progress = progress
        self.cancel = cancel
        self.step = next(iter(weights))

    def begin(self, step: str, message: str) -> None:
        """Start ``step`` (checks cancel, reports its first message)."""
        self.step = step
        self.report(0.0, message)

    def report(self, fraction: float, message: str) -> None:
        """``fraction`` (0..1) of the current step is done; raises CancelledError when cancelled."""
        if self.cancel is not None:
            self.cancel.raise_if_cancelled()
        if self.progress is not None:
            done = self._starts[self.step] + self._shares[self.step] * min(max(fraction, 0.0), 1.0)
            self.progress(Progress(int(round(done * TOTAL)), TOTAL, message))

    def finish(self, message: str) -> None:
        if self.progress is not None:
            self.progress(Progress(TOTAL, TOTAL, message))
