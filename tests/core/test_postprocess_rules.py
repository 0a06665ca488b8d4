"""The BraTS clean-up: per-region tiny components, the ET->NCR rule, its settings in the model bundle."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from segmentation_core.inference import Postprocessing, Predictor, run_prediction
from segmentation_core.inference.postprocess import (
    OFF,
    bundle_postprocessing,
    clean_up,
    postprocess,
    remove_coreless_components,
    remove_small_core_components,
)
from segmentation_core.labels import BACKGROUND, ED, ET, NCR
from segmentation_core.models import ModelBundle
from segmentation_core.types import CleanUp
from tests.core.model_fixtures import make_tiny_bundle
from tests.core.test_predictor import make_case, with_network


def test_tiny_core_and_enhancing_specks_are_relabelled_within_the_hierarchy() -> None:
    labels = np.zeros((20, 20, 20), np.uint8)
    labels[1:11, 1:11, 1:11] = ED  # 1000 voxels of edema
    labels[2:6, 2:6, 2:6] = NCR  # a 64-voxel core ...
    labels[3:5, 3:5, 3:5] = ET  # ... with 8 voxels of ET inside
    labels[8, 8, 8] = NCR  # a 1-voxel core speck in the edema
    labels[15:17, 15, 15] = ET  # a 2-voxel enhancing island (TC and ET at once)
    out = remove_small_core_components(labels.copy(), 3)
    assert out[8, 8, 8] == ED  # core speck -> edema (still tumour)
    assert out[15, 15, 15] == ED and out[16, 15, 15] == ED  # whole island was a small TC component
    assert np.count_nonzero(out == ET) == 8 and np.count_nonzero(out == NCR) == 56
    # ET components are judged on their own: 8 ET voxels < 9 -> NCR, the core stays
    out = remove_small_core_components(labels.copy(), 9)
    assert np.count_nonzero(out == ET) == 0 and np.count_nonzero(out == NCR) == 64
    np.testing.assert_array_equal(remove_small_core_components(labels.copy(), 0), labels)


def test_postprocess_applies_all_three_steps_in_mm3() -> None:
    labels = np.zeros((20, 20, 20), np.uint8)
    labels[1:11, 1:11, 1:11] = ED
    labels[2:6, 2:6, 2:6] = NCR
    labels[3:5, 3:5, 3:5] = ET  # 8 voxels = 64 mm^3 at 2 mm
    labels[8, 8, 8] = NCR  # 8 mm^3 core speck
    labels[18, 18, 18] = ED  # 8 mm^3 tumour island
    settings = Postprocessing(min_component_mm3=16, min_et_mm3=65, min_core_component_mm3=16)
    out = postprocess(labels.copy(), (2.0, 2.0, 2.0), settings)
    assert out[18, 18, 18] == 0 and out[8, 8, 8] == ED
    assert np.count_nonzero(out == ET) == 0 and np.count_nonzero(out == NCR) == 64
    kept = postprocess(labels.copy(), (2.0, 2.0, 2.0), Postprocessing(16, 64, 16))
    assert np.count_nonzero(kept == ET) == 8  # exactly at the threshold: kept


def three_lesions() -> np.ndarray:
    """Main tumour (core 64 voxels), a satellite (core 8 voxels), an island of edema without core."""
    labels = np.zeros((30, 30, 30), np.uint8)
    labels[1:11, 1:11, 1:11] = ED
    labels[3:7, 3:7, 3:7] = NCR  # 64 core voxels
    labels[4:6, 4:6, 4:6] = ET
    labels[15:21, 15:21, 15:21] = ED
    labels[17:19, 17:19, 17:19] = ET  # 8 core voxels (ET is core)
    labels[24:28, 2:6, 2:6] = ED  # 64 voxels of edema alone
    return labels


def test_components_without_enough_core_are_removed_and_the_main_tumour_stays() -> None:
    labels = three_lesions()
    out = remove_coreless_components(labels.copy(), 0.1)  # satellite core 8 >= 0.1 * 64: kept
    assert np.all(out[24:28, 2:6, 2:6] == BACKGROUND)
    np.testing.assert_array_equal(out[:22, :22, :22], labels[:22, :22, :22])
    out = remove_coreless_components(labels.copy(), 0.2)  # 8 < 0.2 * 64 = 12.8: satellite removed too
    assert np.count_nonzero(out) == 1000 and np.count_nonzero(out[12:, 12:, 12:]) == 0
    out = remove_coreless_components(labels.copy(), 5.0)  # above 1: only the largest core stays
    assert np.count_nonzero(out) == 1000
    np.testing.assert_array_equal(remove_coreless_components(labels.copy(), 0), labels)
    # the satellite is 5 * sqrt(3) = 8.7 voxels from the main tumour, the edema island 14 (x 24 against 10)
    near = remove_coreless_components(labels.copy(), 1.0, 9.0, (1.0, 1.0, 1.0))
    assert np.count_nonzero(near) == 1000 + 216 and np.count_nonzero(near[24:28]) == 0
    near = remove_coreless_components(labels.copy(), 1.0, 6.0, (1.0, 2.0, 2.0))  # mm, not voxels: 15, 14
    assert np.count_nonzero(near) == 1000
    near = remove_coreless_components(labels.copy(), 1.0, 7.2, (0.5, 1.0, 1.0))  # 7.5 and 7.0 mm
    assert np.count_nonzero(near) == 1000 + 64 and np.all(near[24:28, 2:6, 2:6] == ED)
    # no core anywhere: nothing tells the tumour from the rest, all stays
    no_core = np.zeros((30, 30, 30), np.uint8)
    no_core[1:5, 1:5, 1:5] = ED
    no_core[20:22, 20:22, 20:22] = ED
    np.testing.assert_array_equal(remove_coreless_components(no_core.copy(), 1.0), no_core)


def test_postprocess_runs_the_coreless_rule_before_the_et_rule() -> None:
    labels = three_lesions()
    settings = Postprocessing(min_component_mm3=0, min_et_mm3=9, min_component_core_fraction=0.2)
    out = postprocess(labels.copy(), (1.0, 1.0, 1.0), settings)
    # satellite gone (its 8 ET voxels no longer count), the main tumour's 8 ET voxels stay: 8 < 9 -> NCR
    assert np.count_nonzero(out == ET) == 0 and np.count_nonzero(out == NCR) == 64
    assert np.count_nonzero(out) == 1000


def test_clean_up_reports_the_islands_it_removed_and_leaves_its_input_alone() -> None:
    labels = three_lesions()
    settings = Postprocessing(min_component_mm3=0, min_et_mm3=0, min_component_core_fraction=0.2)
    cleaned, summary = clean_up(labels, (1.0, 1.0, 2.0), settings)
    # the satellite (216 voxels) and the edema island (64 voxels) go: 280 voxels of 2 mm^3
    assert summary == CleanUp(islands_removed=2, removed_cm3=0.56)
    assert summary.describe() == "clean-up removed 2 islands (0.6 cm³)"
    assert summary.to_json() == {"islands_removed": 2, "removed_cm3": 0.56}
    assert np.count_nonzero(cleaned) == 1000 and np.count_nonzero(labels) == 1000 + 216 + 64
    _, nothing = clean_up(labels, (1.0, 1.0, 1.0), OFF)
    assert nothing == CleanUp() and nothing.describe() == ""


def test_settings_round_trip_and_bad_settings_are_refused() -> None:
    settings = Postprocessing(
        min_component_mm3=50,
        min_et_mm3=300,
        min_core_component_mm3=20,
        min_component_core_fraction=0.2,
        keep_component_within_mm=10,
    )
    assert Postprocessing.from_json(settings.to_json()) == settings
    assert Postprocessing.from_json({"min_et_mm3": 500}) == Postprocessing(100.0, 500.0, 0.0, 0.0, 0.0)
    assert Postprocessing.from_json({}) == Postprocessing()
    with pytest.raises(ValueError, match=r"unknown postprocessing settings \['min_et'\]"):
        Postprocessing.from_json({"min_et": 5})
    with pytest.raises(ValueError, match="min_et_mm3 must be a number >= 0"):
        Postprocessing.from_json({"min_et_mm3": -1})
    with pytest.raises(ValueError, match="min_et_mm3 must be a number >= 0"):
        Postprocessing.from_json({"min_et_mm3": "200"})


class AllEnhancing(torch.nn.Module):
    """Logits +5 on every region channel: every voxel the network sees is ET."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.full((x.shape[0], 3, *x.shape[2:]), 5.0)


