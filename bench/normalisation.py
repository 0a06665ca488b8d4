"""Do BraTS 2018 and 2021 cases look alike to the network after per-volume normalisation?

Run: ``python -m bench.normalisation [--data ../shared/data/real]``. For every training case (the project's
3 validation cases are left out) it applies the inference engine's own preprocessing at 1 mm (crop to the
brain, z-score over non-zero voxels per channel) and pools, per release and channel, the brain voxels'
values before and after normalisation. It reports percentiles, the mean normalised value inside each
tumour region (ED, NCR, ET) and the overlap of the two releases' histograms (sum of the minimum of
the two normalised histograms: 1 = identical distributions, 0 = disjoint), raw and normalised.
Writes bench/results/normalisation.json.
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from pathlib import Path

import numpy as np

from bench._common import save_results
from segmentation_core.io import find_cases, load_case
from segmentation_core.labels import ED, ET, NCR
from segmentation_core.preprocessing import preprocess
from segmentation_core.training.crossval import PROJECT_VALIDATION_CASES
from segmentation_core.training.folds import release_of

CHANNELS = ("t1", "t1ce", "t2", "flair")
PERCENTILES = (1, 5, 25, 50, 75, 95, 99)
SAMPLE = 200_000  # brain voxels drawn per case and channel (every case weighs the same)


def histogram_overlap(a: np.ndarray, b: np.ndarray, bins: int = 200) -> float:
    """Overlap of two samples' histograms on common bins (1 identical, 0 disjoint)."""
    edges = np.linspace(min(a.min(), b.min()), max(a.max(), b.max()), bins + 1)
    ha = np.histogram(a, edges)[0] / len(a)
    hb = np.histogram(b, edges)[0] / len(b)
    return float(np.minimum(ha, hb).sum())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--data", type=Path, default=Path(__file__).resolve().parents[1] / "../shared/data/real"
    )
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    raw, normalised = defaultdict(list), defaultdict(list)
    regions: dict = defaultdict(lambda: defaultdict(list))
    cases_per_release: dict[str, list[str]] = defaultdict(list)
    for case_dir in find_cases(args.data.resolve()):
        if case_dir.name in PROJECT_VALIDATION_CASES:
            continue
        case = load_case(case_dir)
        release = release_of(case.case_id)
        cases_per_release[release].append(case.case_id)
        prepared = preprocess(case, CHANNELS, None)
        labels = np.asarray(case.labels.array)[prepared.box]
        brain = prepared.image[0] != 0
        for c in range(1, len(CHANNELS)):
            brain |= prepared.image[c] != 0
        picks = rng.choice(np.flatnonzero(brain), size=min(SAMPLE, int(brain.sum())), replace=False)
        for c, name in enumerate(CHANNELS):
            raw_channel = np.asarray(case.channels[name].array)[prepared.box].astype(np.float32)
            raw[release, name].append(raw_channel.ravel()[picks])
            normalised[release, name].append(prepared.image[c].ravel()[picks])
            for label, region in ((ED, "ED"), (NCR, "NCR"), (ET, "ET")):
                mask = labels == label
                if mask.any():
                    regions[release][name, region].append(float(prepared.image[c][mask].mean()))
    releases = sorted(cases_per_release)
    per_release = {}
    for release in releases:
        per_release[release] = {
            "cases": cases_per_release[release],
            "raw_percentiles": {
                n: np.percentile(np.concatenate(raw[release, n]), PERCENTILES).round(1).tolist()
                for n in CHANNELS
            },
            "normalised_percentiles": {
                n: np.percentile(np.concatenate(normalised[release, n]), PERCENTILES).round(2).tolist()
                for n in CHANNELS
            },
            "region_mean_z": {
                f"{n}/{r}": round(float(np.mean(v)), 2) for (n, r), v in sorted(regions[release].items())
            },
        }
    overlap = {}
    if len(releases) == 2:
        a, b = releases
        for n in CHANNELS:
            overlap[n] = {
                "raw": round(histogram_overlap(np.concatenate(raw[a, n]), np.concatenate(raw[b, n])), 3),
                "normalised": round(
                    histogram_overlap(np.concatenate(normalised[a, n]), np.concatenate(normalised[b, n])), 3
                ),
            }
    save_results(
        "normalisation",
        {"percentiles": PERCENTILES, "releases": per_release, "histogram_overlap": overlap},
    )


if __name__ == "__main__":
    main()
