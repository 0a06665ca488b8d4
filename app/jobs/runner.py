"""The one runner of background work, and the only Qt in ``app.jobs``.

``start_job`` runs a generator job (``run(request, cancel)`` yielding Progress, returning a result) in
a superqt worker thread; ``start_process`` is its child-process flavour (retraining: QProcess, stdout
line by line, cancel = terminate then kill). Every callback runs on the GUI thread.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Generator
from typing import Any

from PySide6.QtCore import QObject, QProcess, QProcessEnvironment, QThreadPool, QTimer
from superqt.utils import GeneratorWorker, create_worker

from segmentation_core.types import CancelledError, CancelToken, Progress

log = logging.getLogger(__name__)
JobFunction = Callable[[Any, CancelToken], Generator[Progress, None, Any]]
#: Jobs started and not yet finished (their threads run in Qt's global thread pool).
_RUNNING: set[JobHandle] = set()


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
    worker = create_worker(_closed_on_cancel, run, request, token, _start_thread=False, _ignore_errors=True)
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
        _RUNNING.discard(handle)
        report(on_cancelled)  # stopped without a result or an error (e.g. superqt's own abort)
        if on_finished is not None:
            on_finished()

    if on_progress is not None:
        # a closure, not the callable itself: Qt keeps only a weak reference to a bound method, so the
        # object behind it (e.g. a JobState held by no one else) could be collected mid-job
        worker.yielded.connect(lambda progress: on_progress(progress))
    worker.returned.connect(lambda result: report(on_result, result))
    worker.errored.connect(errored)
    worker.finished.connect(lambda *_: finished())
    _RUNNING.add(handle)
    worker.start()
    return handle


def _closed_on_cancel(
    run: JobFunction, request: object, token: CancelToken
) -> Generator[Progress, None, Any]:
    """``run(request, token)``, closed in its own thread at the first yield after a cancel, so its
    ``finally`` blocks (e.g. freeing shared memory) run at once; then CancelledError.

    (superqt's own abort leaves the generator suspended until it is garbage collected: shared memory of a
    cancelled AI run stayed mapped until the interpreter exited.)
    """
    job = run(request, token)
    if not isinstance(job, Generator):
        raise TypeError(f"a job's run() must be a generator function, got {run!r}")
    try:
        progress = next(job)
        while True:
            yield progress
            if token.cancelled:
                job.close()
                raise CancelledError()
            progress = next(job)
    except StopIteration as stop:
        return stop.value


def stop_all_jobs(timeout_ms: int = 5000) -> bool:
    """Cancel every running job and wait up to ``timeout_ms`` for their threads to end (when the window
    closes: a thread still running as the application goes away reports into deleted objects).

    Returns True when every thread ended. Their callbacks are not run: the window is going away.
    """
    for handle in list(_RUNNING):
        handle.cancel()
    return QThreadPool.globalInstance().waitForDone(timeout_ms)


class ProcessHandle:
    """A child process run as a job (retraining): its stdout arrives line by line on the GUI thread;
    ``cancel`` terminates it and kills it if it is still there ``kill_after_ms`` later."""

    def __init__(self, process: QProcess, title: str, kill_after_ms: int) -> None:
        self.process = process
        self.title = title
        self.kill_after_ms = kill_after_ms
        self.cancelled = False

    @property
    def running(self) -> bool:
        return self.process.state() != QProcess.ProcessState.NotRunning

    def processId(self) -> int:  # noqa: N802 (QProcess's name, for callers that expect a process)
        return int(self.process.processId())

    def cancel(self) -> None:
        if not self.running or self.cancelled:
            return
        self.cancelled = True
        self.process.terminate()
        QTimer.singleShot(self.kill_after_ms, self._kill_if_running)

    def _kill_if_running(self) -> None:
        if self.running:
            log.warning("%s: the child did not stop on terminate; killing it", self.title)
            self.process.kill()

    def stop_and_wait(self) -> None:
        """Cancel and block until the child is gone (closing a window)."""
        self.cancel()
        if not self.process.waitForFinished(self.kill_after_ms):
            self.process.kill()
            self.process.waitForFinished(2000)


def start_process(
    argv: list[str],
    *,
    title: str,
    on_line: Callable[[str], None],
    on_stderr: Callable[[str], None],
    on_finished: Callable[[int, bool, bool], None],
    kill_after_ms: int = 3000,
    parent: QObject | None = None,
) -> ProcessHandle:
    """Start ``argv`` as a child; ``on_finished(exit_code, crashed, cancelled)`` is called once at the end
    (also when it could not start: exit code -1, crashed). Every callback runs on the GUI thread."""
    process = QProcess(parent)
    env = QProcessEnvironment.systemEnvironment()
    env.insert("PYTHONUNBUFFERED", "1")
    process.setProcessEnvironment(env)
    handle = ProcessHandle(process, title, kill_after_ms)
    buffer = bytearray()
    ended: list[bool] = []

    def read_stdout() -> None:
        buffer.extend(bytes(process.readAllStandardOutput().data()))
        *lines, rest = bytes(buffer).split(b"\n")
        buffer[:] = rest
        for raw in lines:
            on_line(raw.decode("utf-8", errors="replace"))

    def read_stderr() -> None:
        on_stderr(bytes(process.readAllStandardError().data()).decode("utf-8", errors="replace"))

    def finished(exit_code: int, status: QProcess.ExitStatus) -> None:
        if ended:
            return
        ended.append(True)
        read_stdout()
        if buffer:
            on_line(bytes(buffer).decode("utf-8", errors="replace"))
            buffer.clear()
        on_finished(exit_code, status != QProcess.ExitStatus.NormalExit, handle.cancelled)

    def errored(error: QProcess.ProcessError) -> None:
        if error == QProcess.ProcessError.FailedToStart:
            on_stderr(f"could not start {title}: {process.errorString()}")
            finished(-1, QProcess.ExitStatus.CrashExit)

    process.readyReadStandardOutput.connect(read_stdout)
    process.readyReadStandardError.connect(read_stderr)
    process.finished.connect(finished)
    process.errorOccurred.connect(errored)
    log.info("%s: %s", title, " ".join(argv))
    process.start(argv[0], argv[1:])
    return handle
