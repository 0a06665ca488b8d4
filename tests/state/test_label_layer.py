"""LabelLayer: strokes as single undo steps, replace, signals, modified flag, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from app.state.history import History
from app.state.label_layer import LabelLayer


def _layer(shape: tuple[int, int, int] = (8, 9, 10)) -> LabelLayer:
    return LabelLayer(np.zeros(shape, np.uint8), spacing=(1.0, 1.0, 2.5))


def _box(*bounds: tuple[int, int]) -> tuple[slice, slice, slice]:
    return tuple(slice(a, b) for a, b in bounds)  # type: ignore[return-value]


def test_apply_outside_a_stroke_is_one_step_and_emits_the_box() -> None:
    layer = _layer()
    boxes = []
    layer.changed.connect(boxes.append)
    box = _box((1, 3), (2, 5), (0, 1))
    assert layer.apply(box, np.ones((2, 3, 1), bool), 2) == 6
    assert boxes == [box]
    assert layer.history.undo_names == ["Edit"]
    assert np.count_nonzero(layer.data == 2) == 6
    assert layer.apply(box, np.ones((2, 3, 1), bool), 2) == 0  # nothing new: no step
    assert layer.history.undo_names == ["Edit"]
    with pytest.raises(ValueError, match="read-only"):
        layer.data[0, 0, 0] = 1


def test_a_stroke_of_overlapping_atoms_undoes_to_the_original() -> None:
    start = np.zeros((8, 9, 10), np.uint8)
    start[2:4, 2:4, 2:4] = 2
    layer = LabelLayer(start)
    layer.begin_stroke("Brush")
    assert layer.apply(_box((0, 4), (0, 4), (0, 4)), np.ones((4, 4, 4), bool), 1) == 64
    assert layer.apply(_box((2, 6), (2, 6), (2, 6)), np.ones((4, 4, 4), bool), 3) == 64
    step = layer.end_stroke()
    assert step is not None and step.name == "Brush"
    assert layer.history.undo_names == ["Brush"]
    assert step.changes[0].bbox == _box((0, 6), (0, 6), (0, 6))
    after = layer.data.copy()
    assert np.count_nonzero(after == 3) == 64 and np.count_nonzero(after == 1) == 64 - 8
    assert layer.undo() == "Brush"
    assert np.array_equal(layer.data, start)  # the 2s under both atoms come back
    assert layer.redo() == "Brush"
    assert np.array_equal(layer.data, after)
    assert layer.redo() is None


def test_a_stroke_that_restores_what_it_painted_leaves_no_step() -> None:
    layer = _layer()
    box = _box((0, 2), (0, 2), (0, 2))
    with layer.stroke("Brush"):
        layer.apply(box, np.ones((2, 2, 2), bool), 1)
        layer.apply(box, np.ones((2, 2, 2), bool), 0)
    assert not layer.history.can_undo


def test_value_patches_and_edits_report_old_and_new_values() -> None:
    layer = _layer()
    edits = []
    layer.edited.connect(edits.append)
    box = _box((0, 1), (0, 1), (0, 4))
    patch = np.array([0, 1, 2, 3], np.uint8).reshape(1, 1, 4)
    assert layer.apply(box, np.ones((1, 1, 4), bool), patch) == 3
    assert edits[-1].old.tolist() == [0, 0, 0] and edits[-1].new.tolist() == [1, 2, 3]
    layer.undo()
    assert edits[-1].old.tolist() == [1, 2, 3] and edits[-1].new.tolist() == [0, 0, 0]
    assert edits[-1].mask.ravel().tolist() == [False, True, True, True]


def test_replace_is_one_named_step() -> None:
    layer = _layer()
    layer.apply(_box((0, 1), (0, 1), (0, 1)), np.ones((1, 1, 1), bool), 3)
    replaced = []
    layer.replaced.connect(lambda: replaced.append(True))
    ai = np.zeros((8, 9, 10), np.int64)
    ai[4:, 4:, 4:] = 2
    layer.replace(ai, "AI segmentation (model v1)")
    assert replaced == [True]
    assert layer.data.dtype == np.uint8 and np.count_nonzero(layer.data) == 4 * 5 * 6
    assert layer.history.undo_names == ["AI segmentation (model v1)", "Edit"]
    layer.undo()
    assert np.count_nonzero(layer.data) == 1 and layer.data[0, 0, 0] == 3
    with pytest.raises(ValueError, match=r"AI: shape \(8, 9, 9\) does not match the case grid \(8, 9, 10\)"):
        layer.replace(np.zeros((8, 9, 9), np.uint8), "AI")


def test_modified_follows_undo_back_to_the_saved_state() -> None:
    layer = LabelLayer(np.zeros((4, 4, 4), np.uint8), history=History(max_steps=2))
    assert not layer.modified
    box = _box((0, 1), (0, 1), (0, 1))
    layer.apply(box, np.ones((1, 1, 1), bool), 1)
    assert layer.modified
    layer.mark_saved()
    assert not layer.modified
    layer.apply(box, np.ones((1, 1, 1), bool), 2)
    assert layer.modified
    layer.undo()
    assert not layer.modified
    layer.undo()
    assert layer.modified  # before the saved state
    layer.redo()
    assert not layer.modified
    layer.apply(box, np.ones((1, 1, 1), bool), 2)
    layer.apply(box, np.ones((1, 1, 1), bool), 3)  # the saved step falls off the capped history
    layer.undo()
    layer.undo()
    assert layer.modified and layer.data[0, 0, 0] == 1 and not layer.history.can_undo


def test_misuse_of_strokes_is_refused() -> None:
    layer = _layer()
    layer.begin_stroke("Brush")
    with pytest.raises(RuntimeError, match="stroke 'Brush' is still open"):
        layer.begin_stroke("Eraser")
    with pytest.raises(RuntimeError, match="finish stroke 'Brush' before undo"):
        layer.undo()
    with pytest.raises(RuntimeError, match="cannot replace the labels while stroke 'Brush' is open"):
        layer.replace(np.zeros((8, 9, 10), np.uint8), "AI")
    assert layer.end_stroke() is None
    with pytest.raises(RuntimeError, match="no stroke is open"):
        layer.end_stroke()
    with pytest.raises(ValueError, match=r"mask shape \(1, 1, 1\) does not match"):
        layer.apply(_box((0, 2), (0, 1), (0, 1)), np.ones((1, 1, 1), bool), 1)
    with pytest.raises(ValueError, match="label 4 is not an internal label 0-3"):
        layer.apply(_box((0, 1), (0, 1), (0, 1)), np.ones((1, 1, 1), bool), 4)


@pytest.mark.parametrize(
    ("array", "message"),
    [
        (np.zeros((4, 4), np.uint8), r"must be a 3-D label map, got shape \(4, 4\)"),
        (np.zeros((4, 4, 4), np.float32), "integer labels 0-3, got dtype float32"),
        (np.full((4, 4, 4), 4, np.uint8), "holds values 4..4; expected internal labels 0-3 .*convert"),
    ],
)
def test_bad_label_maps_are_refused(array: np.ndarray, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        LabelLayer(array)


def test_bad_spacing_is_refused() -> None:
    with pytest.raises(ValueError, match="spacing must be three positive sizes"):
        LabelLayer(np.zeros((2, 2, 2), np.uint8), spacing=(1.0, 0.0, 1.0))


def test_stepped_reports_each_settled_step() -> None:
    layer = _layer()
    seen: list[tuple[str, int]] = []
    layer.stepped.connect(lambda name: seen.append((name, int(layer.data[0, 0, 0]))))
    with layer.stroke("Brush"):
        layer.apply(_box((0, 1), (0, 1), (0, 1)), np.ones((1, 1, 1), bool), 2)
    layer.undo()
    layer.redo()
    assert seen == [("Brush", 2), ("Brush", 0), ("Brush", 2)]  # emitted after the labels changed


def test_open_ended_boxes_are_normalised() -> None:
    layer = _layer()
    boxes = []
    layer.changed.connect(boxes.append)
    layer.apply((slice(None), slice(7, None), slice(0, 1)), np.ones((8, 2, 1), bool), 1)
    assert boxes == [_box((0, 8), (7, 9), (0, 1))]
    layer.undo()
    assert not np.any(layer.data)
