"""Hand-computed metric values on tiny volumes: Dice, HD95/ASD with anisotropic spacing, empty masks."""

from __future__ import annotations

import numpy as np
import pytest

from segmentation_core.metrics import (
    EMPTY_MASK_DISTANCE_MM,
    average_surface_distance,
    dice,
    hd95,
    region_metrics,
    sensitivity,
    specificity,
    summarize,
    summarize_cases,
    surface_distances,
    volumes_cm3,
)
from segmentation_core.metrics.surface import surface


def box(shape: tuple[int, int, int], *slices: slice) -> np.ndarray:
    mask = np.zeros(shape, dtype=bool)
    mask[slices] = True
    return mask


def test_dice_counts_overlap_exactly() -> None:
    a = box((6, 6, 6), slice(1, 3), slice(1, 3), slice(1, 3))  # 8 voxels
    b = box((6, 6, 6), slice(1, 3), slice(1, 3), slice(1, 4))  # 12 voxels, 8 shared
    assert dice(a, b) == pytest.approx(16 / 20, abs=0)
    assert sensitivity(a, b) == 8 / 12
    assert specificity(a, b) == 1.0
    assert specificity(b, a) == (216 - 12) / (216 - 8)


def test_surface_is_the_6_connected_boundary() -> None:
    cube = box((6, 6, 6), slice(1, 5), slice(1, 5), slice(1, 5))
    assert np.count_nonzero(surface(cube)) == 64 - 8
    assert not surface(cube)[2:4, 2:4, 2:4].any()


def test_hd95_and_asd_use_the_spacing_of_the_shifted_axis() -> None:
    # Two 4x4x2 slabs shifted by one voxel along axis 2: every voxel is on the surface; half of each
    # slab lies in the other (distance 0), the other half one voxel (3 mm along axis 2) away.
    ref = box((8, 8, 8), slice(2, 6), slice(2, 6), slice(2, 4))
    pred = box((8, 8, 8), slice(2, 6), slice(2, 6), slice(3, 5))
    spacing = (0.5, 0.7, 3.0)
    assert hd95(pred, ref, spacing) == 3.0
    assert average_surface_distance(pred, ref, spacing) == 1.5
    assert hd95(pred, ref, (3.0, 0.7, 0.5)) == 0.5
    assert dice(pred, ref) == 0.5


def test_hd95_interpolates_the_95th_percentile_linearly() -> None:
    # ref: one voxel at x=0; pred: a row of 21 voxels x=0..20 (spacing 2 mm along x).
    ref = box((24, 3, 3), slice(0, 1), slice(1, 2), slice(1, 2))
    pred = box((24, 3, 3), slice(0, 21), slice(1, 2), slice(1, 2))
    distances = surface_distances(pred, ref, (2.0, 1.0, 1.0))
    assert sorted(distances.pred_to_ref.tolist()) == [2.0 * i for i in range(21)]
    assert distances.ref_to_pred.tolist() == [0.0]
    # 95th percentile of 0, 2, ..., 40: position 0.95 * 20 = 19 -> 38 mm.
    assert hd95(pred, ref, (2.0, 1.0, 1.0)) == pytest.approx(38.0)
    assert average_surface_distance(pred, ref, (2.0, 1.0, 1.0)) == pytest.approx(420.0 / 22)


def test_distances_are_the_same_when_masks_touch_the_image_border() -> None:
    ref = box((5, 5, 5), slice(0, 5), slice(0, 5), slice(0, 2))
    pred = box((5, 5, 5), slice(0, 5), slice(0, 5), slice(0, 3))
    # Every voxel of both slabs touches the image border, so all are surface voxels.
    assert hd95(pred, ref, (1.0, 1.0, 2.0)) == 2.0


@pytest.mark.parametrize("spacing", [(1.0, 1.0, 1.0), (0.5, 2.0, 3.0)])
def test_empty_masks_follow_brats_conventions(spacing: tuple[float, float, float]) -> None:
    empty = np.zeros((5, 5, 5), dtype=bool)
    blob = box((5, 5, 5), slice(1, 3), slice(1, 3), slice(1, 3))
    assert dice(empty, empty) == 1.0
    assert hd95(empty, empty, spacing) == 0.0
    assert average_surface_distance(empty, empty, spacing) == 0.0
    assert sensitivity(empty, empty) == 1.0 and specificity(empty, empty) == 1.0
    for pred, ref in ((empty, blob), (blob, empty)):
        assert dice(pred, ref) == 0.0
        assert hd95(pred, ref, spacing) == EMPTY_MASK_DISTANCE_MM == 373.13
        assert average_surface_distance(pred, ref, spacing) == 373.13
    assert sensitivity(empty, blob) == 0.0
    assert sensitivity(blob, empty) == 0.0
    assert specificity(blob, empty) == (125 - 8) / 125


