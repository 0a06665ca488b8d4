"""A child process for the kill-at-random test: writes one kind of output over and over until killed.

``run(kind, folder, ready)`` (in a forked child, so nothing is imported again) or
``python -m tests.robustness.kill_writer KIND FOLDER``; signals ``ready`` once the first write is done.
Every generation ``g`` is recognisable in every file it writes, so the test can tell complete-old,
complete-new and mixed files apart.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

SHAPE = (24, 24, 24)


def labels_for(generation: int) -> np.ndarray:
    """Internal labels whose count of ET voxels is ``generation`` (mod the volume size)."""
    labels = np.zeros(SHAPE, np.uint8)
    labels.reshape(-1)[: generation % labels.size] = 3
    return labels


def write_exports(folder: Path, probabilities: bool, ready: Callable[[], None]) -> None:
    from segmentation_core.io import write_label_map
    from tests.core.io_fixtures import make_case

    case = make_case(SHAPE, with_labels=False)
    generation = 0
    while True:
        generation += 1
        probs = np.full((3, *SHAPE), generation / 1e4, np.float32) if probabilities else None
        if probabilities:
            probs = np.broadcast_to(probs, (3, *SHAPE)).copy()
        write_label_map(
            labels_for(generation),
            case,
            folder / "seg.nii.gz",
            probabilities=probs,
            extra={"generation": generation},
            overwrite=True,
        )
        if generation == 1:
            ready()


def write_autosaves(folder: Path, ready: Callable[[], None]) -> None:
    from app.state.autosave import Autosaver
    from app.state.label_layer import LabelLayer

    layer = LabelLayer(np.zeros(SHAPE, np.uint8))
    saver = Autosaver(layer, "kill-test", delay_s=0.0, max_delay_s=0.02, folder=folder)
    flat = np.arange(np.prod(SHAPE))
    for step in range(1, 10**9):
        i, j, k = np.unravel_index(flat[step % flat.size], SHAPE)
        layer.apply(
            (slice(i, i + 1), slice(j, j + 1), slice(k, k + 1)), np.ones((1, 1, 1), bool), 1 + step % 3
        )
        if step == 5:
            saver.flush()
            ready()


def write_registry(folder: Path, ready: Callable[[], None]) -> None:
    from segmentation_core.registry import ModelRegistry
    from tests.core.model_fixtures import make_tiny_bundle

    bundles = [make_tiny_bundle(folder / "bundles" / str(seed), seed=seed) for seed in (2, 3)]
    registry = ModelRegistry(root=folder / "data", default_bundle=folder / "bundles" / "2")
    for step in range(10**9):
        version = registry.register(bundles[step % 2], base_version=1)
        registry.activate(version.number)
        stored = [v.number for v in registry.versions() if v.number not in (1, version.number)]
        if len(stored) > 2:
            registry.delete(stored[0])
        if step == 0:
            ready()


def run(kind: str, folder: Path, ready: Callable[[], None]) -> None:
    """Write ``kind`` outputs into ``folder`` forever; ``ready()`` after the first one."""
    folder.mkdir(parents=True, exist_ok=True)
    if kind == "export":
        write_exports(folder, False, ready)
    elif kind == "probabilities":
        write_exports(folder, True, ready)
    elif kind == "autosave":
        write_autosaves(folder, ready)
    elif kind == "registry":
        write_registry(folder, ready)
    else:
        raise SystemExit(f"unknown kind {kind!r}")


if __name__ == "__main__":
    run(sys.argv[1], Path(sys.argv[2]), lambda: print("ready", flush=True))
