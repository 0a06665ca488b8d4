"""BraTS 2023 lesion-wise Dice and HD95 computed by hand on tiny volumes."""

from __future__ import annotations

import numpy as np
import pytest

from segmentation_core.metrics import LESION_MISS_DISTANCE_MM, lesion_wise

SHAPE = (40, 40, 40)
ONE_MM = (1.0, 1.0, 1.0)


def test_split_lesion_missed_lesion_and_false_positive() -> None:
    ref = np.zeros(SHAPE, dtype=np.uint8)
    ref[5:9, 5:9, 5:9] = 2  # lesion A: 64 voxels
    ref[25:30, 25:30, 25:30] = 3  # lesion B: 125 voxels, never predicted
    ref[5:7, 30:32, 5:7] = 1  # lesion C: 8 voxels (<= 50), left out of the scores
    pred = np.zeros_like(ref)
    pred[5:9, 5:9, 5:7] = 2  # A split in two components by the empty plane z = 7
    pred[5:9, 5:9, 8:9] = 2
    pred[5:7, 30:32, 5:7] = 1  # C found: neither scored nor a false positive
    pred[30:33, 5:8, 30:33] = 3  # false positive, 27 voxels
    scores = lesion_wise(pred, ref, ONE_MM, "WT")
    assert (scores["tp"], scores["fn"], scores["fp"]) == (1, 1, 1)
    lesion_a, lesion_b = scores["lesions"]
    # A: 48 predicted voxels, all inside the 64-voxel lesion.
    assert lesion_a == {"voxels": 64, "dice": 2 * 48 / (48 + 64), "hd95": 1.0, "matched": 2}
    assert lesion_b == {"voxels": 125, "dice": 0.0, "hd95": 374.0, "matched": 0}
    assert scores["dice"] == pytest.approx((6 / 7 + 0 + 0) / 3)
    assert scores["hd95"] == pytest.approx((1.0 + 374.0 + 374.0) / 3)


def test_nearby_reference_components_form_one_lesion() -> None:
    ref = np.zeros(SHAPE, dtype=np.uint8)
    ref[5:9, 5:9, 5:9] = 3
    ref[14:18, 5:9, 5:9] = 3  # five empty planes apart: joined by two 3-voxel dilations, not by 1-voxel ones
    pred = np.zeros_like(ref)
    pred[5:9, 5:9, 5:9] = 3
    scores = lesion_wise(pred, ref, ONE_MM, "ET")
    assert (scores["tp"], scores["fn"], scores["fp"]) == (1, 0, 0)
    assert scores["lesions"][0]["voxels"] == 128
    assert scores["dice"] == 2 * 64 / (64 + 128)
    apart = lesion_wise(pred, ref, ONE_MM, "ET", dilation=1)
    assert (apart["tp"], apart["fn"], apart["fp"]) == (1, 1, 0)
    assert apart["dice"] == pytest.approx((1.0 + 0.0) / 2)
    assert apart["hd95"] == pytest.approx((0.0 + 374.0) / 2)


def test_prediction_within_reach_of_the_dilated_lesion_is_matched() -> None:
    ref = np.zeros(SHAPE, dtype=np.uint8)
    ref[10:18, 10:18, 10] = 1  # 64-voxel slab at z = 10; dilated 3 times it reaches z = 13
    pred = np.zeros_like(ref)
    pred[10:18, 10:18, 13] = 1
    gathered = lesion_wise(pred, ref, (1.0, 1.0, 1.5), "TC")
    assert (gathered["tp"], gathered["fn"], gathered["fp"]) == (1, 0, 0)
    assert (gathered["dice"], gathered["hd95"]) == (0.0, 4.5)
    pred[:] = 0
    pred[10:18, 10:18, 14] = 1  # one plane further: a false positive and a missed lesion
    missed = lesion_wise(pred, ref, (1.0, 1.0, 1.5), "TC")
    assert (missed["tp"], missed["fn"], missed["fp"]) == (0, 1, 1)
    assert (missed["dice"], missed["hd95"]) == (0.0, 374.0)
    with pytest.raises(ValueError, match="dilation must be at least 1"):
        lesion_wise(pred, ref, ONE_MM, "TC", dilation=0)


def test_lesion_hd95_uses_the_spacing() -> None:
    ref = np.zeros(SHAPE, dtype=np.uint8)
    ref[10:14, 10:14, 10:14] = 3
    pred = np.zeros_like(ref)
    pred[10:14, 10:14, 11:15] = 3
    assert lesion_wise(pred, ref, (1.0, 1.0, 2.5), "ET")["hd95"] == 2.5


