"""Packaging figures: build time, folder size and start-up times of the frozen app.

``python -m bench.app_bundle [--build] [--app dist/brats-viewer/brats-viewer] [--runs 3]``

``--build`` first runs ``packaging/build.sh`` and times it. Start-up is measured with the frozen
executable: process start to the "window painted" line of ``--self-test`` (under ``xvfb-run`` when there is
no display) and the whole ``--no-gui --help`` (Python, torch-free CLI start). The first run after a build
is reported separately as the cold start. Prints and saves JSON to ``bench/results/app_bundle.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_APP = REPO / "dist" / "brats-viewer" / "brats-viewer"
RESULTS = REPO / "bench" / "results" / "app_bundle.json"


def folder_bytes(folder: Path) -> int:
    """Total size of the files under ``folder`` (links not followed)."""
    return sum(p.lstat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


def part_bytes(path: Path) -> int:
    return folder_bytes(path) if path.is_dir() else path.lstat().st_size


def time_build() -> float:
    start = time.perf_counter()
    subprocess.run(["bash", str(REPO / "packaging" / "build.sh")], check=True, cwd=REPO)
    return time.perf_counter() - start


def time_to_window(app: Path) -> tuple[float, float]:
    """Seconds from process start to "window painted", and to the end of ``--self-test``."""
    argv = [str(app), "--self-test"]
    if not os.environ.get("DISPLAY"):
        argv = ["xvfb-run", "-a", "-s", "-screen 0 1600x1200x24", *argv]
    env = dict(os.environ, QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "xcb"))
    start = time.perf_counter()
    painted = None
    with subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env
    ) as proc:
        for line in proc.stdout:
            if painted is None and line.strip() == "window painted":
                painted = time.perf_counter() - start
        code = proc.wait()
    if code != 0 or painted is None:
        raise SystemExit(f"{app} --self-test failed (exit {code})")
    return painted, time.perf_counter() - start


def time_cli(app: Path) -> float:
    start = time.perf_counter()
    subprocess.run([str(app), "--no-gui", "--help"], check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", action="store_true", help="build first (packaging/build.sh) and time it")
    parser.add_argument("--app", type=Path, default=DEFAULT_APP)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    result: dict[str, object] = {"app": str(args.app), "cpus": os.cpu_count()}
    if args.build:
        result["build_s"] = round(time_build(), 1)
    if not args.app.is_file():
        raise SystemExit(f"no built app at {args.app}: run 'bash packaging/build.sh' (or pass --build)")
    folder = args.app.parent
    result["folder_bytes"] = folder_bytes(folder)
    result["folder_gb"] = round(result["folder_bytes"] / 1e9, 3)
    parts = sorted(((part_bytes(p), p.name) for p in (folder / "_internal").iterdir()), reverse=True)
    result["largest_parts_mb"] = {name: round(size / 1e6) for size, name in parts[:8]}
    windows = [time_to_window(args.app) for _ in range(args.runs)]
    clis = [time_cli(args.app) for _ in range(args.runs)]
    result["cold_start_to_window_s"] = round(windows[0][0], 2)
    result["warm_start_to_window_median_s"] = round(
        statistics.median(w[0] for w in windows[1:] or windows), 2
    )
    result["self_test_total_median_s"] = round(statistics.median(w[1] for w in windows), 2)
    result["cli_help_median_s"] = round(statistics.median(clis), 2)
    result["xvfb"] = not os.environ.get("DISPLAY") and shutil.which("xvfb-run") is not None
    result["peak_rss_children_mb"] = round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    sys.exit(main())
