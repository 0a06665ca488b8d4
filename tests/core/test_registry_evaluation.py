"""Evaluating model versions on the registry's fixed validation set."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from segmentation_core.inference import Predictor, run_prediction
from segmentation_core.io import load_case
from segmentation_core.metrics import region_metrics
from segmentation_core.models.bundle import ModelBundle
from segmentation_core.registry import (
    DATA_DIR_ENV,
    ModelRegistry,
    RegistryError,
    evaluate_bundle,
    evaluate_missing,
    validation_fingerprint,
)
from tests.core.io_fixtures import write_brats_case
from tests.core.model_fixtures import make_tiny_bundle


@pytest.fixture
def cases(tmp_path: Path) -> list[Path]:
    return [
        write_brats_case(tmp_path / "val" / name, (20, 20, 16), case_id=name, seed=i)
        for i, name in enumerate(("V1", "V2"))
    ]


def test_evaluate_bundle_scores_every_case_per_region(tmp_path: Path, cases: list[Path]) -> None:
    bundle = make_tiny_bundle(tmp_path / "b", seed=3)
    result = evaluate_bundle(bundle, cases, device="cpu")
    assert result["validation_set"] == validation_fingerprint(cases)
    assert list(result["cases"]) == ["V1", "V2"]
    predictor = Predictor(ModelBundle.load(bundle), device="cpu")
    for path in cases:
        case = load_case(path)
        expected = region_metrics(run_prediction(predictor, case).labels, case.labels.array, case.spacing)
        for region in ("WT", "TC", "ET"):
            assert result["cases"][path.name][region] == {
                "dice": expected[region]["dice"],
                "hd95": expected[region]["hd95"],
            }
    for region in ("WT", "TC", "ET"):
        for metric in ("dice", "hd95"):
            values = [result["cases"][c][region][metric] for c in ("V1", "V2")]
            assert result["mean"][region][metric] == pytest.approx(np.mean(values), abs=1e-12)


def test_validation_case_without_labels_is_an_error(tmp_path: Path) -> None:
    case = write_brats_case(tmp_path / "nolab" / "N1", (16, 16, 16), case_id="N1", with_seg=False)
    with pytest.raises(RegistryError, match="N1: validation case has no reference labels"):
        evaluate_bundle(make_tiny_bundle(tmp_path / "b"), [case], device="cpu")


def test_evaluate_missing_only_runs_what_is_stale(tmp_path: Path, cases: list[Path], monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path / "data"))
    registry = ModelRegistry(default_bundle=make_tiny_bundle(tmp_path / "default", seed=1))
    assert evaluate_missing(registry, device="cpu") == []  # no validation set yet
    registry.register(make_tiny_bundle(tmp_path / "r2", seed=2), base_version=1, validation_cases=cases[:1])
    assert evaluate_missing(registry, device="cpu") == [1, 2]
    assert evaluate_missing(registry, device="cpu") == []
    registry.register(make_tiny_bundle(tmp_path / "r3", seed=3), base_version=2)
    assert evaluate_missing(registry, device="cpu") == [3]
    registry.set_validation_cases(cases)
    assert evaluate_missing(registry, device="cpu") == [1, 2, 3]
    assert list(registry.version(3).evaluation["cases"]) == ["V1", "V2"]
    assert validation_fingerprint(cases) == validation_fingerprint(list(reversed(cases)))
    assert validation_fingerprint(cases) != validation_fingerprint(cases[:1])
