"""Label-scheme detection from values and source hints; fast value listing; conversion details."""

from __future__ import annotations

import numpy as np
import pytest

from segmentation_core.labels import LabelValueError, convert, detect_scheme, present_values, unknown_values


@pytest.mark.parametrize(
    ("values", "hint", "expected"),
    [
        ([0, 1, 2, 4], None, "brats"),
        ([0, 4], None, "brats"),
        ([0, 1, 2], None, "brats"),
        ([0], None, "brats"),
        ([0, 1, 2, 3], None, "brats2023"),
        ([0, 3], None, "brats2023"),
        ([0, 1, 2, 3], "msd", "msd"),
        ([0, 1, 2], "msd", "msd"),
        ([0, 1, 2, 3], "brats2023", "brats2023"),
        ([0, 1, 2, 4], "msd", "brats"),  # the values rule out the hint
        ([0, 1, 2, 4], "brats2023", "brats"),
    ],
)
def test_detect_scheme(values: list[int], hint: str | None, expected: str) -> None:
    assert detect_scheme(np.array(values), hint) == expected


def test_detect_scheme_lists_unknown_values() -> None:
    with pytest.raises(LabelValueError, match=r"label values \[5, 255\] are not part of any known scheme"):
        detect_scheme(np.array([0, 1, 5, 255]))
    with pytest.raises(LabelValueError, match=r"label values \[0, 1, 3, 4\] mix schemes"):
        detect_scheme(np.array([0, 1, 3, 4]))


def test_unknown_values() -> None:
    assert unknown_values([0, 1, 2, 3, 4, 4, 9], "brats") == [3, 9]
    assert unknown_values([0, 3], "msd") == []


@pytest.mark.parametrize("dtype", [np.uint8, np.int16, np.int32, np.int64, np.float32])
def test_present_values(dtype: type) -> None:
    array = np.array([[4, 0, 0], [2, 4, 0]], dtype=dtype)
    assert present_values(array).tolist() == [0, 2, 4]
    wide = np.array([0, 1000, -5, 7], dtype=np.int32)  # wider than the fast path's range
    assert present_values(wide).tolist() == [-5, 0, 7, 1000]


def test_convert_swaps_without_chaining_and_keeps_layout() -> None:
    msd = np.asfortranarray(np.array([[[0, 1], [2, 3]], [[1, 1], [2, 0]]], dtype=np.int16))
    internal = convert(msd, "msd", "internal")
    assert internal.tolist() == [[[0, 2], [1, 3]], [[2, 2], [1, 0]]]
    assert internal.dtype == np.uint8 and internal.flags.f_contiguous
    back = convert(internal, "internal", "msd", present=np.array([0, 1, 2, 3]))
    assert back.tolist() == msd.tolist()
    flipped = msd[::-1, ::-1]
    assert convert(flipped, "msd", "brats").tolist() == np.choose(flipped, [0, 2, 1, 4]).tolist()


def test_convert_rejects_fractional_values() -> None:
    with pytest.raises(LabelValueError, match=r"\[1.5\]"):
        convert(np.array([0.0, 1.5, 2.0]), "brats", "internal")
