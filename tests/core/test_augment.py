"""Training augmentation: the policies, determinism, and the strong policy's transforms one by one."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import ndimage

from segmentation_core.training import augment_strong as strong
from segmentation_core.training.augment import AUGMENTATIONS, augment
from segmentation_core.training.batches import BatchDataset
from segmentation_core.training.data import CachedCase
from segmentation_core.training.sampling import PatchSampler


def batch(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    images = torch.randn(2, 4, 20, 20, 20, generator=g)
    targets = torch.zeros(2, 3, 20, 20, 20)
    targets[:, :, 6:14, 8:12, 5:9] = 1.0
    return images, targets


@pytest.mark.parametrize("policy", AUGMENTATIONS)
def test_same_generator_seed_gives_the_same_batch(policy) -> None:
    images, targets = batch()
    a = augment(images, targets, torch.Generator().manual_seed(7), policy)
    b = augment(images, targets, torch.Generator().manual_seed(7), policy)
    torch.testing.assert_close(a[0], b[0], rtol=0, atol=0)
    torch.testing.assert_close(a[1], b[1], rtol=0, atol=0)
    assert a[0].shape == images.shape and a[1].shape == targets.shape
    assert not torch.equal(a[0], images)  # the input is augmented, not returned as it was
    assert torch.equal(images, batch()[0])  # and the caller's tensors are left untouched


@pytest.mark.parametrize("policy", AUGMENTATIONS)
def test_coarse_guide_channels_move_like_the_labels_and_keep_their_values(policy) -> None:
    images, targets = batch()
    guides = targets[:, [0, 2]] * 0.8  # a coarse model's WT and ET probabilities
    for seed in range(6):
        alone = augment(images, targets, torch.Generator().manual_seed(seed), policy)
        guided = augment(
            torch.cat([images, guides], 1), targets, torch.Generator().manual_seed(seed), policy, 2
        )
        torch.testing.assert_close(guided[0][:, :4], alone[0], rtol=0, atol=0)  # the same draws
        torch.testing.assert_close(guided[1], alone[1], rtol=0, atol=0)
        torch.testing.assert_close(guided[0][:, 4:], alone[1][:, [0, 2]] * 0.8, rtol=0, atol=1e-6)


def test_unknown_policy_names_the_choices() -> None:
    images, targets = batch()
    with pytest.raises(ValueError, match="unknown augmentation 'heavy'; choose one of default, strong"):
        augment(images, targets, torch.Generator(), "heavy")


def test_strong_policy_moves_image_and_labels_together() -> None:
    """With the intensity transforms switched off, a channel equal to the labels stays equal to them."""
    targets = batch()[1]
    images = torch.cat([targets, targets[:, :1]], dim=1)  # 4 channels, each a copy of a label channel
    changed = 0
    with pytest.MonkeyPatch.context() as m:
        for name in (
            "NOISE_P",
            "BLUR_P",
            "BRIGHTNESS_P",
            "CONTRAST_P",
            "LOWRES_P",
            "INVERTED_GAMMA_P",
            "GAMMA_P",
        ):
            m.setattr(strong, name, 0.0)
        for seed in range(12):
            out_images, out_targets = augment(images, targets, torch.Generator().manual_seed(seed), "strong")
            torch.testing.assert_close(out_images[:, :3], out_targets, rtol=0, atol=1e-6)
            changed += not torch.equal(out_targets, targets)
    assert changed >= 10  # mirroring alone changes 7 in 8 patches


def test_rotation_matrices_turn_a_quarter_about_their_axis() -> None:
    r = strong.rotation(2, math.pi / 2).numpy()
    np.testing.assert_allclose(r @ [1.0, 0.0, 0.0], [0.0, 1.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(r @ [0.0, 0.0, 1.0], [0.0, 0.0, 1.0], atol=1e-12)
    for axis in range(3):
        m = strong.rotation(axis, 0.3).numpy()
        np.testing.assert_allclose(m @ m.T, np.eye(3), atol=1e-12)
        assert np.linalg.det(m) == pytest.approx(1.0)


@pytest.mark.parametrize("sigma", [0.5, 1.0])
def test_blur_is_scipys_gaussian_filter(sigma) -> None:
    volume = np.random.default_rng(0).normal(size=(12, 14, 16)).astype(np.float32)
    expected = ndimage.gaussian_filter(volume, sigma, mode="nearest", truncate=3.0)
    np.testing.assert_allclose(
        strong.gaussian_blur(torch.from_numpy(volume), sigma).numpy(), expected, atol=1e-5
    )


def test_low_resolution_keeps_the_shape_and_constant_regions() -> None:
    volume = torch.zeros(16, 16, 16)
    volume[:8] = 3.0
    low = strong.simulate_low_resolution(volume, 0.5)
    assert low.shape == volume.shape
    assert torch.all(low[:6] == 3.0) and torch.all(low[10:] == 0.0)  # far from the edge nothing changes
    assert 0.0 < float(low[7:9].mean()) < 3.0  # the edge is smeared
    torch.testing.assert_close(strong.simulate_low_resolution(volume, 1.0), volume, rtol=0, atol=0)


def test_gamma_keeps_mean_and_spread_and_contrast_keeps_the_range() -> None:
    volume = torch.rand(10, 10, 10, generator=torch.Generator().manual_seed(1)) * 4 - 1
    out = strong._gamma(volume, 1.4)
    assert float(out.mean()) == pytest.approx(float(volume.mean()), abs=1e-5)
    assert float(out.std()) == pytest.approx(float(volume.std()), abs=1e-5)
    assert not torch.allclose(out, volume)
    contrasted = strong._contrast(volume, 1.25)
    assert float(contrasted.min()) >= float(volume.min()) and float(contrasted.max()) <= float(volume.max())
    mean, low, high = float(volume.mean()), float(volume.min()), float(volume.max())
    expected = ((volume - mean) * 1.25 + mean).clamp(low, high)
    torch.testing.assert_close(contrasted, expected, rtol=0, atol=1e-6)
    assert float(contrasted.max()) == pytest.approx(high) and float(contrasted.min()) == pytest.approx(low)


def test_batches_follow_the_configured_policy(tmp_path) -> None:
    np.save(tmp_path / "i.npy", np.random.default_rng(0).normal(size=(4, 24, 24, 24)).astype(np.float16))
    target = np.zeros((3, 24, 24, 24), dtype=np.uint8)
    target[:, 8:16, 8:16, 8:16] = 255
    np.save(tmp_path / "t.npy", target)
    sampler = PatchSampler([CachedCase("c", tmp_path / "i.npy", tmp_path / "t.npy")], (16, 16, 16), 0.5)
    strong_a = BatchDataset(sampler, 2, seed=5, start=0, stop=4, augmentation="strong")[2]
    strong_b = BatchDataset(sampler, 2, seed=5, start=0, stop=4, augmentation="strong")[2]
    default = BatchDataset(sampler, 2, seed=5, start=0, stop=4)[2]
    assert torch.equal(strong_a[0], strong_b[0]) and torch.equal(strong_a[1], strong_b[1])
    assert not torch.equal(strong_a[0], default[0])
