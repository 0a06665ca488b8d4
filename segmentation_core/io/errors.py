"""The one error type every bad input raises."""

from __future__ import annotations

from pathlib import Path


class CaseLoadError(ValueError):
    """A case, image or label file cannot be used.

    The message names the file, says what is wrong and what to do about it.
    """

    def __init__(self, path: Path | str | None, problem: str, remedy: str = "") -> None:
        self.path = Path(path) if path is not None else None
        self.problem = problem
        self.remedy = remedy
        where = f"{self.path}: " if self.path is not None else ""
        super().__init__(f"{where}{problem}" + (f" — {remedy}" if remedy else ""))

    def __reduce__(self) -> tuple[type, tuple[Path | None, str, str]]:
        """Pickled by its parts (it crosses from the AI process to the viewer)."""
        return type(self), (self.path, self.problem, self.remedy)
