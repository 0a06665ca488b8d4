"""Evaluate model versions on the registry's fixed validation set with the metrics module."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from segmentation_core.labels import REGION_NAMES as REGIONS
from segmentation_core.registry.errors import RegistryError
from segmentation_core.registry.store import ModelRegistry
from segmentation_core.types import CancelToken, Progress

log = logging.getLogger(__name__)

METRICS = ("dice", "hd95")


def validation_fingerprint(cases: list[Path]) -> str:
    """Identifies a validation set: a hash of its sorted case paths."""
    digest = hashlib.sha256("\n".join(sorted(str(Path(c)) for c in cases)).encode("utf-8"))
    return digest.hexdigest()[:16]


def _mean(per_case: dict[str, dict[str, dict[str, float]]]) -> dict[str, dict[str, float]]:
    return {
        region: {
            metric: float(np.mean([case[region][metric] for case in per_case.values()])) for metric in METRICS
        }
        for region in REGIONS
    }


def evaluate_bundle(
    bundle_dir: Path,
    cases: list[Path],
    *,
    device: str = "cpu",
    progress: Callable[[Progress], None] | None = None,
    cancel: CancelToken | None = None,
) -> dict[str, Any]:
    """Segment every validation case with the bundle and score it per region (Dice, HD95 in mm).

    Returns ``{"validation_set": fingerprint, "cases": {case_id: {region: {...}}}, "mean": {...}}``.
    """
    from segmentation_core.inference import Predictor, run_prediction
    from segmentation_core.io import load_case
    from segmentation_core.metrics import region_metrics
    from segmentation_core.models.bundle import ModelBundle

    predictor = Predictor(ModelBundle.load(bundle_dir), device=device)
    per_case: dict[str, dict[str, dict[str, float]]] = {}
    for index, case_path in enumerate(cases):
        if cancel is not None:
            cancel.raise_if_cancelled()
        if progress is not None:
            progress(Progress(index, len(cases), f"evaluating {Path(case_path).name}"))
        case = load_case(case_path)
        if case.labels is None:
            raise RegistryError(f"{case_path}: validation case has no reference labels (no *_seg file)")
        predicted = run_prediction(predictor, case, cancel=cancel).labels
        scores = region_metrics(np.asarray(predicted), np.asarray(case.labels.array), case.spacing)
        per_case[case.case_id or Path(case_path).name] = {
            region: {metric: float(scores[region][metric]) for metric in METRICS} for region in REGIONS
        }
    if progress is not None:
        progress(Progress(len(cases), len(cases), "evaluated"))
    return {"validation_set": validation_fingerprint(cases), "cases": per_case, "mean": _mean(per_case)}


def evaluate_missing(
    registry: ModelRegistry,
    *,
    device: str = "cpu",
    progress: Callable[[Progress], None] | None = None,
    cancel: CancelToken | None = None,
) -> list[int]:
    """Evaluate every version without a current evaluation on the validation set; returns their numbers."""
    cases = registry.validation_cases()
    if not cases:
        return []
    fingerprint = validation_fingerprint(cases)
    done = []
    for version in registry.versions():
        if version.evaluation and version.evaluation.get("validation_set") == fingerprint:
            continue
        registry.record_evaluation(
            version.number,
            evaluate_bundle(version.path, cases, device=device, progress=progress, cancel=cancel),
        )
        done.append(version.number)
    return done
