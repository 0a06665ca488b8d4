"""Training building blocks without the loop: cached data, patch sampling, losses, checkpoints."""

from __future__ import annotations

import logging

import nibabel as nib
import numpy as np
import pytest
import torch

from segmentation_core.io import load_case
from segmentation_core.labels import region_mask
from segmentation_core.preprocessing import preprocess
from segmentation_core.training.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from segmentation_core.training.crossval import write_npz
from segmentation_core.training.data import CachedCase, DatasetError, build_cache, prepare_case
from segmentation_core.training.losses import region_loss
from segmentation_core.training.sampling import PatchSampler
from tests.core.io_fixtures import make_case, write_brats_case


def test_prepared_image_is_the_inference_input_and_targets_are_the_regions() -> None:
    case = make_case((32, 32, 32))
    image, targets = prepare_case(case, ("t1", "t1ce", "t2", "flair"), None)
    prepared = preprocess(case, ("t1", "t1ce", "t2", "flair"))
    np.testing.assert_array_equal(image, prepared.image.astype(np.float16))
    labels = np.asarray(case.labels.array)[prepared.box]
    for channel, region in enumerate(("WT", "TC", "ET")):
        np.testing.assert_array_equal(targets[channel], region_mask(labels, region).astype(np.uint8) * 255)


def test_prepared_case_is_resampled_to_the_target_spacing() -> None:
    case = make_case((32, 32, 32))
    image, targets = prepare_case(case, ("t1", "t1ce", "t2", "flair"), (2.0, 2.0, 2.0))
    crop = preprocess(case, ("t1", "t1ce", "t2", "flair")).image.shape[1:]
    expected = tuple(int(round(n * s / 2.0)) for n, s in zip(crop, case.spacing))
    assert image.shape == (4, *expected) and targets.shape == (3, *expected)
    assert targets.dtype == np.uint8 and targets.max() == 255


def test_case_without_labels_names_the_case() -> None:
    with pytest.raises(DatasetError, match="'Unlabelled' has no reference labels"):
        prepare_case(make_case(with_labels=False, case_id="Unlabelled"), ("t1", "t1ce", "t2", "flair"), None)


def test_foreground_patches_are_centred_on_tumour(tmp_path) -> None:
    image = np.zeros((1, 40, 40, 40), dtype=np.float16)
    target = np.zeros((3, 40, 40, 40), dtype=np.uint8)
    target[:, 30:32, 30:32, 30:32] = 255  # 8 tumour voxels in a corner
    np.save(tmp_path / "i.npy", image)
    np.save(tmp_path / "t.npy", target)
    sampler = PatchSampler([CachedCase("c", tmp_path / "i.npy", tmp_path / "t.npy")], (16, 16, 16), 1.0)
    rng = np.random.default_rng(0)
    for _ in range(20):
        patch_image, patch_target = sampler.sample(rng)
        assert patch_image.shape == (1, 16, 16, 16) and patch_target.dtype == np.float32
        assert patch_target[0].sum() > 0  # always sees tumour when every patch is a foreground patch


def test_patches_of_a_volume_smaller_than_the_patch_are_zero_padded(tmp_path) -> None:
    np.save(tmp_path / "i.npy", np.ones((1, 10, 10, 10), dtype=np.float16))
    np.save(tmp_path / "t.npy", np.full((3, 10, 10, 10), 255, dtype=np.uint8))
    sampler = PatchSampler([CachedCase("c", tmp_path / "i.npy", tmp_path / "t.npy")], (16, 16, 16), 0.0)
    patch_image, patch_target = sampler.sample(np.random.default_rng(1))
    assert patch_image.sum() == 1000 and patch_target[0].sum() == 1000


def test_perfect_logits_give_near_zero_loss_and_inverted_ones_a_high_loss() -> None:
    targets = torch.zeros(1, 3, 8, 8, 8)
    targets[:, :, 2:6, 2:6, 2:6] = 1
    perfect = (targets * 2 - 1) * 20
    for kind in ("dice_bce", "dice_focal", "dice_tversky"):
        assert region_loss(perfect, targets, kind).item() < 1e-3
        assert region_loss(-perfect, targets, kind).item() > 1.0
    with pytest.raises(ValueError, match="unknown loss 'dice_ce'"):
        region_loss(perfect, targets, "dice_ce")


def test_checkpoint_restores_the_random_states(tmp_path) -> None:
    torch.manual_seed(5)
    np.random.seed(5)
    path = save_checkpoint(tmp_path / "last.pt", {"iteration": 7})
    expected = torch.rand(3), np.random.rand(3)
    torch.manual_seed(99)
    np.random.seed(99)
    state = load_checkpoint(path, torch.device("cpu"))
    assert state["iteration"] == 7
    assert torch.equal(torch.rand(3), expected[0])
    np.testing.assert_array_equal(np.random.rand(3), expected[1])


