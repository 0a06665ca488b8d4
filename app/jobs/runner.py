"""Run a generator job (``run(request, cancel)`` yielding Progress, returning a result) in a worker thread.

The only Qt in ``app.jobs``: a superqt generator worker. Progress, the result, errors and cancellation
are delivered through Qt signals, so every callback runs on the GUI thread.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Generator
from typing import Any

from superqt.utils import GeneratorWorker, create_worker

from segmentation_core.types import CancelledError, CancelToken, Progress

log = logging.getLogger(__name__)
JobFunction = Callable[[Any, CancelToken], Generator[Progress, None, Any]]


class JobHandle:
    """A running job: cancel it, or ask whether it is still running."""

    def __init__(self, worker: GeneratorWorker, token: CancelToken, title: str) -> None:
        self.worker = worker
        self.token = token
        self.title = title
        self.running = True
        #: The progress view showing this job, if any (kept alive with the handle).
        self.dialog: object | None = None

    def cancel(self) -> None:
        """Ask the job to stop: its CancelToken is set and the generator is closed at its next yield."""
        self.token.cancel()
        self.worker.quit()


def start_job(
    run: JobFunction,
    request: object,
    *,
    title: str = "",
    on_progress: Callable[[Progress], None] | None = None,
    on_result: Callable[[Any], None] | None = None,
    on_error: Callable[[BaseException], None] | None = None,
    on_cancelled: Callable[[], None] | None = None,
    on_finished: Callable[[], None] | None = None,
) -> JobHandle:
    """Start ``run(request, token)`` in a worker thread; callbacks are called on the GUI thread.

    Exactly one of ``on_result``, ``on_error`` or ``on_cancelled`` is called, then ``on_finished``.
    A CancelledError raised by the job counts as cancelled, not as an error.
    """
    token = CancelToken()
    worker = create_worker(run, request, token, _start_thread=False, _ignore_errors=True)
    assert isinstance(worker, GeneratorWorker), "a job's run() must be a generator function"
    handle = JobHandle(worker, token, title)
    outcome: dict[str, bool] = {"reported": False}

    def report(callback: Callable[..., None] | None, *args: object) -> None:
        if not outcome["reported"]:
            outcome["reported"] = True
            if callback is not None:
                callback(*args)

    def errored(exc: BaseException) -> None:
        if isinstance(exc, CancelledError):
            report(on_cancelled)
        else:
            log.info("job %r failed: %s", title, exc)
            report(on_error, exc)

    def finished() -> None:
        handle.running = False
        report(on_cancelled)  # aborted at a yield: neither a result nor an error came
        if on_finished is not None:
            on_finished()

    if on_progress is not None:
        # a closure, not the callable itself: Qt keeps only a weak reference to a bound method, so the
        # object behind it (e.g. a JobState held by no one else) could be collected mid-job
        worker.yielded.connect(lambda progress: on_progress(progress))
    worker.returned.connect(lambda result: report(on_result, result))
    worker.errored.connect(errored)
    worker.finished.connect(lambda *_: finished())
    worker.start()
    return handle
