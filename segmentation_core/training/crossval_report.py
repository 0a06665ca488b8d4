"""Scoring a cross-validation: clean-up thresholds chosen over the held-out predictions, metrics, a table."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from segmentation_core.atomic import write_json, write_text
from segmentation_core.inference.postprocess import (
    Postprocessing,
    postprocess,
    regions_to_labels,
    remove_coreless_components,
    remove_small_components,
    remove_small_core_components,
)
from segmentation_core.io import load_case
from segmentation_core.labels import ET, region_mask
from segmentation_core.labels import REGION_NAMES as REGIONS
from segmentation_core.metrics.overlap import dice
from segmentation_core.training.crossval import CrossValidation

#: Candidate ET thresholds (mm^3) for "relabel all ET as NCR when there is less than this".
ET_THRESHOLDS_MM3 = (0.0, 50.0, 100.0, 200.0, 300.0, 500.0, 750.0, 1000.0)
#: Candidate fractions of the largest component core below which a tumour component is removed
#: (0: off; 1: only the component with the largest core stays).
COMPONENT_CORE_FRACTIONS = (0.0, 0.001, 0.01, 0.03, 0.1, 0.2, 0.3, 0.5, 1.0)
#: Candidate distances (mm) from the main tumour within which such a component is kept all the same.
KEEP_WITHIN_MM = (0.0, 5.0, 10.0, 15.0, 20.0)


#: Mean Dice differences below this are noise over ~17 cases: the least intervention within it wins.
CHOICE_TOLERANCE = 0.005


def _best(means: dict[float, float], *, least_intervention: str = "smallest") -> float:
    """The candidate of least intervention (the ``smallest`` or ``largest`` value) whose mean is within
    CHOICE_TOLERANCE of the best mean."""
    best = max(means.values())
    close = [t for t, m in means.items() if m >= best - CHOICE_TOLERANCE]
    return min(close) if least_intervention == "smallest" else max(close)


def _mean_dice_per_setting(
    labels: list[np.ndarray],
    references: list[np.ndarray],
    clean: Callable[[np.ndarray, float], np.ndarray],
    candidates: tuple[float, ...],
) -> dict[float, float]:
    """{candidate: mean over cases of the mean WT/TC/ET Dice of ``clean(copy of labels, candidate)``}."""
    if not labels:
        raise ValueError("no cross-validation predictions to choose a threshold from")
    scores: dict[float, list[float]] = {t: [] for t in candidates}
    for pred, ref in zip(labels, references):
        wanted = [region_mask(ref, r) for r in REGIONS]
        for t in candidates:
            kept = clean(pred.copy(), t)
            scores[t].append(float(np.mean([dice(region_mask(kept, r), w) for r, w in zip(REGIONS, wanted)])))
    return {t: float(np.mean(v)) for t, v in scores.items()}


def choose_coreless_rule(
    labels: list[np.ndarray],
    references: list[np.ndarray],
    spacing: tuple[float, float, float] = (1.0, 1.0, 1.0),
    fractions: tuple[float, ...] = COMPONENT_CORE_FRACTIONS,
    distances: tuple[float, ...] = KEEP_WITHIN_MM,
) -> tuple[float, float, dict[float, float], dict[float, float]]:
    """(fraction, keep distance, {fraction: mean Dice}, {distance: mean Dice}) for the core-less rule.

    The fraction is chosen first (no distance), then the distance with that fraction; each the least
    intervention within CHOICE_TOLERANCE of the best mean WT/TC/ET Dice. ``labels`` are predictions
    after the small-component clean-up, ``references`` internal label maps.
    """
    by_fraction = _mean_dice_per_setting(
        labels, references, lambda x, f: remove_coreless_components(x, f), fractions
    )
    fraction = _best(by_fraction)
    by_distance = _mean_dice_per_setting(
        labels, references, lambda x, d: remove_coreless_components(x, fraction, d, spacing), distances
    )
    return fraction, _best(by_distance, least_intervention="largest"), by_fraction, by_distance


def choose_min_et(
    labels: list[np.ndarray],
    references: list[np.ndarray],
    spacing: tuple[float, float, float],
    candidates: tuple[float, ...] = ET_THRESHOLDS_MM3,
) -> tuple[float, dict[float, float]]:
    """(threshold with the best mean ET Dice, {threshold: mean ET Dice}) over cleaned label maps.

    ``labels`` are predictions after the component clean-up, ``references`` internal label maps.
    Ties go to the smallest threshold (the least intervention).
    """
    if not labels:
        raise ValueError("no cross-validation predictions to choose a threshold from")
    voxel_mm3 = float(np.prod(spacing))
    scores: dict[float, list[float]] = {t: [] for t in candidates}
    for pred, ref in zip(labels, references):
        pred_et, ref_et = pred == ET, ref == ET
        kept, dropped = dice(pred_et, ref_et), dice(np.zeros_like(ref_et), ref_et)
        volume = int(pred_et.sum()) * voxel_mm3
        for t in candidates:
            scores[t].append(dropped if 0 < volume < t else kept)
    means = {t: float(np.mean(v)) for t, v in scores.items()}
    return _best(means), means


def score(cv: CrossValidation) -> dict[str, Any]:
    """Per-case metrics of every predicted held-out case with the clean-up thresholds chosen over them all.

    The core-less component threshold is chosen first, then the ET threshold on its result.
    """
    from segmentation_core.metrics import region_metrics

    base = Postprocessing(min_et_mm3=0.0)
    cases, cleaned, references, spacing = [], [], [], (1.0, 1.0, 1.0)
    for case_id in cv.predicted_cases():
        case = load_case(cv.data / case_id)
        spacing = case.spacing
        labels = regions_to_labels(cv.probabilities(case_id))
        voxel_mm3 = float(np.prod(spacing))
        remove_small_components(labels, base.min_component_mm3 / voxel_mm3)
        remove_small_core_components(labels, base.min_core_component_mm3 / voxel_mm3)
        cases.append(case_id)
        cleaned.append(labels)
        if case.labels is None:
            raise ValueError(f"{cv.data / case_id}: no reference labels (_seg) to score against")
        references.append(np.asarray(case.labels.array))
    if not cases:
        return {"cases": {}, "postprocessing": None, "et_threshold_scores": {}, "core_threshold_scores": {},
                "keep_within_scores": {}}  # fmt: skip
    fraction, reach, core_scores, reach_scores = choose_coreless_rule(cleaned, references, spacing)
    cleaned = [remove_coreless_components(labels, fraction, reach, spacing) for labels in cleaned]
    threshold, threshold_scores = choose_min_et(cleaned, references, spacing)
    settings = replace(
        base, min_et_mm3=threshold, min_component_core_fraction=fraction, keep_component_within_mm=reach
    )
    per_case = {}
    for case_id, labels, ref in zip(cases, cleaned, references):
        final = postprocess(labels, spacing, settings)
        metrics = region_metrics(final, ref, spacing)
        per_case[case_id] = {
            r: {k: float(metrics[r][k]) for k in ("dice", "hd95", "volume_ref_cm3")} for r in REGIONS
        }
    return {
        "cases": per_case,
        "postprocessing": settings.to_json(),
        "et_threshold_scores": {str(t): s for t, s in threshold_scores.items()},
        "core_threshold_scores": {str(t): s for t, s in core_scores.items()},
        "keep_within_scores": {str(t): s for t, s in reach_scores.items()},
    }


def summary(cv: CrossValidation, scored: dict[str, Any]) -> dict[str, Any]:
    cases = scored["cases"]
    mean = (
        {r: {k: float(np.mean([c[r][k] for c in cases.values()])) for k in ("dice", "hd95")} for r in REGIONS}
        if cases
        else {}
    )
    worst = {r: min(cases, key=lambda c: cases[c][r]["dice"]) for r in REGIONS} if cases else {}
    et_zero = sorted(c for c, m in cases.items() if m["ET"]["volume_ref_cm3"] > 0 and m["ET"]["dice"] == 0)
    return {
        "recipe": cv.recipe,
        "settings": cv.description()["settings"],
        "schedule": f"{cv.epochs} x {cv.iterations_per_epoch} iterations per fold",
        "folds_trained": cv.folds_done(),
        "folds": cv.folds,
        "cases_scored": len(cases),
        "cases_total": len(cv.case_ids),
        "train_hours": round(cv.train_seconds() / 3600, 2),
        "mean": mean,
        "worst": {r: {"case": c, "dice": cases[c][r]["dice"]} for r, c in worst.items()},
        "et_dice_zero_with_reference_et": et_zero,
        "postprocessing": scored["postprocessing"],
        "et_threshold_scores": scored["et_threshold_scores"],
        "core_threshold_scores": scored.get("core_threshold_scores", {}),
        "keep_within_scores": scored.get("keep_within_scores", {}),
    }


def markdown(cv: CrossValidation, scored: dict[str, Any]) -> str:
    s = summary(cv, scored)
    lines = [
        f"### Recipe `{s['recipe']}` ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())})",
        "",
        f"- Settings changed from the defaults: `{json.dumps(s['settings'])}`; schedule {s['schedule']}; "
        f"folds trained {s['folds_trained']}/{s['folds']}; held-out cases scored "
        f"{s['cases_scored']}/{s['cases_total']}; training wall time {s['train_hours']} h (all folds).",
    ]
    if not s["cases_scored"]:
        return "\n".join([*lines, "- No fold has finished yet: no numbers.", ""])
    pp = s["postprocessing"]
    lines += [
        f"- Core-less rule chosen over these CV predictions: tumour components whose core is below "
        f"{pp['min_component_core_fraction']:g} of the largest component core are removed unless within "
        f"{pp['keep_component_within_mm']:g} mm of it (mean CV Dice of WT/TC/ET per fraction: "
        + ", ".join(f"{float(t):g}: {v:.3f}" for t, v in s["core_threshold_scores"].items())
        + "; per distance: "
        + ", ".join(f"{float(t):g}: {v:.4f}" for t, v in s["keep_within_scores"].items())
        + ").",
        f"- ET rule chosen over these CV predictions: ET below {pp['min_et_mm3']:g} mm³ becomes NCR "
        f"(mean CV ET Dice per threshold: "
        + ", ".join(f"{float(t):g}: {v:.3f}" for t, v in s["et_threshold_scores"].items())
        + ").",
        f"- Cases with ET Dice 0 although the reference has ET: {s['et_dice_zero_with_reference_et'] or 'none'}.",
        "",
        "| | Dice WT | Dice TC | Dice ET | HD95 WT | HD95 TC | HD95 ET |",
        "|---|---|---|---|---|---|---|",
        "| **CV mean** | "
        + " | ".join(f"{s['mean'][r]['dice']:.3f}" for r in REGIONS)
        + " | "
        + " | ".join(f"{s['mean'][r]['hd95']:.1f}" for r in REGIONS)
        + " |",
        "| worst case | "
        + " | ".join(f"{s['worst'][r]['dice']:.3f} ({s['worst'][r]['case']})" for r in REGIONS)
        + " | | | |",
    ]
    for case_id, m in sorted(scored["cases"].items()):
        lines.append(
            f"| {case_id} (fold {cv.assignment[case_id]}) | "
            + " | ".join(f"{m[r]['dice']:.3f}" for r in REGIONS)
            + " | "
            + " | ".join(f"{m[r]['hd95']:.1f}" for r in REGIONS)
            + " |"
        )
    return "\n".join([*lines, ""])


def write_report(cv: CrossValidation, report: Path | None = None) -> str:
    """Score; save OUT/metrics.json, OUT/postprocessing.json (for ``train --postprocessing``) and
    OUT/report.md; append to ``report`` if given; the Markdown."""
    scored = score(cv)
    write_json(cv.out / "metrics.json", {**scored, "summary": summary(cv, scored)})
    if scored["postprocessing"] is not None:
        write_json(cv.out / "postprocessing.json", scored["postprocessing"])
    text = markdown(cv, scored)
    write_text(cv.out / "report.md", text)
    if report is not None:
        with open(report, "a", encoding="utf-8") as handle:
            handle.write("\n" + text)
    return text


def comparison_markdown(outs: list[Path]) -> str:
    """Mean Dice/HD95 of several scored cross-validations over the held-out cases they all scored.

    Each folder must hold a ``metrics.json`` from :func:`write_report`; the comparison is fair only
    over common cases, so cases scored by some recipes only are left out (and counted).
    """
    runs = {}
    for out in outs:
        path = Path(out) / "metrics.json"
        if not path.is_file():
            raise ValueError(f"{path}: no scored cross-validation here (run the crossval command first)")
        runs[Path(out).name] = json.loads(path.read_text())["cases"]
    common = sorted(set.intersection(*(set(cases) for cases in runs.values()))) if runs else []
    lines = [
        f"Comparison over the {len(common)} held-out cases scored by every run "
        f"({', '.join(f'{name}: {len(cases)}' for name, cases in runs.items())} scored):",
        "",
        "| run | Dice WT | Dice TC | Dice ET | mean Dice | HD95 WT | HD95 TC | HD95 ET | worst ET Dice |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    if not common:
        return "\n".join([*lines, "| (no common cases) | | | | | | | | |", ""])
    for name, cases in runs.items():
        dice_means = [float(np.mean([cases[c][r]["dice"] for c in common])) for r in REGIONS]
        hd_means = [float(np.mean([cases[c][r]["hd95"] for c in common])) for r in REGIONS]
        worst = min(common, key=lambda c: cases[c]["ET"]["dice"])
        lines.append(
            f"| {name} | "
            + " | ".join(f"{d:.3f}" for d in dice_means)
            + f" | {np.mean(dice_means):.3f} | "
            + " | ".join(f"{h:.1f}" for h in hd_means)
            + f" | {cases[worst]['ET']['dice']:.3f} ({worst}) |"
        )
    names = list(runs)
    if len(names) > 1:
        lines += ["", f"Paired per case against `{names[0]}` (each case's mean of the WT/TC/ET Dice):", ""]
        lines += [paired_difference_line(name, runs[name], runs[names[0]], common) for name in names[1:]]
    return "\n".join([*lines, ""])


def paired_difference_line(name: str, cases: dict, baseline: dict, common: list[str]) -> str:
    """One run against a baseline over ``common`` cases: mean paired difference, its standard error, wins.

    Paired differences cancel what both runs share (the case's difficulty, and a cascade's coarse stage),
    so they are the fairer test with few cases; a gain under twice its standard error is within the noise.
    """

    def case_mean(run: dict, case: str) -> float:
        return float(np.mean([run[case][r]["dice"] for r in REGIONS]))

    diffs = np.array([case_mean(cases, c) - case_mean(baseline, c) for c in common])
    error = float(diffs.std(ddof=1) / np.sqrt(len(diffs))) if len(diffs) > 1 else float("nan")
    regions = ", ".join(
        f"{r} {np.mean([cases[c][r]['dice'] - baseline[c][r]['dice'] for c in common]):+.3f}" for r in REGIONS
    )
    return (
        f"- `{name}`: mean difference {diffs.mean():+.3f} (standard error {error:.3f}, n = {len(diffs)}); "
        f"better on {int((diffs > 0).sum())}, worse on {int((diffs < 0).sum())}, equal on "
        f"{int((diffs == 0).sum())} cases; per region {regions}."
    )
