"""ViewerState.replace_images: other images of some sequences on the same grid (a raw study's registered ones)."""

from __future__ import annotations

import numpy as np
import pytest

from app.state.viewer_state import ViewerState
from tests.core.io_fixtures import make_case


def test_images_are_replaced_on_the_same_grid_and_the_views_are_told() -> None:
    state = ViewerState()
    case = make_case((16, 16, 16), with_labels=False)
    state.set_case(case)
    labels, cursor = state.labels, state.cursor.position
    seen: list[str] = []
    state.display.changed.connect(seen.append)
    registered = np.full((16, 16, 16), 7.0, dtype=np.float32)
    state.replace_images({"t2": registered})
    assert seen == ["images"]
    assert state.case is case and case.channels["t2"].array is registered
    np.testing.assert_array_equal(case.channels["t2"].affine, case.affine)
    assert state.labels is labels and state.cursor.position == cursor  # nothing else changes
    assert state.intensities()["t2"] == 7.0


def test_images_on_another_grid_or_of_no_sequence_are_refused() -> None:
    state = ViewerState()
    with pytest.raises(RuntimeError, match="no case is open"):
        state.replace_images({"t2": np.zeros((16, 16, 16), np.float32)})
    state.set_case(make_case((16, 16, 16), with_labels=False))
    before = state.case.channels["t2"].array
    for images in ({"t2": np.zeros((16, 16, 15), np.float32)}, {"dwi": np.zeros((16, 16, 16), np.float32)}):
        with pytest.raises(ValueError, match="the images must be sequences of the open case, on its grid"):
            state.replace_images(images)
    assert state.case.channels["t2"].array is before
