"""I/O benchmark: ``load_case`` on a real BraTS case vs bare nibabel reading the same files.

Run: ``.venv/bin/python -m bench.io [CASE_FOLDER]``. Target: load_case <= 1.5x bare nibabel.
Both are timed in one run, alternating, best of several repeats (warm file cache): the four images
alone (explicit mapping) and the whole folder with its segmentation. Also times a verified export
(write_label_map: write, read back, compare, sidecar with SHA-256 of the five source files).
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

import nibabel as nib
import numpy as np

from bench._common import peak_rss_mb, save_results
from segmentation_core.io import load_case, write_label_map
from segmentation_core.types import SEQUENCES

DEFAULT_CASE = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "real" / "Brats18_CBICA_AME_1"
REPEATS = 7


def bare_nibabel(files: list[Path]) -> list[np.ndarray]:
    """What a script would do at least: read each file's voxels once in their stored dtype."""
    return [np.asanyarray(nib.load(f).dataobj) for f in files]


def _time(fn) -> float:  # noqa: ANN001 - any zero-argument callable
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_CASE.resolve()
    if not folder.is_dir():
        raise SystemExit(f"case folder not found: {folder}")
    images = {role: folder / f"{folder.name}_{role}.nii.gz" for role in SEQUENCES}
    seg = folder / f"{folder.name}_seg.nii.gz"
    runs: dict[str, list[float]] = {k: [] for k in ("nibabel_4", "load_case_4", "nibabel_5", "load_case_5")}
    load_case(images)  # warm imports and the file cache
    for _ in range(REPEATS):
        runs["nibabel_4"].append(_time(lambda: bare_nibabel(list(images.values()))))
        runs["load_case_4"].append(_time(lambda: load_case(images)))
        runs["nibabel_5"].append(_time(lambda: bare_nibabel([*images.values(), seg])))
        runs["load_case_5"].append(_time(lambda: load_case(folder)))
    best = {k: min(v) for k, v in runs.items()}
    case = load_case(folder)
    assert case.labels is not None
    with tempfile.TemporaryDirectory() as tmp:
        export_s = min(
            _time(lambda: write_label_map(case.labels.array, case, Path(tmp) / "seg.nii.gz", overwrite=True))
            for _ in range(3)
        )
    results = {
        "case": folder.name,
        "shape": list(case.shape),
        "file_bytes": sum(p.stat().st_size for p in [*images.values(), seg]),
        "repeats": REPEATS,
        "best_s": {k: round(v, 4) for k, v in best.items()},
        "median_s": {k: round(statistics.median(v), 4) for k, v in runs.items()},
        "ratio_four_images": round(best["load_case_4"] / best["nibabel_4"], 3),
        "ratio_with_seg": round(best["load_case_5"] / best["nibabel_5"], 3),
        "export_verified_s": round(export_s, 4),
        "target_ratio": 1.5,
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }
    save_results("io", results)


if __name__ == "__main__":
    main()
