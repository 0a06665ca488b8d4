"""Preprocessing: refuse missing sequences, crop box with margin, z-score, resampling and its inverse."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from segmentation_core.preprocessing import (
    PreprocessError,
    brain_box,
    preprocess,
    resampled_shape,
    zscore_nonzero,
)
from segmentation_core.types import SEQUENCES, Case, Volume

#: Anisotropic (1 x 1.5 x 2 mm) grid, as a case in canonical RAS orientation.
AFFINE = np.diag([1.0, 1.5, 2.0, 1.0])


def brain_case(shape=(30, 24, 20), box=(slice(6, 21), slice(3, 20), slice(5, 12)), seed=0) -> Case:
    """A case whose four sequences are zero outside ``box`` (the 'brain') and positive inside."""
    rng = np.random.default_rng(seed)
    channels = {}
    for i, name in enumerate(SEQUENCES):
        array = np.zeros(shape, dtype=np.float32)
        array[box] = rng.uniform(10 + 100 * i, 50 + 100 * i, size=array[box].shape)
        channels[name] = Volume(array, AFFINE)
    return Case(channels, case_id="Synthetic_brain")


def test_brain_box_grows_by_the_margin_and_stops_at_the_border() -> None:
    image = np.zeros((2, 10, 12, 8), dtype=np.float32)
    image[0, 3, 5, 0] = 1.0
    image[1, 6, 9, 2] = -2.0
    assert brain_box(image, margin=2) == (slice(1, 9), slice(3, 12), slice(0, 5))
    assert brain_box(image, margin=0) == (slice(3, 7), slice(5, 10), slice(0, 3))
    assert brain_box(np.zeros((1, 4, 5, 6)), margin=2) == (slice(0, 4), slice(0, 5), slice(0, 6))


def test_zscore_uses_non_zero_voxels_and_keeps_background_zero() -> None:
    image = np.zeros((2, 2, 2, 1), dtype=np.float32)
    image[0, :, :, 0] = [[0, 2], [4, 6]]
    image[1, 0, 0, 0] = 5.0  # a single value: std 0 -> centred only
    out = zscore_nonzero(image)
    expected = (np.array([2, 4, 6]) - 4) / np.std([2, 4, 6])
    np.testing.assert_allclose(out[0, :, :, 0].ravel(), [0, *expected], rtol=1e-6)
    assert out[1].tolist() == [[[0.0], [0.0]], [[0.0], [0.0]]]


def test_missing_sequence_is_refused_never_zero_filled() -> None:
    case = brain_case()
    del case.channels["flair"]
    with pytest.raises(PreprocessError, match=r"Synthetic_brain.*\['flair'\] is missing.*never filled"):
        preprocess(case, SEQUENCES)


def test_sequences_on_different_grids_are_refused() -> None:
    case = brain_case()
    case.channels["t2"] = Volume(np.zeros((5, 5, 5), np.float32), AFFINE)
    with pytest.raises(PreprocessError, match="different grids"):
        preprocess(case, SEQUENCES)


def test_native_grid_crops_normalises_and_restores_exactly() -> None:
    case = brain_case()
    prepared = preprocess(case, ("t2", "t1"), spacing=None)
    assert prepared.box == (slice(4, 23), slice(1, 22), slice(3, 14))
    assert prepared.image.shape == (2, 19, 21, 11) and not prepared.resampled
    t2 = prepared.image[0][prepared.image[0] != 0]
    assert t2.size == 15 * 17 * 7
    assert abs(t2.mean()) < 1e-5 and t2.std() == pytest.approx(1.0, rel=1e-5)
    restored = prepared.restore(prepared.image)
    assert restored.shape == (2, 30, 24, 20)
    np.testing.assert_array_equal(
        restored, zscore_nonzero(np.stack([case.channels["t2"].array, case.channels["t1"].array]))
    )


def test_resampling_to_the_model_spacing_and_back() -> None:
    case = brain_case()
    prepared = preprocess(case, SEQUENCES, spacing=(2.0, 2.0, 2.0))
    # crop 19 x 21 x 11 voxels of 1 x 1.5 x 2 mm -> round(9.5)=10 (half-even), round(15.75)=16, 11
    assert resampled_shape((19, 21, 11), (1.0, 1.5, 2.0), (2.0, 2.0, 2.0)) == (10, 16, 11)
    assert prepared.image.shape == (4, 10, 16, 11) and prepared.resampled
    constant = prepared.restore(torch.full((3, 10, 16, 11), 0.75), fill=0.0)
    assert constant.shape == (3, 30, 24, 20)
    inside = np.zeros((30, 24, 20), bool)
    inside[4:23, 1:22, 3:14] = True
    assert np.all(constant[:, inside] == 0.75) and np.all(constant[:, ~inside] == 0.0)


def test_restore_refuses_maps_of_the_wrong_shape() -> None:
    prepared = preprocess(brain_case(), SEQUENCES)
    with pytest.raises(ValueError, match="do not match"):
        prepared.restore(np.zeros((3, 4, 4, 4), np.float32))
