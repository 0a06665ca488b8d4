"""Raw-study pipeline benchmark on TCGA-FG-6692: every step timed, cold (empty cache) and warm (cached).

    python -m bench.raw_study [--study DIR] [--runs-warm N]

Cold: reading, co-registration of T1/T2/FLAIR, deepbet brain extraction (its networks loaded on first use,
counted), resampling to 1 mm, the bundled model, mapping back to the T1c's native grid and writing the
labels with their sidecar. Warm: the same study again, steps 2-4 from the cache. Also reports the brain
mask's Dice against the HD-BET reference and each registration's correlation with the reference
registrations (inside the reference mask). The machine's load average and the CPU time are recorded:
wall times are only comparable at a similar load. Saves bench/results/raw_study.json.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.append(str(REPO))

from bench._common import peak_rss_mb, save_results  # noqa: E402

STUDY = REPO / ".." / "shared" / "data" / "clinical" / "TCGA-FG-6692"


def cpu_seconds() -> float:
    """User + system CPU time of this process and its threads (less sensitive to other load than wall time)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run_once(study_dir: Path, predictor, cache, out: Path) -> dict:  # noqa: ANN001
    from segmentation_core.io import write_label_map
    from segmentation_core.raw.segment import run_study

    start, cpu_start = time.perf_counter(), cpu_seconds()
    result = run_study(study_dir / "raw", predictor, cache=cache)
    written = time.perf_counter()
    write_label_map(
        result.labels,
        result.case,
        out / "labels.nii.gz",
        extra={"raw_study": result.provenance()},
        overwrite=True,
    )
    timings = {k: round(v, 2) for k, v in result.timings.items()}
    timings["writing labels"] = round(time.perf_counter() - written, 2)
    return {
        "total_s": round(time.perf_counter() - start, 2),
        "cpu_s": round(cpu_seconds() - cpu_start, 2),
        "steps_s": timings,
        "steps_from_cache": result.prepared.cached,
        "result": result,
    }


def accuracy(result, study_dir: Path) -> dict:  # noqa: ANN001
    import nibabel as nib
    import numpy as np

    from segmentation_core.metrics.overlap import dice
    from segmentation_core.raw.resampling import resample

    prepared = result.prepared
    mask = np.asanyarray(nib.load(study_dir / "reference" / "t1c_brain_mask_hdbet.nii.gz").dataobj) > 0
    ref = prepared.study.reference_volume
    correlations = {}
    for name in ("t1", "t2", "flair"):
        ours = resample(
            prepared.study.images[name], (ref.shape, ref.affine), prepared.transforms[name].matrix
        )
        theirs = np.asanyarray(nib.load(study_dir / "reference" / f"co__t1c__{name}.nii.gz").dataobj)
        correlations[name] = round(float(np.corrcoef(ours[mask], theirs[mask].astype(np.float32))[0, 1]), 4)
    return {
        "brain_mask_dice_vs_hdbet": round(dice(prepared.brain_mask_native, mask), 4),
        "registration_correlation_vs_reference": correlations,
        "tumour_voxels_by_label": np.bincount(result.labels.ravel(), minlength=4).tolist(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--study", type=Path, default=STUDY)
    parser.add_argument("--runs-warm", type=int, default=1)
    args = parser.parse_args()
    if not (args.study / "raw").is_dir():
        raise SystemExit(f"{args.study}: the raw study is not available")
    load_before = os.getloadavg()
    start = time.perf_counter()
    from resources import default_model_dir
    from segmentation_core.inference import Predictor
    from segmentation_core.models.bundle import ModelBundle
    from segmentation_core.raw.cache import StudyCache

    predictor = Predictor(ModelBundle.load(default_model_dir()))
    imports = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as tmp:
        cache = StudyCache(Path(tmp) / "cache")
        cold = run_once(args.study, predictor, cache, Path(tmp))
        warm = [run_once(args.study, predictor, cache, Path(tmp)) for _ in range(args.runs_warm)]
    figures = accuracy(cold.pop("result"), args.study)
    for run in warm:
        run.pop("result")
    import torch

    save_results(
        "raw_study",
        {
            "study": "TCGA-FG-6692",
            "target_s": 60.0,
            "imports_and_model_load_s": round(imports, 2),
            "cold": cold,
            "warm": warm,
            "accuracy": figures,
            "torch_threads": torch.get_num_threads(),
            "peak_rss_mb": round(peak_rss_mb(), 1),
            "load_average_before": [round(v, 2) for v in load_before],
            "load_average_after": [round(v, 2) for v in os.getloadavg()],
        },
    )


if __name__ == "__main__":
    main()
