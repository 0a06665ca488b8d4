"""Undo/redo history of label edits, stored as bounded diffs (never full copies).

Each step holds, per changed region, the bounding box, the changed-voxel mask packed to bits and the
old and new values of only those voxels (a single value when all are equal, as in a brush stroke).
The history is capped by a number of steps and by bytes; the oldest steps go first.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np
from psygnal import Signal

BBox = tuple[slice, slice, slice]

DEFAULT_MAX_STEPS = 200
DEFAULT_MAX_BYTES = 256 * 1024 * 1024


def _compact(values: np.ndarray) -> np.ndarray:
    """``values`` as a one-element array when they are all equal (a brush stroke paints one label)."""
    if values.size > 1 and not np.any(values != values[0]):
        return values[:1].copy()
    return values


@dataclass(frozen=True, eq=False)
class Change:
    """The voxels of one bounding box that an edit changed, with their values before and after."""

    bbox: BBox
    packed_mask: np.ndarray
    old: np.ndarray
    new: np.ndarray

    @classmethod
    def between(cls, bbox: BBox, before: np.ndarray, after: np.ndarray) -> Change | None:
        """The diff of two equally shaped patches taken at ``bbox``; None when they are equal."""
        mask = before != after
        if not mask.any():
            return None
        return cls(bbox, np.packbits(mask, axis=None), _compact(before[mask]), _compact(after[mask]))

    @property
    def shape(self) -> tuple[int, int, int]:
        return tuple(s.stop - s.start for s in self.bbox)

    @property
    def mask(self) -> np.ndarray:
        """The changed voxels inside ``bbox`` as a boolean array."""
        count = int(np.prod(self.shape))
        return np.unpackbits(self.packed_mask, count=count).view(bool).reshape(self.shape)

    @property
    def nbytes(self) -> int:
        return int(self.packed_mask.nbytes + self.old.nbytes + self.new.nbytes)

    def write(self, array: np.ndarray, *, undo: bool) -> None:
        """Put the old (``undo``) or new values of the changed voxels into ``array``."""
        patch = array[self.bbox]
        patch[self.mask] = self.old if undo else self.new


@dataclass(frozen=True, eq=False)
class Step:
    """One undoable step: a brush stroke, a fill, a morphology operation or a whole new label map."""

    name: str
    changes: tuple[Change, ...]

    @property
    def nbytes(self) -> int:
        return sum(c.nbytes for c in self.changes)


class History:
    """Undo and redo stacks of Steps, capped by count and bytes; emits ``changed`` on every update.

    The newest step is always kept, even when it alone exceeds ``max_bytes``, so the last
    operation (e.g. an AI result replacing the map) can always be undone.
    """

    changed = Signal()

    def __init__(self, max_steps: int = DEFAULT_MAX_STEPS, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        if max_steps < 1:
            raise ValueError(f"max_steps must be at least 1, got {max_steps}")
        if max_bytes < 0:
            raise ValueError(f"max_bytes must not be negative, got {max_bytes}")
        self.max_steps = max_steps
        self.max_bytes = max_bytes
        self._undo: deque[Step] = deque()
        self._redo: list[Step] = []
        self._nbytes = 0
        self._base = object()  # stands for the state below the oldest kept step

    @property
    def nbytes(self) -> int:
        """Bytes held by the stored arrays of every undo and redo step."""
        return self._nbytes

    @property
    def top(self) -> object:
        """The newest undoable step, or a marker of the state below the oldest kept step.

        Comparing ``top`` before and after tells whether the labels returned to a known state; the
        marker changes whenever old steps are dropped, since that state can no longer be reached.
        """
        return self._undo[-1] if self._undo else self._base

    @property
    def can_undo(self) -> bool:
        return bool(self._undo)

    @property
    def can_redo(self) -> bool:
        return bool(self._redo)

    @property
    def steps(self) -> tuple[Step, ...]:
        """Every stored step, undo stack oldest first, then the redo stack."""
        return (*self._undo, *reversed(self._redo))

    @property
    def undo_names(self) -> list[str]:
        """Names of the undoable steps, newest first."""
        return [s.name for s in reversed(self._undo)]

    @property
    def redo_names(self) -> list[str]:
        """Names of the redoable steps, next first."""
        return [s.name for s in reversed(self._redo)]

    def push(self, step: Step) -> None:
        """Record a new step; it drops the redo stack and, past the caps, the oldest steps."""
        self._nbytes -= sum(s.nbytes for s in self._redo)
        self._redo.clear()
        self._undo.append(step)
        self._nbytes += step.nbytes
        while len(self._undo) > 1 and (len(self._undo) > self.max_steps or self._nbytes > self.max_bytes):
            self._nbytes -= self._undo.popleft().nbytes
            self._base = object()
        self.changed.emit()

    def pop_undo(self) -> Step:
        """Move the newest step to the redo stack and return it (the caller writes its old values)."""
        if not self._undo:
            raise IndexError("nothing to undo")
        step = self._undo.pop()
        self._redo.append(step)
        self.changed.emit()
        return step

    def pop_redo(self) -> Step:
        """Move the next redo step back to the undo stack and return it (the caller writes its new values)."""
        if not self._redo:
            raise IndexError("nothing to redo")
        step = self._redo.pop()
        self._undo.append(step)
        self.changed.emit()
        return step

    def clear(self) -> None:
        self._undo.clear()
        self._redo.clear()
        self._nbytes = 0
        self._base = object()
        self.changed.emit()
