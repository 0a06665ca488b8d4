"""Cascade prediction: the fine stage runs only around the coarse tumour and maps back to the case grid."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from segmentation_core.inference import Predictor, run_prediction
from segmentation_core.inference.cascade import CascadePredictor, network_window, tumour_box
from segmentation_core.inference.postprocess import OFF
from segmentation_core.labels import REGION_NAMES
from segmentation_core.models import ModelBundle
from segmentation_core.preprocessing import preprocess
from segmentation_core.types import SEQUENCES, Case, Volume
from tests.core.model_fixtures import make_tiny_bundle

AFFINE = np.diag([1.0, 1.5, 2.0, 1.0])  # anisotropic: 3 mm^3 voxels


def blob_case() -> Case:
    """A 'brain' box with a bright T1 blob (the tumour) at voxels [12:16, 8:11, 6:9]."""
    rng = np.random.default_rng(1)
    channels = {}
    for name in SEQUENCES:
        array = np.zeros((30, 24, 18), np.float32)
        array[2:28, 2:22, 2:16] = rng.normal(100, 5, size=(26, 20, 14))
        if name == "t1":
            array[12:16, 8:11, 6:9] = 400
        channels[name] = Volume(array, AFFINE)
    return Case(channels, case_id="Synthetic_cascade")


class Voxelwise(torch.nn.Module):
    """Region logits from each voxel alone: t1 z-score above ``level`` -> WT=TC=ET (window-independent)."""

    def __init__(self, level: float) -> None:
        super().__init__()
        self.level = level

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x[:, :1] - self.level).repeat(1, 3, 1, 1, 1) * 10


def predictor(bundle: ModelBundle, network: torch.nn.Module) -> Predictor:
    p = Predictor(bundle, device="cpu", postprocess=OFF, threads=1)
    p._networks[torch.device("cpu")] = network
    return p


@pytest.fixture(scope="module")
def bundles(tmp_path_factory) -> tuple[ModelBundle, ModelBundle]:
    root = tmp_path_factory.mktemp("bundles")
    coarse = ModelBundle.load(
        make_tiny_bundle(root / "coarse", spacing=(2.0, 2.0, 2.0), patch_size=(8, 8, 8))
    )
    fine = ModelBundle.load(make_tiny_bundle(root / "fine", patch_size=(8, 8, 8)))
    return coarse, fine


def test_tumour_box_grows_by_the_margin_in_mm_and_stays_in_the_grid() -> None:
    mask = np.zeros((30, 24, 18), bool)
    mask[12:16, 8:11, 6:9] = True
    assert tumour_box(mask, (1.0, 1.5, 2.0), 3.0) == (slice(9, 19), slice(6, 13), slice(4, 11))
    assert tumour_box(mask, (1.0, 1.5, 2.0), 100.0) == (slice(0, 30), slice(0, 24), slice(0, 18))
    assert tumour_box(np.zeros((4, 4, 4), bool), (1.0, 1.0, 1.0), 5.0) is None


def test_network_window_maps_the_box_and_is_at_least_one_patch() -> None:
    prepared = preprocess(blob_case(), SEQUENCES, (2.0, 3.0, 2.0))  # crop 30x24x18 -> network 15x12x18
    assert prepared.box == (slice(0, 30), slice(0, 24), slice(0, 18))
    assert prepared.image.shape[1:] == (15, 12, 18)
    window = network_window(prepared, (slice(9, 19), slice(6, 13), slice(4, 11)), (4, 4, 4))
    assert window == (slice(4, 10), slice(3, 7), slice(4, 11))  # floor/ceil of 9/2..19/2, 6/2..13/2
    assert network_window(prepared, (slice(9, 10), slice(0, 1), slice(17, 18)), (4, 4, 4)) == (
        slice(2, 6),  # 4..5 widened to 4 voxels, the odd one below
        slice(0, 4),
        slice(14, 18),
    )


def test_fine_stage_on_the_case_grid_equals_the_fine_model_inside_the_box(bundles) -> None:
    coarse_bundle, fine_bundle = bundles
    case = blob_case()
    coarse = predictor(coarse_bundle, Voxelwise(2.0))
    fine = predictor(fine_bundle, Voxelwise(1.0))
    cascade = CascadePredictor(coarse, fine, margin_mm=4.0)
    result = run_prediction(cascade, case)
    alone = run_prediction(fine, case).labels
    coarse_labels = run_prediction(coarse, case).labels
    box = tumour_box(coarse_labels != 0, case.spacing, 4.0)
    assert result.labels.shape == case.shape and result.labels.dtype == np.uint8
    inside = np.zeros(case.shape, bool)
    inside[box] = True
    np.testing.assert_array_equal(result.labels[inside], alone[inside])
    assert not result.labels[~inside].any()
    assert np.count_nonzero(result.labels == 3) == 4 * 3 * 3  # exactly the blob, on the 1 mm grid
    assert result.model_version == "1+1"


def test_no_coarse_tumour_returns_the_coarse_result(bundles) -> None:
    coarse_bundle, fine_bundle = bundles
    cascade = CascadePredictor(
        predictor(coarse_bundle, Voxelwise(50.0)), predictor(fine_bundle, Voxelwise(1.0))
    )
    result = run_prediction(cascade, blob_case())
    assert not result.labels.any() and result.model_version == "1"
    with pytest.raises(ValueError, match="margin_mm"):
        CascadePredictor(cascade.coarse, cascade.fine, margin_mm=-1)


def test_fine_stage_with_mirroring_keeps_three_probability_maps_and_its_spread(bundles) -> None:
    coarse_bundle, fine_bundle = bundles
    case = blob_case()
    fine = Predictor(fine_bundle, device="cpu", postprocess=OFF, threads=1, tta=True)
    fine._networks[torch.device("cpu")] = Voxelwise(1.0)
    cascade = CascadePredictor(predictor(coarse_bundle, Voxelwise(2.0)), fine, margin_mm=4.0)
    result = run_prediction(cascade, case, want_probabilities=True)
    assert result.tta and result.probabilities.shape == (3, *case.shape)
    assert np.count_nonzero(result.labels == 3) == 4 * 3 * 3  # a voxelwise network: flips change nothing
    assert result.regions is not None and result.regions.spread is not None
    assert int(result.regions.spread.max()) == 0


class CoarseEcho(torch.nn.Module):
    """A guided fine network whose region logits are its coarse-probability input channels (4:7)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        assert x.shape[1] == 7, "4 sequences + the coarse WT/TC/ET"
        return (x[:, 4:7] - 0.5) * 40


def test_a_guided_fine_stage_gets_the_coarse_probabilities_and_cannot_run_alone(bundles, tmp_path) -> None:
    coarse_bundle, _ = bundles
    guided = ModelBundle.load(
        make_tiny_bundle(tmp_path / "guided", patch_size=(8, 8, 8), coarse_inputs=REGION_NAMES)
    )
    case = blob_case()
    coarse = predictor(coarse_bundle, Voxelwise(2.0))
    expected = run_prediction(coarse, case)
    fine = predictor(guided, CoarseEcho())
    result = run_prediction(CascadePredictor(coarse, fine, margin_mm=4.0), case)
    assert np.count_nonzero(expected.labels) > 0
    np.testing.assert_array_equal(result.labels, expected.labels)  # the echo of the coarse result, exactly
    assert result.probabilities is None
    with pytest.raises(
        ValueError, match="tiny-test-model 1 is the fine stage of a cascade: it needs a coarse "
    ):
        run_prediction(fine, case)
