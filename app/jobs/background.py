"""Run a blocking core function that reports through ``progress=``/``cancel=`` as a job generator."""

from __future__ import annotations

import queue
from collections.abc import Callable, Generator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from segmentation_core.types import CancelToken, Progress

T = TypeVar("T")
#: How often (s) the job looks for the function's progress while it works.
POLL_S = 0.05


def yield_progress(
    function: Callable[..., T], cancel: CancelToken, *args: Any, **kwargs: Any
) -> Generator[Progress, None, T]:
    """Call ``function(*args, progress=..., cancel=cancel, **kwargs)`` in a helper thread, yielding its
    Progress as it arrives; returns its result (or raises its exception).

    When the generator is closed early (the job was cancelled at a yield), ``cancel`` is set so the
    function stops at its next check.
    """
    updates: queue.SimpleQueue[Progress] = queue.SimpleQueue()
    with ThreadPoolExecutor(1, thread_name_prefix="job-call") as pool:
        future = pool.submit(function, *args, progress=updates.put, cancel=cancel, **kwargs)
        try:
            while not future.done() or not updates.empty():
                try:
                    yield updates.get(timeout=POLL_S)
                except queue.Empty:
                    continue
        finally:
            if not future.done():
                cancel.cancel()
    return future.result()
