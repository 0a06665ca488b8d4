"""Kept probabilities (compact, brain box), the confidence map, TTA spread and the review queue."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from segmentation_core.inference import Predictor, run_prediction
from segmentation_core.inference.tta import mirrored_with_spread
from segmentation_core.review.confidence import ConfidenceMap, threshold_value
from segmentation_core.review.queue import QueueSettings, ReviewQueue
from segmentation_core.types import RegionProbabilities
from tests.core.test_predictor import FirstThree, bundle, make_case, with_network  # noqa: F401 (fixture)


def regions_of(
    q: np.ndarray, box=((0, 8), (0, 8), (0, 8)), shape=(8, 8, 8), spread=None
) -> RegionProbabilities:
    return RegionProbabilities(
        box, shape, q.astype(np.uint8), None if spread is None else spread.astype(np.uint8)
    )


def test_predictor_keeps_uint8_probabilities_inside_the_brain_box(bundle) -> None:  # noqa: F811
    case = make_case()
    predictor = with_network(Predictor(bundle, device="cpu", postprocess=False), FirstThree())
    prediction = run_prediction(predictor, case, want_probabilities=True)
    regions = prediction.regions
    assert regions.box == ((1, 25), (0, 21), (2, 17)) and regions.case_shape == case.shape
    assert regions.probabilities.dtype == np.uint8 and regions.probabilities.shape == (3, 24, 21, 15)
    assert regions.spread is None and prediction.tta is False
    expected = np.rint(prediction.probabilities.astype(np.float32) * 255)
    assert np.abs(regions.full() * 255 - expected).max() <= 1.0  # float16 vs exact: within one step
    assert not regions.full()[:, 0].any()  # outside the box nothing is kept


def test_tta_spread_is_zero_for_a_flip_equivariant_network(bundle) -> None:  # noqa: F811
    case = make_case()
    plain = run_prediction(with_network(Predictor(bundle, device="cpu"), FirstThree()), case)
    tta = run_prediction(with_network(Predictor(bundle, device="cpu", tta=True), FirstThree()), case)
    assert tta.tta is True and tta.regions.spread.shape == tta.regions.probabilities.shape
    assert tta.regions.spread.max() == 0
    np.testing.assert_array_equal(tta.labels, plain.labels)
    assert np.abs(tta.regions.probabilities.astype(int) - plain.regions.probabilities).max() <= 1


def test_mirrored_with_spread_gives_mean_logits_and_the_flips_probability_spread() -> None:
    ramp = torch.linspace(-3.0, 3.0, 5).reshape(1, 1, 1, 1, 5).expand(1, 3, 2, 2, 5)

    def network(batch: torch.Tensor) -> torch.Tensor:  # ignores its input: flipping back reverses it
        return ramp.clone()

    out = mirrored_with_spread(network, ((), (4,)))(torch.zeros(1, 4, 2, 2, 5))
    assert out.shape == (1, 6, 2, 2, 5)
    torch.testing.assert_close(out[:, :3], torch.zeros(1, 3, 2, 2, 5))
    expected = (torch.sigmoid(ramp) - torch.sigmoid(ramp.flip(4))).abs() / 2
    torch.testing.assert_close(out[:, 3:], expected, atol=1e-6, rtol=0)


def test_confidence_is_low_near_one_half_and_where_flips_disagree() -> None:
    q = np.zeros((3, 8, 8, 8))
    q[0, 0, 0, 0] = 128  # p = 0.5 -> uncertainty 254
    q[1, 1, 0, 0] = 64  # p = 0.25 -> 128
    q[2, 2, 0, 0] = 63  # -> 126
    q[0, 3, 0, 0] = 255  # certain tumour
    spread = np.zeros_like(q)
    spread[2, 4, 0, 0] = 200
    confidence = ConfidenceMap.from_regions(regions_of(q, spread=spread)).confidence
    assert [int(confidence[i, 0, 0]) for i in range(6)] == [1, 127, 129, 255, 55, 255]
    assert threshold_value(0.5) == 127
    low = ConfidenceMap.from_regions(regions_of(q, spread=spread)).low(0.5)
    assert np.argwhere(low).tolist() == [[0, 0, 0], [1, 0, 0], [4, 0, 0]]


def test_confidence_outside_the_box_is_certain() -> None:
    q = np.full((3, 2, 2, 2), 128)
    conf = ConfidenceMap.from_regions(regions_of(q, box=((1, 3), (2, 4), (0, 2)), shape=(4, 5, 3)))
    full = conf.full()
    assert full.shape == (4, 5, 3) and int(full.sum()) == (60 - 8) * 255 + 8 * 1
    assert conf.low().sum() == 8 and conf.low()[1:3, 2:4, 0:2].all()


@pytest.mark.parametrize(
    "box, array, problem",
    [
        (((0, 2), (0, 2), (0, 2)), np.zeros((3, 2, 2, 2), np.float32), "uint8"),
        (((0, 2), (0, 2), (0, 3)), np.zeros((3, 2, 2, 2), np.uint8), "shape"),
        (((0, 9), (0, 2), (0, 2)), np.zeros((3, 9, 2, 2), np.uint8), "does not fit"),
    ],
)
def test_region_probabilities_refuse_inconsistent_arrays(box, array, problem) -> None:
    with pytest.raises(ValueError, match=problem):
        RegionProbabilities(box, (8, 8, 8), array)


def queue_volume() -> tuple[np.ndarray, ConfidenceMap]:
    """Low-confidence blobs: a 5^3 cube, a 3^3 cube, a 2-voxel speck and a 1 x 1 x 50 bar."""
    q = np.full((3, 64, 64, 64), 255, np.uint8)
    q[0, 2:7, 2:7, 2:7] = 128
    q[0, 20:23, 20:23, 20:23] = 120
    q[0, 40, 40, 40:42] = 128
    q[0, 60, 5:55, 60] = 128
    return q, ConfidenceMap.from_regions(regions_of(q, ((0, 64),) * 3, (64, 64, 64)))


def test_queue_ranks_clusters_by_size_and_cuts_long_ones_into_cells() -> None:
    _, confidence = queue_volume()
    queue = ReviewQueue.build(confidence, (1.0, 1.0, 1.0), QueueSettings(cell_mm=20.0, min_cluster_mm3=20.0))
    # the bar (y 5..54) is cut at y = 20 and 40: 15, 20 and 15 voxels; the 2-voxel speck is left out
    assert [c.voxels for c in queue.clusters] == [125, 27, 20, 15, 15]
    assert queue.clusters[0].target == (4, 4, 4) and queue.clusters[0].box == ((2, 7), (2, 7), (2, 7))
    assert queue.clusters[1].target == (21, 21, 21)
    low = confidence.low()
    assert all(low[c.target] for c in queue.clusters)  # the crosshair always lands on the cluster
    assert queue.clusters[2].box == ((60, 61), (20, 40), (60, 61))
    assert queue.clusters[3].box == ((60, 61), (5, 20), (60, 61)) and queue.volume_mm3 == 202.0


def test_queue_navigation_wraps_and_skips_reviewed_clusters() -> None:
    queue = ReviewQueue.build(queue_volume()[1], (1.0, 1.0, 1.0))
    assert [queue.next().voxels for _ in range(6)] == [125, 27, 20, 15, 15, 125]
    assert queue.previous().voxels == 15 and queue.current == 4
    queue.set_reviewed(0)
    queue.set_reviewed(1)
    queue.current = -1
    assert queue.next_unreviewed().voxels == 20
    for index in (2, 3, 4):
        queue.set_reviewed(index)
    assert queue.next_unreviewed() is None


def test_coverage_counts_marked_clusters_and_edited_voxels() -> None:
    queue = ReviewQueue.build(queue_volume()[1], (1.0, 1.0, 1.0))
    assert queue.coverage() == 0.0
    queue.set_reviewed(0)
    assert queue.coverage() == 125 / 202
    edited = np.zeros((64, 64, 64), bool)
    edited[20:23, 20:23, 20] = True  # 9 voxels of the 3^3 cube changed by an edit
    edited[30, 30, 30] = True  # an edit elsewhere changes nothing
    assert queue.coverage(edited) == 134 / 202
    assert queue.cluster_coverage(edited) == [1.0, 9 / 27, 0.0, 0.0, 0.0]


def test_queue_round_trips_through_json_and_refuses_malformed_data() -> None:
    confidence = queue_volume()[1]
    queue = ReviewQueue.build(confidence, (1.0, 1.0, 1.0))
    queue.set_reviewed(1)
    queue.next()
    saved = json.loads(json.dumps(queue.to_dict()))
    settings = ReviewQueue.settings_from_dict(saved)
    again = ReviewQueue.build(confidence, (1.0, 1.0, 1.0), settings)
    assert again.restore(saved) == 5
    assert [c.reviewed for c in again.clusters] == [False, True, False, False, False] and again.current == 0
    with pytest.raises(ValueError, match="malformed"):
        again.restore({"clusters": [{"box": "x"}]})
    with pytest.raises(ValueError, match="impossible"):
        ReviewQueue.settings_from_dict({"settings": {"uncertainty": 3, "cell_mm": 20, "min_cluster_mm3": 0}})


def test_an_empty_confidence_map_gives_an_empty_queue_with_full_coverage() -> None:
    q = np.full((3, 8, 8, 8), 255, np.uint8)
    queue = ReviewQueue.build(ConfidenceMap.from_regions(regions_of(q)), (1.0, 1.0, 1.0))
    assert len(queue) == 0 and queue.next() is None and queue.coverage() == 1.0