def test_predictor_applies_the_bundles_et_rule(tmp_path) -> None:
    folder = make_tiny_bundle(tmp_path / "bundle")
    bundle = ModelBundle.load(folder)
    case = make_case()  # voxels of 1 x 1.5 x 2 mm = 3 mm^3; brain box + margin = 24 x 21 x 15 voxels
    plain = run_prediction(
        with_network(Predictor(bundle, device="cpu", postprocess=OFF), AllEnhancing()), case
    )
    assert np.count_nonzero(plain.labels == ET) == 24 * 21 * 15
    assert Predictor(bundle, device="cpu").postprocessing == Postprocessing()  # no settings: defaults

    bundle.postprocessing = {"min_et_mm3": 3 * 24 * 21 * 15 + 3, "min_component_mm3": 0}
    bundle.save(folder)
    reloaded = ModelBundle.load(folder)
    assert reloaded.postprocessing == {"min_et_mm3": 22683, "min_component_mm3": 0}
    predictor = with_network(Predictor(reloaded, device="cpu"), AllEnhancing())
    assert predictor.postprocessing == Postprocessing(0.0, 22683.0, 0.0, 0.0, 0.0)
    relabelled = run_prediction(predictor, case)
    assert np.count_nonzero(relabelled.labels == ET) == 0
    assert relabelled.cleanup == CleanUp()  # relabelled, nothing removed
    assert np.count_nonzero(relabelled.labels == NCR) == 24 * 21 * 15

    reloaded.postprocessing = {"min_et_mm3": "lots"}
    with pytest.raises(ValueError, match=r"model\.json: postprocessing min_et_mm3 must be a number"):
        bundle_postprocessing(reloaded)
