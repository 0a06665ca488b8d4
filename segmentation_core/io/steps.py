"""Progress reporting and cancellation between the files of a load."""

from __future__ import annotations

from collections.abc import Callable

from segmentation_core.types import CancelToken, Progress

ProgressCallback = Callable[[Progress], None]


class Steps:
    """Counts the files of a load; each ``step`` checks the cancel token, then reports progress."""

    def __init__(self, progress: ProgressCallback | None = None, cancel: CancelToken | None = None) -> None:
        self.progress = progress
        self.cancel = cancel
        self.total = 1
        self.done = 0

    def step(self, message: str) -> None:
        """Announce the next piece of work (raises CancelledError when cancelled)."""
        if self.cancel is not None:
            self.cancel.raise_if_cancelled()
        if self.progress is not None:
            self.progress(Progress(self.done, self.total, message))
        self.done += 1

    def finish(self, message: str = "loaded") -> None:
        if self.progress is not None:
            self.progress(Progress(self.total, self.total, message))
