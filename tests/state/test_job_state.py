"""Job progress and time-left estimate, with a fake clock."""

from __future__ import annotations

from app.state.job import JobState, format_duration
from segmentation_core.types import Progress


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_eta_uses_the_rate_after_the_first_step() -> None:
    clock = FakeClock()
    job = JobState("AI segmentation", clock=clock)
    seen = []
    job.changed.connect(seen.append)
    clock.now = 110.0  # 10 s of model loading before the first batch
    first = job.update(Progress(1, 21, "patch"))
    assert first.eta_s is None and first.elapsed_s == 10.0
    clock.now = 114.0  # 4 more batches in 4 s -> 1 batch/s, 16 left
    snap = job.update(Progress(5, 21, "patch"))
    assert snap.eta_s == 16.0
    assert snap.text == "patch  5/21  elapsed 0:14, left 0:16"
    assert [s.done for s in seen] == [1, 5]


def test_format_duration() -> None:
    assert format_duration(0) == "0:00"
    assert format_duration(65.4) == "1:05"
    assert format_duration(3665) == "1:01:05"
