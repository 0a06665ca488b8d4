"""A cancelled job is closed in its own thread at its next yield: its clean-up runs at once."""

from __future__ import annotations

import time

from segmentation_core.types import Progress


def job_holding_a_resource(events: list[str]):
    def run(request: object, cancel: object):
        events.append("acquired")
        try:
            while True:  # never looks at its token: the runner must stop it
                time.sleep(0.01)
                yield Progress(0, 1, "working")
        finally:
            events.append("released")

    return run


def test_cancel_closes_the_generator_so_its_finally_runs_before_the_thread_ends(qtbot) -> None:
    from PySide6.QtCore import QThreadPool

    from app.jobs.runner import start_job

    events: list[str] = []
    outcome: list[str] = []
    handle = start_job(
        job_holding_a_resource(events),
        None,
        on_result=lambda r: outcome.append("result"),
        on_error=lambda e: outcome.append("error"),
        on_cancelled=lambda: outcome.append("cancelled"),
    )
    qtbot.waitUntil(lambda: events == ["acquired"])
    handle.cancel()
    assert QThreadPool.globalInstance().waitForDone(5000)
    assert events == ["acquired", "released"]  # superqt's own abort left it suspended: never released
    qtbot.waitUntil(lambda: not handle.running)
    assert outcome == ["cancelled"]


def test_a_job_that_is_not_a_generator_is_an_error(qtbot) -> None:
    from app.jobs.runner import start_job

    errors: list[BaseException] = []
    handle = start_job(lambda request, cancel: 42, None, on_error=errors.append)
    qtbot.waitUntil(lambda: not handle.running)
    assert len(errors) == 1 and "must be a generator function" in str(errors[0])
