"""Qt-free state of the one long job the user is watching (AI segmentation, loading, export)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from psygnal import Signal

from segmentation_core.types import Progress


def format_duration(seconds: float) -> str:
    """'1:05' for 65 s, '1:01:05' for 3665 s."""
    seconds = max(0, round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


@dataclass(frozen=True)
class JobSnapshot:
    """What a progress display shows at one moment."""

    title: str
    done: int
    total: int
    message: str
    elapsed_s: float
    eta_s: float | None

    @property
    def text(self) -> str:
        eta = "estimating…" if self.eta_s is None else format_duration(self.eta_s)
        return (
            f"{self.message}  {self.done}/{self.total}  elapsed {format_duration(self.elapsed_s)}, left {eta}"
        )


class JobState:
    """Tracks progress of a running job and estimates the time left from the rate so far."""

    changed = Signal(object)  # JobSnapshot

    def __init__(self, title: str, clock=time.monotonic) -> None:  # noqa: ANN001 (injectable clock)
        self.title = title
        self._clock = clock
        self._started = clock()
        self._first_step: tuple[float, int] | None = None
        self.snapshot = JobSnapshot(title, 0, 0, "starting…", 0.0, None)

    def update(self, progress: Progress) -> JobSnapshot:
        """Record a Progress; the ETA uses the rate since the first step (start-up cost excluded)."""
        now = self._clock()
        if self._first_step is None and progress.done > 0:
            self._first_step = (now, progress.done)
        eta = None
        if self._first_step is not None and progress.done > self._first_step[1]:
            t0, d0 = self._first_step
            rate = (progress.done - d0) / (now - t0) if now > t0 else 0.0
            if rate > 0:
                eta = (progress.total - progress.done) / rate
        self.snapshot = JobSnapshot(
            self.title, progress.done, progress.total, progress.message, now - self._started, eta
        )
        self.changed.emit(self.snapshot)
        return self.snapshot
