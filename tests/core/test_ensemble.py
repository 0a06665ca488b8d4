"""Fold ensemble: member probabilities averaged on the case grid, labelled and cleaned once."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from segmentation_core.inference import Predictor
from segmentation_core.inference.ensemble import EnsemblePredictor
from segmentation_core.inference.postprocess import OFF
from segmentation_core.labels import ET
from segmentation_core.models import ModelBundle
from tests.core.model_fixtures import make_tiny_bundle
from tests.core.test_predictor import make_case, with_network

BRAIN_BOX_VOXELS = 24 * 21 * 15  # make_case's brain box + margin


class Constant(torch.nn.Module):
    def __init__(self, logit: float) -> None:
        super().__init__()
        self.logit = logit

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.full((x.shape[0], 3, *x.shape[2:]), self.logit)


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> ModelBundle:
    return ModelBundle.load(make_tiny_bundle(tmp_path_factory.mktemp("bundle")))


def member(bundle: ModelBundle, logit: float) -> Predictor:
    return with_network(Predictor(bundle, device="cpu", postprocess=OFF, threads=1), Constant(logit))


def drain(predictor, case):
    generator, progress = predictor.predict(case, want_probabilities=True), []
    while True:
        try:
            progress.append(next(generator))
        except StopIteration as stop:
            return stop.value, progress


def test_members_are_averaged_before_thresholding(bundle) -> None:
    case = make_case()
    sure = np.float32(1 / (1 + np.exp(-5.0)))
    agree, progress = drain(EnsemblePredictor([member(bundle, 5.0), member(bundle, 1.0)]), case)
    assert np.count_nonzero(agree.labels == ET) == BRAIN_BOX_VOXELS
    inside = agree.probabilities[0, 10, 10, 10].astype(np.float32)
    assert inside == pytest.approx((sure + 1 / (1 + np.exp(-1.0))) / 2, abs=1e-3)
    assert agree.model_version == "1+1"
    assert agree.regions is not None and agree.regions.box == ((1, 25), (0, 21), (2, 17))
    assert [(p.done, p.total) for p in progress] == [(1, 4), (2, 4), (3, 4), (4, 4)]  # 2 windows each
    assert progress[0].message.startswith("model 1 of 2")
    # a confident member outvoted: mean of sigmoid(5) and sigmoid(-9) is 0.497 < 0.5
    outvoted, _ = drain(EnsemblePredictor([member(bundle, 5.0), member(bundle, -9.0)]), case)
    assert not outvoted.labels.any()
    with pytest.raises(ValueError, match="at least one model"):
        EnsemblePredictor([])