def _labels() -> tuple[np.ndarray, np.ndarray]:
    """ref: ET, NCR, ED blocks of 8 voxels along axis 0; pred: NCR over the ET and NCR blocks only."""
    ref = np.zeros((8, 8, 8), dtype=np.uint8)
    ref[1:3, 1:3, 1:3] = 3
    ref[3:5, 1:3, 1:3] = 1
    ref[5:7, 1:3, 1:3] = 2
    pred = np.zeros_like(ref)
    pred[1:5, 1:3, 1:3] = 1
    return pred, ref


def test_region_metrics_per_region_by_hand() -> None:
    pred, ref = _labels()
    spacing = (2.0, 1.0, 1.0)  # 2 mm^3 voxels = 0.002 cm^3
    scores = region_metrics(pred, ref, spacing)
    assert list(scores) == ["WT", "TC", "ET"]
    wt, tc, et = scores["WT"], scores["TC"], scores["ET"]
    # WT: pred 16 voxels inside ref 24; ref voxels 1 and 2 steps (2 and 4 mm) beyond pred, 4 each.
    assert wt["dice"] == 32 / 40
    assert wt["sensitivity"] == 16 / 24 and wt["specificity"] == 1.0
    assert wt["hd95"] == 4.0
    assert wt["asd"] == pytest.approx((4 * 2.0 + 4 * 4.0) / 40)
    assert wt["volume_pred_cm3"] == pytest.approx(0.032) and wt["volume_ref_cm3"] == pytest.approx(0.048)
    # TC: identical masks.
    assert (tc["dice"], tc["hd95"], tc["asd"], tc["sensitivity"]) == (1.0, 0.0, 0.0, 1.0)
    # ET: predicted empty, reference not.
    assert (et["dice"], et["hd95"], et["asd"], et["sensitivity"]) == (0.0, 373.13, 373.13, 0.0)
    assert et["volume_pred_cm3"] == 0.0 and et["volume_ref_cm3"] == pytest.approx(0.016)


def test_region_metrics_single_labels_and_empty_maps() -> None:
    pred, ref = _labels()
    scores = region_metrics(pred, ref, (1.0, 1.0, 1.0), regions=("NCR", "ED"))
    assert scores["NCR"]["dice"] == 2 * 8 / 24
    assert scores["ED"]["dice"] == 0.0 and scores["ED"]["hd95"] == 373.13
    empty = np.zeros((4, 4, 4), dtype=np.uint8)
    for values in region_metrics(empty, empty, (1.0, 1.0, 1.0)).values():
        assert values["dice"] == 1.0 and values["hd95"] == 0.0 and values["specificity"] == 1.0


def test_region_metrics_rejects_bad_input() -> None:
    pred, ref = _labels()
    with pytest.raises(ValueError, match="differ in shape"):
        region_metrics(pred, ref[:-1], (1.0, 1.0, 1.0))
    bad = ref.copy()
    bad[1, 1, 1] = 4
    with pytest.raises(ValueError, match="reference holds values 0..4"):
        region_metrics(pred, bad, (1.0, 1.0, 1.0))
    negative = ref.astype(np.int16)
    negative[7, 7, 7] = -1
    with pytest.raises(ValueError, match="reference holds values -1..3"):
        region_metrics(pred.astype(np.int16), negative, (1.0, 1.0, 1.0))
    with pytest.raises(ValueError, match="unknown region 'XX'"):
        region_metrics(pred, ref, (1.0, 1.0, 1.0), regions=("XX",))
    with pytest.raises(ValueError, match="must be integers"):
        region_metrics(pred.astype(np.float32), ref, (1.0, 1.0, 1.0))


