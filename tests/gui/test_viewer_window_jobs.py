"""The job runner: progress, result, error and cancel reach the GUI thread, exactly one outcome each."""

from __future__ import annotations

import threading
import time

from app.jobs.runner import start_job
from segmentation_core.types import Progress


def counting_job(request: int, cancel):
    for i in range(request):
        cancel.raise_if_cancelled()
        yield Progress(i + 1, request, f"step {i + 1}")
    return f"counted {request} on {threading.current_thread().name != threading.main_thread().name}"


def failing_job(request: str, cancel):
    yield Progress(0, 1, "starting")
    raise ValueError(request)


def endless_job(request: None, cancel):
    while True:
        cancel.raise_if_cancelled()
        time.sleep(0.01)
        yield Progress(0, 0, "working")


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple] = []
        self.finished = False
        self.threads: set[bool] = set()

    def __call__(self, kind: str):
        def record(*args) -> None:
            self.threads.add(threading.current_thread() is threading.main_thread())
            if kind == "finished":
                self.finished = True
            else:
                self.events.append((kind, *args))

        return record

    def callbacks(self) -> dict:
        return {f"on_{k}": self(k) for k in ("progress", "result", "error", "cancelled", "finished")}


def test_progress_and_result_arrive_on_the_gui_thread(qtbot) -> None:
    rec = Recorder()
    handle = start_job(counting_job, 3, title="count", **rec.callbacks())
    qtbot.waitUntil(lambda: rec.finished, timeout=5000)
    assert rec.events == [
        ("progress", Progress(1, 3, "step 1")),
        ("progress", Progress(2, 3, "step 2")),
        ("progress", Progress(3, 3, "step 3")),
        ("result", "counted 3 on True"),
    ]
    assert rec.threads == {True} and handle.running is False


def test_errors_are_reported_once(qtbot) -> None:
    rec = Recorder()
    start_job(failing_job, "broken file", **rec.callbacks())
    qtbot.waitUntil(lambda: rec.finished, timeout=5000)
    assert rec.events[0] == ("progress", Progress(0, 1, "starting"))
    assert [e[0] for e in rec.events[1:]] == ["error"]
    assert str(rec.events[1][1]) == "broken file"


def test_cancel_stops_the_job_and_reports_cancelled(qtbot) -> None:
    rec = Recorder()
    handle = start_job(endless_job, None, **rec.callbacks())
    qtbot.waitUntil(lambda: len(rec.events) >= 2, timeout=5000)
    handle.cancel()
    qtbot.waitUntil(lambda: rec.finished, timeout=5000)
    outcomes = [e for e in rec.events if e[0] != "progress"]
    assert outcomes == [("cancelled",)]
    assert handle.token.cancelled
