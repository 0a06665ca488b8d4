"""A job's progress callback may be the bound method of an object nobody else keeps."""

from __future__ import annotations

import gc
import time

from segmentation_core.types import Progress


class Counter:
    def __init__(self, seen: list[int]) -> None:
        self.seen = seen

    def update(self, progress: Progress) -> None:
        self.seen.append(progress.done)


def slow_job(request: object, cancel: object):
    for step in range(1, 4):
        time.sleep(0.05)
        gc.collect()
        yield Progress(step, 3)
    return "done"


def test_progress_reaches_a_bound_method_of_an_unreferenced_object(qtbot) -> None:
    from app.jobs.runner import start_job

    seen: list[int] = []
    results: list[str] = []
    handle = start_job(slow_job, None, on_progress=Counter(seen).update, on_result=results.append)
    gc.collect()
    qtbot.waitUntil(lambda: not handle.running, timeout=10_000)
    assert seen == [1, 2, 3]
    assert results == ["done"]
