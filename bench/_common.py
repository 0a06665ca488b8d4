"""Helpers shared by the benchmark scripts: peak RSS and saving results as JSON."""

from __future__ import annotations

import json
import platform
import resource
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from segmentation_core.models.bundle import ModelBundle

RESULTS_DIR = Path(__file__).resolve().parent / "results"


def peak_rss_mb(children: bool = False) -> float:
    """Peak resident set size in MiB of this process (or of its waited-for children)."""
    who = resource.RUSAGE_CHILDREN if children else resource.RUSAGE_SELF
    return resource.getrusage(who).ru_maxrss / 1024.0


def save_results(name: str, results: dict) -> Path:
    """Print the results as JSON and save them to bench/results/<name>.json."""
    results = {
        "benchmark": name,
        "time": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "machine": {"python": sys.version.split()[0], "platform": platform.platform(), "cpus": _cpu_count()},
        **results,
    }
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    path.write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))
    return path


def random_bundle(folder: Path, name: str, **settings: object) -> tuple[ModelBundle, int]:
    """A randomly initialised bundle sized as the training defaults, ``settings`` (patch_size, spacing)
    changed, saved to ``folder``; (the bundle, its parameter count). Timing does not depend on weights."""
    from dataclasses import fields

    import torch

    from segmentation_core.models.bundle import ModelBundle
    from segmentation_core.training.config import TrainConfig

    defaults = {f.name: f.default for f in fields(TrainConfig)}  # what the default model is trained at
    sized = {"patch_size": defaults["patch_size"], "spacing": defaults["spacing"], **settings}
    torch.manual_seed(0)
    bundle = ModelBundle(
        name=name,
        version="random",
        architecture={"base_filters": defaults["base_filters"], "depth": defaults["depth"]},
        patch_size=sized["patch_size"],
        spacing=sized["spacing"],
    )
    network = bundle.build_network()
    bundle.save(folder, network.state_dict())
    return bundle, sum(p.numel() for p in network.parameters())


def _cpu_count() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
