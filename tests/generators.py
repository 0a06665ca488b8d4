"""Helpers for the generator-based jobs: run one to the end, keeping what it yielded."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any


def drain(generator: Generator[Any, None, Any]) -> tuple[list[Any], Any]:
    """(every yielded item, the return value) of ``generator``."""
    yielded = []
    while True:
        try:
            yielded.append(next(generator))
        except StopIteration as stop:
            return yielded, stop.value
