"""History: packed diffs, names, caps by count and by bytes."""

from __future__ import annotations

import numpy as np
import pytest

from app.state.history import Change, History, Step


def _box(n: int = 4) -> tuple[slice, slice, slice]:
    return (slice(0, n), slice(0, n), slice(0, n))


def _step(name: str, changed: int = 8) -> Step:
    """A step over a 4x4x4 box changing ``changed`` voxels from 0 to 1."""
    before = np.zeros((4, 4, 4), np.uint8)
    after = before.copy()
    after.reshape(-1)[:changed] = 1
    change = Change.between(_box(), before, after)
    assert change is not None
    return Step(name, (change,))


def test_change_packs_the_mask_and_keeps_only_changed_values() -> None:
    before = np.zeros((4, 4, 4), np.uint8)
    before[0, 0, :2] = 2
    after = before.copy()
    after[1, :, :] = 3  # 16 voxels, all 0 -> 3: uniform old and new
    after[0, 0, 0] = 1  # one voxel 2 -> 1
    change = Change.between(_box(), before, after)
    assert change is not None
    assert change.packed_mask.nbytes == 8  # 64 voxels -> 8 bytes
    assert change.old.tolist() == [2] + [0] * 16  # C order: (0,0,0) first
    assert change.new.tolist() == [1] + [3] * 16
    assert change.nbytes == 8 + 17 + 17
    assert np.array_equal(change.mask, before != after)

    uniform = Change.between(_box(), np.zeros((4, 4, 4), np.uint8), np.full((4, 4, 4), 2, np.uint8))
    assert uniform is not None
    assert uniform.old.tolist() == [0] and uniform.new.tolist() == [2]  # one value for 64 voxels
    assert uniform.nbytes == 8 + 1 + 1

    restored = after.copy()
    change.write(restored, undo=True)
    assert np.array_equal(restored, before)
    change.write(restored, undo=False)
    assert np.array_equal(restored, after)


def test_equal_patches_make_no_change() -> None:
    a = np.ones((2, 3, 4), np.uint8)
    assert Change.between((slice(0, 2), slice(0, 3), slice(0, 4)), a, a.copy()) is None


def test_undo_redo_stacks_and_names() -> None:
    history = History()
    events = []
    history.changed.connect(lambda: events.append(1))
    assert not history.can_undo and not history.can_redo
    for name in ("Brush", "Eraser", "Flood fill"):
        history.push(_step(name))
    assert history.undo_names == ["Flood fill", "Eraser", "Brush"]
    assert history.pop_undo().name == "Flood fill"
    assert history.pop_undo().name == "Eraser"
    assert history.redo_names == ["Eraser", "Flood fill"]
    assert history.can_redo
    assert history.pop_redo().name == "Eraser"
    history.push(_step("Polygon"))  # a new step drops what could be redone
    assert not history.can_redo
    assert history.undo_names == ["Polygon", "Eraser", "Brush"]
    assert len(events) == 7
    with pytest.raises(IndexError, match="nothing to redo"):
        history.pop_redo()


def test_count_cap_drops_the_oldest_steps() -> None:
    history = History(max_steps=3)
    for i in range(5):
        history.push(_step(f"s{i}"))
    assert history.undo_names == ["s4", "s3", "s2"]
    assert history.nbytes == 3 * (8 + 1 + 1)


def test_byte_cap_drops_the_oldest_but_keeps_the_newest() -> None:
    history = History(max_bytes=25)  # each step holds 10 bytes
    for i in range(4):
        history.push(_step(f"s{i}"))
    assert history.undo_names == ["s3", "s2"]
    assert history.nbytes == 20
    history.pop_undo()
    assert history.nbytes == 20  # redo steps count too
    history.push(_step("s4"))
    assert history.undo_names == ["s4", "s2"] and history.nbytes == 20

    tiny = History(max_bytes=5)
    tiny.push(_step("big"))
    assert tiny.undo_names == ["big"] and tiny.nbytes == 10


def test_nbytes_is_the_sum_of_the_stored_arrays() -> None:
    history = History()
    for changed in (1, 9, 40, 64):
        history.push(_step("s", changed))
    history.pop_undo()
    stored = sum(c.packed_mask.nbytes + c.old.nbytes + c.new.nbytes for s in history.steps for c in s.changes)
    assert history.nbytes == stored == 4 * (8 + 1 + 1)


def test_bad_caps_are_refused() -> None:
    with pytest.raises(ValueError, match="max_steps must be at least 1"):
        History(max_steps=0)
    with pytest.raises(ValueError, match="max_bytes must not be negative"):
        History(max_bytes=-1)
