"""Inference benchmark on a real BraTS case: ours vs MONAI, CPU end to end, peak memory.

    .venv/bin/python bench/inference.py [--case DIR] [--model DIR] [--device cpu|cuda]

1. Ours (crop to the brain, sliding window, labels on the case grid) against MONAI's
   ``sliding_window_inference`` with the same network, patch size, overlap and Gaussian mode on the full
   uncropped volume (MONAI's own preprocessing is not even counted).
2. Agreement on identical settings: the same sub-volume (sized so both tilings coincide) and MONAI's
   importance map given to our sliding window; the largest logit difference is reported.
3. End to end in a fresh child process (read the case -> labels written and verified): time, peak RSS.

Uses the bundled default model when present, else a randomly initialised default-sized bundle (the JSON
says which). Prints the JSON and saves it to bench/results/inference.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
REAL = REPO / ".." / "shared" / "data" / "real"
CASE_ID = "Brats18_CBICA_AME_1"  # a validation case: never trained on
RESULTS = REPO / "bench" / "results" / "inference.json"
# bench/ itself must not be on the path (bench/packaging.py would shadow the `packaging` library)
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.append(str(REPO))


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def model_bundle(model: Path | None, scratch: Path) -> tuple[Path, str]:
    """The bundle to benchmark and a description of it."""
    from resources import default_model_dir

    folder = model or default_model_dir()
    if (folder / "model.json").is_file():
        return folder, f"bundle at {folder}"
    from bench._common import random_bundle

    folder = scratch / "random-model"
    bundle, params = random_bundle(folder, "random-default-sized")
    return folder, (
        "no default model bundled yet: a randomly initialised bundle sized as the training defaults "
        f"({bundle.architecture}, {params} parameters, patch {list(bundle.patch_size)} at {bundle.spacing} mm)"
    )


def end_to_end(case_dir: Path, model: Path, out: Path, device: str, threads: int | None) -> dict:
    """Read -> predict -> labels written (round-trip verified); run in a fresh process for peak RSS."""
    start = time.perf_counter()
    from segmentation_core.inference import Predictor, run_prediction
    from segmentation_core.io import load_case, write_label_map
    from segmentation_core.models.bundle import ModelBundle

    imported = time.perf_counter()
    cpu_start = time.process_time()
    case = load_case(case_dir)
    loaded = time.perf_counter()
    bundle = ModelBundle.load(model)
    prediction = run_prediction(Predictor(bundle, device=device, threads=threads), case)
    predicted = time.perf_counter()
    write_label_map(
        prediction.labels, case, out / f"{case.case_id}_pred.nii.gz", model_version=bundle.version
    )
    written = time.perf_counter()
    cpu_s = time.process_time() - cpu_start
    if device != "cpu" and torch.cuda.is_available():
        device_name = torch.cuda.get_device_name()
    else:
        device_name = f"cpu ({torch.get_num_threads()} threads)"
    return {
        "device": device_name,
        "fallback": prediction.fallback,
        "import_s": round(imported - start, 3),
        "read_s": round(loaded - imported, 3),
        "predict_s": round(predicted - loaded, 3),
        "write_s": round(written - predicted, 3),
        "end_to_end_s": round(written - imported, 3),
        "end_to_end_cpu_s": round(cpu_s, 3),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "tumour_voxels": int(np.count_nonzero(prediction.labels)),
    }


def compare_with_monai(case_dir: Path, model: Path, device: str) -> dict:
    """Our whole prediction vs MONAI's sliding window on the uncropped volume; agreement on one setting."""
    from monai.data.utils import compute_importance_map
    from monai.inferers import sliding_window_inference

    from segmentation_core.inference import Predictor, run_prediction, sliding_window
    from segmentation_core.io import load_case
    from segmentation_core.models.bundle import ModelBundle
    from segmentation_core.preprocessing import preprocess, resample, resampled_shape, zscore_nonzero

    case = load_case(case_dir)
    bundle = ModelBundle.load(model)
    predictor = Predictor(bundle, device=device)
    dev = predictor.device
    network = predictor.network(dev)
    patch = bundle.patch_size
    run_prediction(predictor, case)  # warm-up (weights, allocator)
    start = time.perf_counter()
    run_prediction(predictor, case)
    ours_s = time.perf_counter() - start

    full = zscore_nonzero(np.stack([case.channels[c].array for c in bundle.channels]))
    full_t = torch.from_numpy(full)
    if bundle.spacing is not None:
        full_t = resample(full_t, resampled_shape(full.shape[1:], case.spacing, bundle.spacing))
    full_t = full_t[None].to(dev)
    with torch.inference_mode():
        start = time.perf_counter()
        sliding_window_inference(full_t, patch, predictor.batch_size, network, 0.5, mode="gaussian")
        if dev.type == "cuda":
            torch.cuda.synchronize()
        monai_s = time.perf_counter() - start

    # identical settings: a sub-volume of the cropped input whose size is patch + k * patch/2 per axis
    image = torch.from_numpy(preprocess(case, bundle.channels, bundle.spacing).image)
    step = [p // 2 for p in patch]
    size = [p + (n - p) // s * s for n, p, s in zip(image.shape[1:], patch, step)]
    sub = image[:, : size[0], : size[1], : size[2]].contiguous()
    importance = compute_importance_map(patch, mode="gaussian", sigma_scale=0.125)
    with torch.inference_mode():
        expected = sliding_window_inference(sub[None].to(dev), patch, 1, network, 0.5, mode="gaussian")[0]
        generator = sliding_window(sub, network, patch, 0.5, 1, device=dev, importance=importance)
        while True:
            try:
                next(generator)
            except StopIteration as stop:
                ours = stop.value
                break
    return {
        "patch_size": list(patch),
        "spacing_mm": list(bundle.spacing) if bundle.spacing else None,
        "cropped_input_shape": list(image.shape[1:]),
        "uncropped_input_shape": list(full_t.shape[2:]),
        "ours_whole_prediction_s": round(ours_s, 3),
        "monai_sliding_window_uncropped_s": round(monai_s, 3),
        "speedup": round(monai_s / ours_s, 2),
        "agreement_subvolume_shape": size,
        "agreement_max_abs_logit_diff": float(np.abs(ours - expected.float().cpu().numpy()).max()),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", type=Path, default=REAL / CASE_ID)
    parser.add_argument("--model", type=Path)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, help="CPU threads for the end-to-end run (default: all)")
    parser.add_argument("--child", nargs=2, metavar=("MODEL", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        e2e = end_to_end(args.case, Path(args.child[0]), Path(args.child[1]), args.device, args.threads)
        print(json.dumps(e2e))
        return 0
    if not args.case.is_dir():
        print(f"skipped: {args.case} is absent (the real cases live in <repo>/../shared/data/real)")
        return 1
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as scratch:
        model, model_note = model_bundle(args.model, Path(scratch))
        child = subprocess.run(
            [sys.executable, __file__, "--case", str(args.case), "--device", args.device]
            + (["--threads", str(args.threads)] if args.threads else [])
            + ["--child", str(model), scratch],
            capture_output=True,
            text=True,
            check=True,
        )
        e2e = json.loads(child.stdout.strip().splitlines()[-1])
        comparison = compare_with_monai(args.case, model, args.device)
    results = {
        "case": args.case.name,
        "model": model_note,
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__}",
        "note": "measured under load: the machine's CPU cores are shared with other engineers' jobs",
        "load_average_before_after": [round(load_before[0], 2), round(os.getloadavg()[0], 2)],
        "tta": False,
        "end_to_end": e2e,
        "vs_monai": comparison,
        "bench_process_peak_rss_mb": round(peak_rss_mb(), 1),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
