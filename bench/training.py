"""Training throughput: patches per second of the bundled model's recipe, on CPU (and CUDA when present).

Run: ``.venv/bin/python -m bench.training [--threads N] [--iterations N] [--patch P] [--base-filters F]
[--depth D] [--batch B]`` (defaults: the bundled model's recipe). Uses synthetic cached cases
(two 120x120x78 volumes, the size of a 2 mm BraTS brain crop) so it needs no data. Times, per device:
batch preparation (foreground-oversampled sampling + augmentation) and the optimiser step
(forward, Dice+BCE loss, backward, clipping, AdamW) separately, after two warm-up iterations.
Writes bench/results/training.json.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from bench._common import peak_rss_mb, save_results
from segmentation_core.models.unet import UNet3D
from segmentation_core.training.batches import BatchDataset
from segmentation_core.training.data import CachedCase
from segmentation_core.training.losses import region_loss
from segmentation_core.training.sampling import PatchSampler

SHAPE = (120, 120, 78)
PATCH = (48, 48, 48)
BATCH = 2


def synthetic_cases(folder: Path, count: int = 2) -> list[CachedCase]:
    """Cached cases with a z-scored-like image and a spherical tumour (WT ⊃ TC ⊃ ET)."""
    rng = np.random.default_rng(0)
    grid = np.indices(SHAPE)
    radius = np.sqrt(sum((g - s // 2) ** 2 for g, s in zip(grid, SHAPE)))
    targets = np.stack([radius < 20, radius < 12, (radius < 12) & (radius > 8)]).astype(np.uint8) * 255
    cases = []
    for i in range(count):
        image_path, target_path = folder / f"c{i}_image.npy", folder / f"c{i}_target.npy"
        np.save(image_path, rng.standard_normal((4, *SHAPE)).astype(np.float16))
        np.save(target_path, targets)
        cases.append(CachedCase(f"c{i}", image_path, target_path))
    return cases


def measure(
    device: torch.device, dataset: BatchDataset, iterations: int, base_filters: int, depth: int, batch: int
) -> dict:
    torch.manual_seed(0)
    network = UNet3D(base_filters=base_filters, depth=depth).to(device)
    optimizer = torch.optim.AdamW(network.parameters(), lr=3e-3)
    data_s = step_s = 0.0
    for k in range(iterations + 2):
        start = time.perf_counter()
        images, targets = dataset[k]
        images, targets = images.to(device), targets.to(device)
        prepared = time.perf_counter()
        loss = region_loss(network(images), targets)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(network.parameters(), 12.0)
        optimizer.step()
        if device.type == "cuda":
            torch.cuda.synchronize()
        if k >= 2:  # warm-up excluded
            data_s += prepared - start
            step_s += time.perf_counter() - prepared
    total = data_s + step_s
    return {
        "device": str(device),
        "iterations": iterations,
        "seconds": round(total, 3),
        "patches_per_s": round(iterations * batch / total, 3),
        "data_s_per_iteration": round(data_s / iterations, 4),
        "step_s_per_iteration": round(step_s / iterations, 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--iterations", type=int, default=10)
    parser.add_argument("--patch", type=int, default=PATCH[0], help="cubic patch edge in voxels")
    parser.add_argument("--base-filters", type=int, default=16)
    parser.add_argument("--depth", type=int, default=4)
    parser.add_argument("--batch", type=int, default=BATCH)
    args = parser.parse_args()
    patch = (args.patch,) * 3
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        sampler = PatchSampler(synthetic_cases(Path(tmp)), patch)
        dataset = BatchDataset(sampler, args.batch, seed=0, start=0, stop=args.iterations + 2)
        shape = (args.iterations, args.base_filters, args.depth, args.batch)
        runs = [measure(torch.device("cpu"), dataset, *shape)]
        if torch.cuda.is_available():
            runs.append(measure(torch.device("cuda"), dataset, *shape))
    save_results(
        "training",
        {
            "recipe": {
                "patch": patch,
                "batch": args.batch,
                "base_filters": args.base_filters,
                "depth": args.depth,
                "loss": "dice_bce",
            },
            "threads": args.threads,
            "runs": runs,
            "peak_rss_mb": round(peak_rss_mb(), 1),
        },
    )


if __name__ == "__main__":
    main()