def test_empty_cases() -> None:
    empty = np.zeros(SHAPE, dtype=np.uint8)
    blob = empty.copy()
    blob[2:8, 2:8, 2:8] = 2
    nothing = lesion_wise(empty, empty, ONE_MM, "WT")
    assert (nothing["dice"], nothing["hd95"], nothing["lesions"]) == (1.0, 0.0, [])
    only_pred = lesion_wise(blob, empty, ONE_MM, "WT")
    assert (only_pred["dice"], only_pred["hd95"], only_pred["fp"]) == (0.0, LESION_MISS_DISTANCE_MM, 1)
    only_ref = lesion_wise(empty, blob, ONE_MM, "WT")
    assert (only_ref["dice"], only_ref["hd95"], only_ref["fn"]) == (0.0, 374.0, 1)
    # Only a small reference lesion and a prediction on it: nothing is scored.
    small = empty.copy()
    small[2:4, 2:4, 2:4] = 2
    assert lesion_wise(small, small, ONE_MM, "WT")["dice"] == 1.0
    # A region absent from both maps (ET here) scores as empty.
    assert lesion_wise(blob, blob, ONE_MM, "ET")["hd95"] == 0.0


def test_mismatched_shapes_are_rejected() -> None:
    with pytest.raises(ValueError, match="one shape"):
        lesion_wise(np.zeros((4, 4, 4), np.uint8), np.zeros((4, 4, 5), np.uint8), ONE_MM, "WT")


def naive_lesion_wise(pred: np.ndarray, ref: np.ndarray, region: str) -> tuple[float, float, int]:
    """The BraTS 2023 procedure step by step on the whole volume, as its reference code does it."""
    from scipy import ndimage

    from segmentation_core.labels import region_mask
    from segmentation_core.metrics import dice, hd95

    s18, s26 = ndimage.generate_binary_structure(3, 2), ndimage.generate_binary_structure(3, 3)
    p, r = region_mask(pred, region), region_mask(ref, region)
    pred_cc, _ = ndimage.label(p, s26)
    ref_cc, _ = ndimage.label(r, s26)
    dilated_cc, n = ndimage.label(ndimage.binary_dilation(r, s18, iterations=3), s26)
    merged = np.zeros_like(dilated_cc)
    for comp in range(1, n + 1):
        merged[(dilated_cc == comp) & (ref_cc > 0)] = comp
    tp: list[int] = []
    rows = []
    for comp in range(1, merged.max() + 1):
        gt = merged == comp
        hits = np.unique(pred_cc * ndimage.binary_dilation(gt, s18, iterations=3))
        hits = [int(h) for h in hits if h]
        tp += hits
        found = np.isin(pred_cc, hits)
        lesion_hd = hd95(found, gt, ONE_MM) if hits else 374.0
        rows.append((gt.sum(), dice(found, gt) if hits else 0.0, lesion_hd))
    fp = len(np.unique(pred_cc[~np.isin(pred_cc, [*tp, 0])]))
    kept = [row for row in rows if row[0] > 50]
    if not kept and not fp:
        return 1.0, 0.0, 0
    count = len(kept) + fp
    return sum(r[1] for r in kept) / count, (sum(r[2] for r in kept) + 374.0 * fp) / count, fp


def random_lesions(rng: np.random.Generator, count: int) -> np.ndarray:
    """Balls of random radius (1-5 voxels) and label (1-3) at random places in a 48^3 volume."""
    grid = np.indices((48, 48, 48))
    labels = np.zeros((48, 48, 48), dtype=np.uint8)
    for _ in range(count):
        centre = rng.integers(0, 48, 3)[:, None, None, None]
        radius = rng.uniform(1.0, 5.5)
        labels[((grid - centre) ** 2).sum(axis=0) <= radius**2] = rng.integers(1, 4)
    return labels


@pytest.mark.parametrize("seed", range(4))
def test_matches_the_reference_procedure_on_random_lesions(seed: int) -> None:
    rng = np.random.default_rng(seed)
    ref = random_lesions(rng, 9)
    pred = np.roll(ref, rng.integers(-2, 3, 3), axis=(0, 1, 2))  # shifted copy...
    pred[random_lesions(rng, 4) > 0] = 0  # ...with some lesions cut away...
    extra = random_lesions(rng, 3)
    pred[extra > 0] = extra[extra > 0]  # ...and some added
    for region in ("WT", "TC", "ET"):
        scores = lesion_wise(pred, ref, ONE_MM, region)
        expected_dice, expected_hd95, expected_fp = naive_lesion_wise(pred, ref, region)
        assert scores["dice"] == pytest.approx(expected_dice, abs=1e-12)
        assert scores["hd95"] == pytest.approx(expected_hd95, abs=1e-9)
        assert scores["fp"] == expected_fp
