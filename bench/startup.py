"""Start-up benchmark: process start to first painted main window, and peak RSS.

Run under a display (e.g. ``QT_QPA_PLATFORM=xcb xvfb-run -a .venv/bin/python -m bench.startup``).
Target: first paint <= 2 s on a 2-core machine.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

from bench._common import peak_rss_mb, save_results

RUNS = 3


def one_start() -> tuple[float, float]:
    """(seconds from process start to 'window painted', total seconds of the self-test)."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "app", "--self-test"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    first_paint = None
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.strip() == "window painted" and first_paint is None:
            first_paint = time.perf_counter() - start
    proc.wait()
    if proc.returncode != 0 or first_paint is None:
        raise SystemExit(f"self-test failed: {proc.stderr.read() if proc.stderr else ''}")
    return first_paint, time.perf_counter() - start


def main() -> None:
    one_start()  # warm the file cache, as a second start on a workstation would be
    runs = [one_start() for _ in range(RUNS)]
    paints = [r[0] for r in runs]
    save_results(
        "startup",
        {
            "first_paint_s": {"median": statistics.median(paints), "runs": paints, "target": 2.0},
            "self_test_total_s": statistics.median(r[1] for r in runs),
            "peak_rss_mb": peak_rss_mb(children=True),
        },
    )


if __name__ == "__main__":
    main()
