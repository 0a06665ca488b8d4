"""Sliding window: exact tiling, Gaussian weights, x + 1 on odd shapes, progress, cancel, MONAI agreement."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from segmentation_core.inference.sliding_window import (
    gaussian_importance,
    sliding_window,
    tile_starts,
    windows,
)
from segmentation_core.types import CancelledError, CancelToken


def drain(generator):
    progress = []
    while True:
        try:
            progress.append(next(generator))
        except StopIteration as stop:
            return stop.value, progress


@pytest.mark.parametrize(
    ("size", "patch", "overlap", "expected"),
    [
        (240, 128, 0.5, [0, 56, 112]),
        (128, 128, 0.5, [0]),
        (129, 128, 0.5, [0, 1]),
        (256, 128, 0.0, [0, 128]),
        (257, 128, 0.0, [0, 64, 129]),
        (20, 8, 0.5, [0, 4, 8, 12]),
        (21, 8, 0.25, [0, 4, 9, 13]),
    ],
)
def test_tile_starts_are_minimal_and_end_at_the_border(size, patch, overlap, expected) -> None:
    assert tile_starts(size, patch, overlap) == expected


def test_windows_cover_every_corner_combination() -> None:
    assert windows((12, 8, 8), (8, 8, 8), 0.5) == [
        (slice(0, 8), slice(0, 8), slice(0, 8)),
        (slice(4, 12), slice(0, 8), slice(0, 8)),
    ]


def test_gaussian_importance_values() -> None:
    weights = gaussian_importance((16, 8, 24))
    assert weights.shape == (16, 8, 24) and weights.dtype == torch.float32
    assert weights.max().item() == 1.0 and weights[8, 4, 12].item() == 1.0
    # sigma = patch / 8: one sigma from the centre along x is exp(-1/2)
    assert weights[10, 4, 12].item() == pytest.approx(np.exp(-0.5), rel=1e-6)
    assert weights[8, 3, 12].item() == pytest.approx(np.exp(-0.5), rel=1e-6)
    assert weights[8, 4, 9].item() == pytest.approx(np.exp(-0.5), rel=1e-6)
    assert weights[0, 0, 0].item() == pytest.approx(np.exp(-0.5 * (16 + 16 + 16)), rel=1e-5)


@pytest.mark.parametrize(
    "shape",
    [(5, 7, 3), (17, 23, 9), (8, 8, 8), (5, 30, 11), (33, 9, 17)],
    ids=["smaller", "larger", "equal", "mixed", "odd-large"],
)
@pytest.mark.parametrize("batch_size", [1, 3])
def test_x_plus_one_on_odd_shapes(shape, batch_size) -> None:
    volume = np.random.default_rng(0).normal(size=(2, *shape)).astype(np.float32)
    result, progress = drain(sliding_window(volume, lambda x: x + 1, (8, 8, 8), 0.5, batch_size))
    assert result.shape == (2, *shape) and result.dtype == np.float32
    np.testing.assert_allclose(result, volume + 1, atol=1e-5)
    assert progress[-1].done == progress[-1].total == len(progress)


def test_output_channels_follow_the_predictor() -> None:
    volume = torch.arange(4 * 10 * 12 * 9, dtype=torch.float32).reshape(4, 10, 12, 9)
    result, _ = drain(sliding_window(volume, lambda x: x[:, 1:2] * 2, (8, 8, 8), 0.5))
    np.testing.assert_allclose(result, volume[1:2].numpy() * 2, rtol=1e-6)


def test_blending_is_the_gaussian_weighted_mean_of_windows() -> None:
    """Each window predicts its own start x; where two windows overlap the result is their weighted mean."""

    def which_window(batch: torch.Tensor) -> torch.Tensor:
        return batch[:, :1, :1, :1, :1].expand(-1, 1, 8, 8, 8).clone()

    x = torch.arange(12, dtype=torch.float32)[None, :, None, None].expand(1, 12, 8, 8)
    result, _ = drain(sliding_window(x, which_window, (8, 8, 8), 0.5))
    w = gaussian_importance((8, 8, 8))[:, 0, 0]  # weights along x of one window
    assert result[0, 0, 0, 0] == 0.0 and result[0, 11, 5, 5] == 4.0  # covered by one window only
    for voxel in range(4, 8):  # both windows: starts 0 and 4
        expected = (w[voxel] * 0 + w[voxel - 4] * 4) / (w[voxel] + w[voxel - 4])
        assert result[0, voxel, 3, 2] == pytest.approx(expected.item(), rel=1e-6)


def test_progress_is_reported_per_batch() -> None:
    volume = np.zeros((1, 20, 8, 8), dtype=np.float32)  # 4 windows along x
    _, progress = drain(sliding_window(volume, lambda x: x, (8, 8, 8), 0.5, batch_size=3))
    assert [(p.done, p.total) for p in progress] == [(1, 2), (2, 2)]


def test_cancel_takes_effect_before_the_next_batch() -> None:
    calls = []
    token = CancelToken()

    def predictor(batch: torch.Tensor) -> torch.Tensor:
        calls.append(batch.shape[0])
        return batch

    generator = sliding_window(np.zeros((1, 20, 8, 8), np.float32), predictor, (8, 8, 8), 0.5, 1, token)
    assert next(generator).done == 1
    token.cancel()
    with pytest.raises(CancelledError):
        next(generator)
    assert calls == [1]


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="overlap"):
        next(sliding_window(np.zeros((1, 8, 8, 8)), lambda x: x, (8, 8, 8), overlap=1.0))
    with pytest.raises(ValueError, match=r"\(C, X, Y, Z\)"):
        next(sliding_window(np.zeros((8, 8, 8)), lambda x: x, (8, 8, 8)))


def test_agrees_with_monai_on_identical_settings() -> None:
    """Same windows (two per axis at most) and MONAI's Gaussian map: a position-dependent network agrees."""
    monai_inferers = pytest.importorskip("monai.inferers")
    from monai.data.utils import compute_importance_map

    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Conv3d(2, 3, 3, padding=1), torch.nn.Tanh()).eval()
    volume = torch.randn(1, 2, 12, 10, 11)
    patch = (8, 8, 8)
    with torch.no_grad():
        expected = monai_inferers.sliding_window_inference(volume, patch, 1, net, 0.5, mode="gaussian")
        importance = compute_importance_map(patch, mode="gaussian", sigma_scale=0.125)
        ours, _ = drain(sliding_window(volume[0], net, patch, 0.5, importance=importance))
    np.testing.assert_allclose(ours, expected[0].numpy(), atol=1e-5)
