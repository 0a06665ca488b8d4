"""Kill -9 at random moments during export, probabilities, autosave and registry writes (issue 16).

After every kill each file is complete-old or complete-new: the label map, its sidecar and its
probabilities belong to one generation (once the folder is cleaned, as the next write does), the
recovery file always loads, and the registry heals on its next change with every version loadable.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import random
import signal
import time
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
import pytest
import torch

import app.state.autosave
import segmentation_core.io.export
import segmentation_core.registry
import tests.core.io_fixtures
import tests.core.model_fixtures
from segmentation_core.atomic import PARTIAL, clean_folder
from tests.robustness.kill_writer import run

#: imported here, before forking, so that each forked writer starts writing at once
PRELOADED = (
    app.state.autosave,
    segmentation_core.io.export,
    segmentation_core.registry,
    tests.core.io_fixtures,
    tests.core.model_fixtures,
    torch,
)

KILLS = {"export": 6, "probabilities": 6, "autosave": 6, "registry": 6}
STARTUP_LIMIT_S = 60


def _writer(kind: str, folder: Path, ready: Any) -> None:
    torch.set_num_threads(1)
    run(kind, folder, ready.set)


def _kill_at_random(kind: str, folder: Path, rng: random.Random, max_delay: float) -> None:
    """Fork a writer (no re-import: a kill every second is affordable), let it write, SIGKILL it."""
    context = multiprocessing.get_context("fork")
    ready = context.Event()
    child = context.Process(target=_writer, args=(kind, folder, ready), daemon=True)
    child.start()
    try:
        assert ready.wait(STARTUP_LIMIT_S), f"the {kind} writer never finished its first write"
        time.sleep(rng.uniform(0.0, max_delay))
        assert child.is_alive(), f"the {kind} writer died by itself (exit {child.exitcode})"
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.join(STARTUP_LIMIT_S)
    assert child.exitcode == -signal.SIGKILL


def _generation_of_labels(path: Path) -> int:
    data = np.asanyarray(nib.load(path).dataobj)
    return int(np.count_nonzero(data))


def _leftovers(folder: Path) -> int:
    """Temporaries and journals a kill left behind (evidence that it landed during a write)."""
    return sum(1 for p in folder.rglob(".*") if PARTIAL in p.name or p.name.endswith(".commit.json"))


def _check_export(folder: Path, probabilities: bool) -> int:
    clean_folder(folder)  # what the next write does first: finish a journalled commit, drop temporaries
    assert not [p.name for p in folder.iterdir() if PARTIAL in p.name or p.name.endswith(".commit.json")]
    generation = _generation_of_labels(folder / "seg.nii.gz")
    sidecar = json.loads((folder / "seg.json").read_text())
    assert sidecar["generation"] == generation, "label map and sidecar from different writes"
    if probabilities:
        probs = np.asanyarray(nib.load(folder / "seg_probabilities.nii.gz").dataobj)
        assert probs.shape == (24, 24, 24, 3)
        assert np.allclose(probs, np.float32(generation / 1e4)), "probabilities from another write"
    return generation


def _check_autosave(folder: Path) -> int:
    from app.state.autosave import read_recovery, scan_recoveries

    scan = scan_recoveries(folder)
    assert scan.set_aside == [], scan.set_aside
    (path,) = [r.path for r in scan.recoveries]
    recovery = read_recovery(path)
    labels = recovery.load()  # complete: a torn file would not load
    assert recovery.shape == (24, 24, 24)
    painted = int(np.count_nonzero(labels))
    # the snapshot is taken while the writer paints on: it holds every counted edit, at most one more
    assert recovery.edits <= painted <= recovery.edits + 1, "the labels lost edits they claim to hold"
    return recovery.edits


def _check_registry(folder: Path) -> int:
    from segmentation_core.registry import ModelRegistry
    from segmentation_core.registry.bundle_check import check_bundle

    registry = ModelRegistry(root=folder / "data", default_bundle=folder / "bundles" / "2")
    registry.activate(1)  # a change: heals what the kill left
    versions = registry.versions()
    for version in versions:
        check_bundle(version.path)
    stored = sorted(int(p.name) for p in (registry.dir / "versions").iterdir())
    assert stored == [v.number for v in versions if v.number != 1], "orphan or missing version folders"
    assert not list(registry.dir.glob(".deleted-*"))
    return len(versions)


@pytest.mark.parametrize("kind", list(KILLS))
def test_kill_at_random_leaves_complete_old_or_complete_new_files(tmp_path: Path, kind: str) -> None:
    rng = random.Random(f"kill-{kind}")
    folder = tmp_path / kind
    seen = []
    mid_write = 0
    for _ in range(KILLS[kind]):
        _kill_at_random(kind, folder, rng, max_delay=0.5 if kind != "registry" else 1.0)
        mid_write += _leftovers(folder) > 0
        if kind in ("export", "probabilities"):
            seen.append(_check_export(folder, kind == "probabilities"))
        elif kind == "autosave":
            seen.append(_check_autosave(folder))
        else:
            seen.append(_check_registry(folder))
    assert all(g >= 1 for g in seen)
    if kind in ("export", "probabilities"):  # the writers do nothing but write: kills land mid-write
        assert mid_write >= 1, "no kill landed during a write; the test proves nothing"
