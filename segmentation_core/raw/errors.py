"""The one error type of the raw-study pipeline: a one-line message naming the step and the sequence."""

from __future__ import annotations


class RawStudyError(ValueError):
    """A step of the raw-study pipeline failed or gave an implausible result.

    ``str(error)`` reads ``"<step> (<sequence>): <problem> — <remedy>"`` on one line.
    """

    def __init__(self, step: str, sequence: str | None, problem: str, remedy: str = "") -> None:
        self.step = step
        self.sequence = sequence
        self.problem = problem
        self.remedy = remedy
        where = f"{step} ({sequence})" if sequence else step
        super().__init__(f"{where}: {problem}" + (f" — {remedy}" if remedy else ""))

    def __reduce__(self) -> tuple[type, tuple[str, str | None, str, str]]:
        """Pickled by its parts (it crosses from the AI process to the viewer)."""
        return type(self), (self.step, self.sequence, self.problem, self.remedy)
