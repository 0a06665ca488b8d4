"""The runner's child-process flavour: stdout line by line (a last line without newline too), stderr,
one end callback, and cancel = terminate then kill."""

from __future__ import annotations

import sys

from app.jobs.runner import start_process

CHILD = (
    "import sys, time; print('a'); print('b', flush=True); sys.stderr.write('oops\\n'); sys.stdout.write('c')"
)
STUBBORN = (
    "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('ready', flush=True); "
    "time.sleep(60)"
)


def run(qtbot, code: str, **kw):  # noqa: ANN001, ANN003, ANN201
    lines: list[str] = []
    errors: list[str] = []
    ends: list[tuple[int, bool, bool]] = []
    handle = start_process(
        [sys.executable, "-c", code],
        title="test child",
        on_line=lines.append,
        on_stderr=errors.append,
        on_finished=lambda *args: ends.append(args),
        **kw,
    )
    return handle, lines, errors, ends


def test_lines_errors_and_one_end(qtbot) -> None:
    handle, lines, errors, ends = run(qtbot, CHILD)
    qtbot.waitUntil(lambda: bool(ends), timeout=30000)
    assert lines == ["a", "b", "c"] and "".join(errors) == "oops\n"
    assert ends == [(0, False, False)] and not handle.running


def test_cancel_kills_a_child_that_ignores_terminate(qtbot) -> None:
    handle, lines, _, ends = run(qtbot, STUBBORN, kill_after_ms=300)
    qtbot.waitUntil(lambda: lines == ["ready"], timeout=30000)
    handle.cancel()
    qtbot.waitUntil(lambda: bool(ends), timeout=10000)
    assert ends[0][1:] == (True, True)  # crashed (killed) and cancelled


def test_a_missing_program_ends_as_a_crash(qtbot) -> None:
    errors: list[str] = []
    ends: list[tuple[int, bool, bool]] = []
    start_process(
        ["/nonexistent/program"],
        title="training",
        on_line=lambda line: None,
        on_stderr=errors.append,
        on_finished=lambda *args: ends.append(args),
    )
    qtbot.waitUntil(lambda: bool(ends), timeout=10000)
    assert ends == [(-1, True, False)] and errors[0].startswith("could not start training:")