def test_volumes_cm3_per_label_and_region() -> None:
    _, ref = _labels()
    volumes = volumes_cm3(np.asfortranarray(ref), (2.0, 1.0, 1.5))  # 3 mm^3 voxels
    assert volumes == pytest.approx({"NCR": 0.024, "ED": 0.024, "ET": 0.024, "WT": 0.072, "TC": 0.048})
    with pytest.raises(ValueError, match="expected internal labels 0-3"):
        volumes_cm3(ref * 2, (1.0, 1.0, 1.0))


def test_summaries_give_mean_median_and_std() -> None:
    assert summarize([1.0, 2.0, 6.0]) == pytest.approx({"mean": 3.0, "median": 2.0, "std": np.std([1, 2, 6])})
    cases = {"a": {"WT": {"dice": 0.5}}, "b": {"WT": {"dice": 1.0}}}
    assert summarize_cases(cases) == {"WT": {"dice": {"mean": 0.75, "median": 0.75, "std": 0.25}}}


def random_masks(seed: int, shape: tuple[int, int, int] = (20, 24, 16)) -> tuple[np.ndarray, np.ndarray]:
    """Two noisy blobs (smoothed noise thresholded) touching the image border here and there."""
    from scipy import ndimage

    rng = np.random.default_rng(seed)
    a = ndimage.uniform_filter(rng.random(shape), 3) > 0.55
    b = ndimage.uniform_filter(rng.random(shape), 3) > 0.55
    return a, b


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_surface_equals_scipy_erosion_definition(seed: int) -> None:
    from scipy import ndimage

    for mask in random_masks(seed):
        assert mask.any() and mask[0].any()
        np.testing.assert_array_equal(surface(mask), mask & ~ndimage.binary_erosion(mask, border_value=0))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_distance_transform_and_kdtree_give_the_same_distances(seed: int) -> None:
    a, b = random_masks(seed)
    spacing = (0.8, 1.3, 2.7)
    edt = surface_distances(a, b, spacing, method="edt")
    tree = surface_distances(a, b, spacing, method="kdtree")
    np.testing.assert_allclose(edt.pred_to_ref, tree.pred_to_ref, rtol=0, atol=1e-9)
    np.testing.assert_allclose(edt.ref_to_pred, tree.ref_to_pred, rtol=0, atol=1e-9)
    assert edt.pred_to_ref.size == np.count_nonzero(surface(a))
    with pytest.raises(ValueError, match="unknown method"):
        surface_distances(a, b, spacing, method="brute")  # type: ignore[arg-type]


def test_stray_voxels_far_apart_give_exact_distances() -> None:
    # The box of both surfaces (180 x 180 x 100 voxels) is over EDT_MAX_VOXELS: "auto" takes the KD-tree.
    ref = np.zeros((180, 180, 100), dtype=np.uint8)
    ref[80:90, 80:90, 40:50] = 3
    pred = ref.copy()
    pred[0, 0, 0] = 3
    pred[179, 179, 99] = 3
    spacing = (1.0, 1.0, 1.5)
    scores = region_metrics(pred, ref, spacing)["ET"]
    exact = surface_distances(pred == 3, ref == 3, spacing, method="edt")
    assert scores["hd95"] == exact.hd95() == 0.0
    far = np.sqrt(80**2 + 80**2 + (40 * 1.5) ** 2), np.sqrt(90**2 + 90**2 + (50 * 1.5) ** 2)
    n = np.count_nonzero(surface(ref == 3))
    assert scores["asd"] == pytest.approx(sum(far) / (2 * n + 2))
    assert scores["asd"] == pytest.approx(exact.asd())


@pytest.mark.parametrize("scheme", ["brats", "msd"])
def test_any_label_scheme_gives_the_internal_scores(scheme: str) -> None:
    from segmentation_core.labels import convert
    from segmentation_core.metrics import lesion_wise

    pred, ref = _labels()
    pred_file, ref_file = convert(pred, "internal", scheme), convert(ref, "internal", scheme)
    assert not np.array_equal(ref_file, ref)
    spacing = (1.0, 2.0, 0.5)
    assert region_metrics(pred_file, ref_file, spacing, scheme=scheme) == region_metrics(pred, ref, spacing)
    assert lesion_wise(pred_file, ref_file, spacing, "TC", scheme=scheme, min_lesion_voxels=4) == lesion_wise(
        pred, ref, spacing, "TC", min_lesion_voxels=4
    )
