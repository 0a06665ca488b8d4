"""The editable label map of the open case (internal labels 0 bg, 1 NCR, 2 ED, 3 ET) with undo.

Tools change voxels only through :meth:`LabelLayer.apply` inside a stroke; each stroke becomes one
undo step. Views listen to ``changed`` (the bounding box to repaint) and ``replaced`` (a whole new
map); statistics listen to ``edited`` (which voxels changed from what to what).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
from psygnal import Signal

from app.state.history import BBox, Change, History, Step
from segmentation_core.labels import ET

MAX_LABEL = ET


@dataclass(frozen=True, eq=False)
class Edit:
    """Voxels that just changed: ``mask`` inside ``bbox``, with their ``old`` and ``new`` values."""

    bbox: BBox
    mask: np.ndarray
    old: np.ndarray
    new: np.ndarray

    @classmethod
    def of_change(cls, change: Change, *, undo: bool) -> Edit:
        mask = change.mask
        count = int(np.count_nonzero(mask))
        old = np.broadcast_to(change.old, (count,))
        new = np.broadcast_to(change.new, (count,))
        return cls(change.bbox, mask, new, old) if undo else cls(change.bbox, mask, old, new)


def full_bbox(shape: tuple[int, ...]) -> BBox:
    return tuple(slice(0, int(n)) for n in shape)  # type: ignore[return-value]


def check_labels(array: np.ndarray, what: str) -> np.ndarray:
    """``array`` when it is a 3-D integer map of internal labels 0-3; ValueError naming ``what`` otherwise."""
    array = np.asarray(array)
    if array.ndim != 3:
        raise ValueError(f"{what} must be a 3-D label map, got shape {array.shape}")
    if array.dtype.kind not in "uib":
        raise ValueError(f"{what} must hold integer labels 0-3, got dtype {array.dtype}")
    if array.size and (array.min() < 0 or array.max() > MAX_LABEL):
        raise ValueError(
            f"{what} holds values {int(array.min())}..{int(array.max())}; expected internal labels 0-3 "
            "(convert with segmentation_core.labels.convert first)"
        )
    return array


class LabelLayer:
    """A uint8 internal label map with strokes, undo/redo and change signals."""

    changed = Signal(tuple)  # bounding box (3 slices) of the voxels that changed
    replaced = Signal()  # a whole new map: repaint everything
    edited = Signal(object)  # Edit: which voxels changed from what to what
    stepped = Signal(str)  # name of a step just committed, undone or redone (the labels are settled)

    def __init__(
        self,
        array: np.ndarray,
        spacing: tuple[float, float, float] = (1.0, 1.0, 1.0),
        history: History | None = None,
    ) -> None:
        self._array = np.array(check_labels(array, "label map"), dtype=np.uint8, order="C")
        spacing_f = tuple(float(s) for s in spacing)
        if len(spacing_f) != 3 or min(spacing_f) <= 0:
            raise ValueError(f"spacing must be three positive sizes in mm, got {spacing}")
        self.spacing: tuple[float, float, float] = spacing_f
        self.history = history if history is not None else History()
        self._stroke_name: str | None = None
        self._atoms: list[tuple[BBox, np.ndarray, np.ndarray]] = []
        self._saved_top: object = self.history.top

    # ----------------------------------------------------------------- reading
    @property
    def data(self) -> np.ndarray:
        """A read-only view of the labels (write through :meth:`apply` only)."""
        view = self._array.view()
        view.flags.writeable = False
        return view

    @property
    def shape(self) -> tuple[int, int, int]:
        return self._array.shape

    @property
    def in_stroke(self) -> bool:
        return self._stroke_name is not None

    @property
    def modified(self) -> bool:
        """True when the labels differ from the last :meth:`mark_saved` (undoing back clears it)."""
        return self.history.top is not self._saved_top

    def mark_saved(self) -> None:
        """Remember the current state as saved (after an export)."""
        self._saved_top = self.history.top

    # ----------------------------------------------------------------- strokes
    def begin_stroke(self, name: str) -> None:
        """Start collecting edits into one undo step called ``name``."""
        if self._stroke_name is not None:
            raise RuntimeError(f"stroke {self._stroke_name!r} is still open; end it before starting {name!r}")
        self._stroke_name = name
        self._atoms = []

    def end_stroke(self) -> Step | None:
        """Close the open stroke and commit it as one history step (None when nothing changed)."""
        if self._stroke_name is None:
            raise RuntimeError("no stroke is open")
        name, atoms = self._stroke_name, self._atoms
        self._stroke_name, self._atoms = None, []
        if not atoms:
            return None
        union = tuple(
            slice(min(a[0][d].start for a in atoms), max(a[0][d].stop for a in atoms)) for d in range(3)
        )
        after = self._array[union].copy()
        before = after.copy()
        for bbox, mask, old in reversed(atoms):
            local = tuple(slice(b.start - u.start, b.stop - u.start) for b, u in zip(bbox, union))
            before[local][mask] = old
        change = Change.between(union, before, after)  # type: ignore[arg-type]
        if change is None:  # the stroke painted something and then restored it
            return None
        return self._commit(Step(name, (change,)))

    @contextmanager
    def stroke(self, name: str) -> Iterator[None]:
        """``with layer.stroke("Fill holes"): layer.apply(...)`` — one undo step for the block."""
        self.begin_stroke(name)
        try:
            yield
        finally:
            self.end_stroke()

    def apply(self, bbox: BBox, mask: np.ndarray, value: int | np.ndarray) -> int:
        """Set the voxels of ``mask`` (shaped like ``bbox``) to ``value`` (a label or a patch of labels).

        Outside a stroke the call is its own undo step named "Edit". Returns how many voxels changed.
        """
        if self._stroke_name is None:
            with self.stroke("Edit"):
                return self.apply(bbox, mask, value)
        bbox = tuple(slice(*s.indices(n)[:2]) for s, n in zip(bbox, self.shape))  # type: ignore[assignment]
        patch = self._array[bbox]
        if mask.shape != patch.shape:
            raise ValueError(f"mask shape {mask.shape} does not match the box {bbox} of shape {patch.shape}")
        if isinstance(value, np.ndarray):
            if value.shape != patch.shape:
                raise ValueError(
                    f"value patch shape {value.shape} does not match the box shape {patch.shape}"
                )
            check_labels(value, "value patch")
            changing = mask & (patch != value)
            new = value[changing].astype(np.uint8)
        else:
            if not 0 <= int(value) <= MAX_LABEL:
                raise ValueError(f"label {value} is not an internal label 0-3")
            changing = mask & (patch != value)
            new = np.full(int(np.count_nonzero(changing)), value, dtype=np.uint8)
        if not new.size:
            return 0
        old = patch[changing]
        patch[changing] = new
        self._atoms.append((bbox, changing, old))
        self.changed.emit(bbox)
        self.edited.emit(Edit(bbox, changing, old, new))
        return int(new.size)

    def replace(self, array: np.ndarray, name: str) -> Step | None:
        """Replace the whole map (e.g. by the AI result) as one undo step named ``name``."""
        if self._stroke_name is not None:
            raise RuntimeError(f"cannot replace the labels while stroke {self._stroke_name!r} is open")
        array = check_labels(array, name)
        if array.shape != self.shape:
            raise ValueError(f"{name}: shape {array.shape} does not match the case grid {self.shape}")
        bbox = full_bbox(self.shape)
        change = Change.between(bbox, self._array, array)
        if change is None:
            return None
        edit = Edit(bbox, change.mask, self._array[change.mask], array[change.mask].astype(np.uint8))
        self._array[...] = array
        self.replaced.emit()
        self.edited.emit(edit)
        return self._commit(Step(name, (change,)))

    # ----------------------------------------------------------------- undo/redo
    def undo(self) -> str | None:
        """Undo the newest step; returns its name, or None when there is nothing to undo."""
        return self._move(undo=True)

    def redo(self) -> str | None:
        """Redo the next undone step; returns its name, or None when there is nothing to redo."""
        return self._move(undo=False)

    def _move(self, *, undo: bool) -> str | None:
        if self._stroke_name is not None:
            raise RuntimeError(f"finish stroke {self._stroke_name!r} before undo or redo")
        if not (self.history.can_undo if undo else self.history.can_redo):
            return None
        step = self.history.pop_undo() if undo else self.history.pop_redo()
        changes = reversed(step.changes) if undo else step.changes
        for change in changes:
            change.write(self._array, undo=undo)
            self.changed.emit(change.bbox)
            self.edited.emit(Edit.of_change(change, undo=undo))
        self.stepped.emit(step.name)
        return step.name

    def _commit(self, step: Step) -> Step:
        self.history.push(step)
        self.stepped.emit(step.name)
        return step
