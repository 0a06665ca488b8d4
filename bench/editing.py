"""Editing benchmark on a real BraTS case: brush drag-step latency, stroke commit, undo/redo, fills.

Run: ``.venv/bin/python -m bench.editing [CASE_FOLDER]``. Target: <= 16 ms per brush drag step (one
frame at 60 Hz) on the 240x240x155 grid. Live edit statistics (EditTracker) are connected, as in the
GUI, so their per-edit cost is included. Saves bench/results/editing.json.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import numpy as np

from app.state.edit_stats import EditTracker
from app.state.label_layer import LabelLayer
from app.tools.base import IntensityLimit, PaintSettings
from app.tools.brush import BrushTool, EraserTool
from app.tools.events import ToolEvent
from app.tools.flood_fill import flood_fill
from app.tools.morphology import dilate, fill_holes, remove_small_islands
from bench._common import peak_rss_mb, save_results
from segmentation_core.io import load_case
from segmentation_core.labels import ED, ET, NCR

DEFAULT_CASE = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "real" / "Brats18_CBICA_AME_1"
STROKES = 25
STEPS_PER_STROKE = 30


def _ms(seconds: list[float]) -> dict[str, float]:
    ordered = sorted(seconds)
    return {
        "median_ms": round(statistics.median(ordered) * 1e3, 3),
        "p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))] * 1e3, 3),
        "max_ms": round(ordered[-1] * 1e3, 3),
        "n": len(ordered),
    }


def _timed(fn) -> float:  # noqa: ANN001 - any zero-argument callable
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def run_strokes(
    tool: BrushTool, centre: np.ndarray, rng: np.random.Generator, plane: str
) -> dict[str, object]:
    """STROKES strokes of STEPS_PER_STROKE drag events each, moving 1-4 voxels per event in the slice."""
    drags, presses, releases = [], [], []
    fixed = {"sagittal": 0, "coronal": 1, "axial": 2}[plane]
    for _ in range(STROKES):
        point = centre + rng.integers(-20, 21, 3)
        presses.append(_timed(lambda p=tuple(point): tool.press(ToolEvent(p, plane))))
        for _ in range(STEPS_PER_STROKE):
            step = rng.integers(-4, 5, 3)
            step[fixed] = 0
            point = point + step
            drags.append(_timed(lambda p=tuple(point): tool.drag(ToolEvent(p, plane))))
        releases.append(_timed(lambda p=tuple(point): tool.release(ToolEvent(p, plane))))
    return {"drag_step": _ms(drags), "press": _ms(presses), "release_commit": _ms(releases)}


def main() -> None:
    folder = (Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_CASE).resolve()
    if not folder.is_dir():
        raise SystemExit(f"case folder not found: {folder} (pass a BraTS case folder as the argument)")
    case = load_case(folder)
    if case.labels is None:
        raise SystemExit(f"{folder} has no segmentation; the benchmark edits the ground-truth labels")
    labels = case.labels.array
    layer = LabelLayer(labels, case.spacing)
    tracker = EditTracker(layer)
    repaints: list[tuple[slice, ...]] = []
    layer.changed.connect(repaints.append)  # stands in for a view that repaints the box
    images = {name: volume.array for name, volume in case.channels.items()}
    centre = np.array(np.nonzero(labels)).mean(axis=1).astype(int)
    rng = np.random.default_rng(0)
    t1ce = images["t1ce"]
    enhancing = float(np.percentile(t1ce[labels == ET], 25)) if np.any(labels == ET) else float(t1ce.max())
    tools = {
        "brush_2d_r5mm": BrushTool(layer, PaintSettings(label=NCR, radius_mm=5.0)),
        "brush_3d_r5mm": BrushTool(layer, PaintSettings(label=ED, radius_mm=5.0, sphere=True)),
        "brush_3d_r10mm": BrushTool(layer, PaintSettings(label=ED, radius_mm=10.0, sphere=True)),
        "intensity_brush_2d_r8mm": BrushTool(
            layer,
            PaintSettings(
                label=ET, radius_mm=8.0, intensity=IntensityLimit("t1ce", enhancing, float(t1ce.max()))
            ),
            images,
        ),
        "eraser_2d_r5mm": EraserTool(layer, PaintSettings(radius_mm=5.0)),
    }
    results: dict[str, object] = {
        "case": folder.name,
        "shape": list(layer.shape),
        "spacing_mm": list(layer.spacing),
    }
    strokes: dict[str, object] = {}
    for name, tool in tools.items():
        strokes[name] = run_strokes(tool, centre, rng, "axial" if "2d" in name else "coronal")
    results["strokes"] = strokes
    steps = len(layer.history.undo_names)
    results["history"] = {"steps": steps, "nbytes": layer.history.nbytes, "mb": layer.history.nbytes / 2**20}
    undo = [_timed(layer.undo) for _ in range(steps)]
    redo = [_timed(layer.redo) for _ in range(steps)]
    results["undo_stroke"] = _ms(undo)
    results["redo_stroke"] = _ms(redo)
    ai = labels.copy()
    ai[ai == NCR] = ET
    results["replace_whole_map_ms"] = round(_timed(lambda: layer.replace(ai, "AI segmentation")) * 1e3, 2)
    results["undo_replace_ms"] = round(_timed(layer.undo) * 1e3, 2)
    seed = tuple(int(c) for c in centre)
    results["flood_fill_ms"] = round(_timed(lambda: flood_fill(layer, seed, "axial", NCR)) * 1e3, 2)
    results["dilate_ed_2mm_ms"] = round(_timed(lambda: dilate(layer, ED, 2.0)) * 1e3, 2)
    results["fill_holes_ed_ms"] = round(_timed(lambda: fill_holes(layer, ED)) * 1e3, 2)
    results["remove_islands_ms"] = round(_timed(lambda: remove_small_islands(layer, 100)) * 1e3, 2)
    results["edit_stats"] = tracker.stats.to_dict()
    results["repainted_boxes"] = len(repaints)
    worst = max(s["drag_step"]["p95_ms"] for s in strokes.values())  # type: ignore[index]
    results["target_drag_step_ms"] = 16.0
    results["worst_p95_drag_step_ms"] = worst
    results["meets_target"] = worst <= 16.0
    results["peak_rss_mb"] = round(peak_rss_mb(), 1)
    save_results("editing", results)


if __name__ == "__main__":
    main()
