"""Validation on whole cases through the real inference engine and the metrics module."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from segmentation_core.io import load_case
from segmentation_core.labels import REGION_NAMES as REGIONS
from segmentation_core.models.bundle import ModelBundle


def validate_cases(bundle: ModelBundle, case_dirs: list[Path], device: str = "auto") -> dict[str, Any]:
    """Per-case and mean Dice/HD95 for WT/TC/ET: {"cases": {id: {region: {...}}}, "mean": {region: {...}}}."""
    from segmentation_core.inference import Predictor, run_prediction
    from segmentation_core.metrics import region_metrics

    predictor = Predictor(bundle, device=device)
    cases: dict[str, Any] = {}
    for case_dir in case_dirs:
        case = load_case(case_dir)
        if case.labels is None:
            raise ValueError(f"{case_dir}: validation case has no reference labels")
        prediction = run_prediction(predictor, case)
        metrics = region_metrics(prediction.labels, np.asarray(case.labels.array), case.spacing)
        cases[case.case_id] = {r: {k: metrics[r][k] for k in ("dice", "hd95")} for r in REGIONS}
    mean = {
        r: {k: float(np.mean([c[r][k] for c in cases.values()])) for k in ("dice", "hd95")} for r in REGIONS
    }
    return {"cases": cases, "mean": mean}