def test_missing_or_broken_checkpoint_is_a_clear_error(tmp_path) -> None:
    with pytest.raises(CheckpointError, match="no checkpoint to resume from"):
        load_checkpoint(tmp_path / "last.pt", torch.device("cpu"))
    (tmp_path / "last.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="last.pt: cannot read the checkpoint"):
        load_checkpoint(tmp_path / "last.pt", torch.device("cpu"))


SEQUENCE_CHANNELS = ("t1", "t1ce", "t2", "flair")


def test_the_cache_is_reused_when_nothing_changed_and_rebuilt_when_the_spacing_does(tmp_path, caplog) -> None:
    write_brats_case(tmp_path / "data" / "C_1", shape=(20, 20, 20), case_id="C_1")
    cases = [tmp_path / "data" / "C_1"]
    caplog.set_level(logging.INFO, logger="segmentation_core.training.data")
    first = build_cache(cases, tmp_path / "cache", SEQUENCE_CHANNELS, (2.0, 2.0, 2.0))
    written = first[0].image_path.stat().st_mtime_ns
    build_cache(cases, tmp_path / "cache", SEQUENCE_CHANNELS, (2.0, 2.0, 2.0))
    assert [r.message for r in caplog.records] == ["cached C_1: (4, 10, 10, 10)"]
    assert first[0].image_path.stat().st_mtime_ns == written
    build_cache(cases, tmp_path / "cache", SEQUENCE_CHANNELS, (1.0, 1.0, 1.0))
    assert [r.message for r in caplog.records][1:] == ["cached C_1: (4, 20, 20, 20)"]
    seg = tmp_path / "data" / "C_1" / "C_1_seg.nii.gz"
    corrected = nib.load(seg)
    labels = np.asanyarray(corrected.dataobj).copy()
    labels[labels == 4] = 1  # the user relabels the enhancing tumour as necrosis, then retrains
    nib.save(nib.Nifti1Image(labels, corrected.affine, corrected.header), seg)
    targets = build_cache(cases, tmp_path / "cache", SEQUENCE_CHANNELS, (1.0, 1.0, 1.0))[0].load()[1]
    assert len(caplog.records) == 3 and not targets[2].any()  # no ET left in the cached targets


def test_coarse_predictions_become_extra_channels_on_the_network_grid(tmp_path) -> None:
    write_brats_case(tmp_path / "data" / "C_1", shape=(20, 20, 20), case_id="C_1")
    coarse = np.zeros((3, 20, 20, 20), np.uint8)
    coarse[0, 4:16, 4:16, 4:16] = 255  # WT
    coarse[2, 8:12, 8:12, 8:12] = 51  # ET at 0.2
    write_npz(tmp_path / "coarse" / "fold1" / "cv" / "C_1.npz", probabilities=coarse)
    cached = build_cache(
        [tmp_path / "data" / "C_1"],
        tmp_path / "cache",
        SEQUENCE_CHANNELS,
        None,
        (tmp_path / "coarse", ("WT", "ET")),
    )
    image, _ = cached[0].load()
    prepared = preprocess(load_case(tmp_path / "data" / "C_1"), SEQUENCE_CHANNELS)
    assert image.shape == (6, *prepared.image.shape[1:])
    np.testing.assert_array_equal(image[:4], prepared.image.astype(np.float16))
    box = prepared.box
    np.testing.assert_array_equal(image[4], (coarse[0][box] / 255).astype(np.float16))
    np.testing.assert_array_equal(image[5], (coarse[2][box] / 255).astype(np.float16))
    assert float(image[5].max()) == pytest.approx(0.2, abs=1e-3)


def test_a_missing_or_damaged_coarse_prediction_names_the_file(tmp_path) -> None:
    write_brats_case(tmp_path / "data" / "C_1", shape=(20, 20, 20), case_id="C_1")
    cases = [tmp_path / "data" / "C_1"]
    (tmp_path / "coarse").mkdir()
    with pytest.raises(DatasetError, match=r"coarse: expected one coarse prediction C_1.npz, found none"):
        build_cache(cases, tmp_path / "cache", SEQUENCE_CHANNELS, None, (tmp_path / "coarse", ("WT",)))
    (tmp_path / "coarse" / "C_1.npz").write_bytes(b"not an archive")
    with pytest.raises(DatasetError, match=r"C_1.npz: not a readable coarse prediction"):
        build_cache(cases, tmp_path / "cache", SEQUENCE_CHANNELS, None, (tmp_path / "coarse", ("WT",)))
    write_npz(tmp_path / "coarse" / "C_1.npz", probabilities=np.zeros((3, 20, 20, 19), np.uint8))
    with pytest.raises(
        DatasetError, match=r"expected uint8 probabilities of shape \(3, 20, 20, 20\), got uint8"
    ):
        build_cache(cases, tmp_path / "cache", SEQUENCE_CHANNELS, None, (tmp_path / "coarse", ("WT",)))
