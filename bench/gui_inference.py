"""GUI responsiveness while the AI runs: frame times of the real window, idle and during inference.

Opens the sample case and moves the crosshair every 16 ms (repainting the three slice views; the 3D
view follows the cursor's planes at its own throttled rate), recording the time between frames: first
for a few seconds with nothing running (the baseline of this display and OpenGL), then while
Segment ▸ Run AI segmentation runs the bundled model (in its child process).
Target (issue 9): frame time <= 50 ms while inference runs. Run under a display:
``QT_QPA_PLATFORM=xcb xvfb-run -a .venv/bin/python -m bench.gui_inference``.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

from bench._common import peak_rss_mb, save_results

TICK_MS = 16
IDLE_S = 4.0


def summary(gaps: list[float]) -> dict[str, float]:
    ordered = sorted(gaps)
    return {
        "frames": len(ordered),
        "median": round(statistics.median(ordered), 1),
        "p95": round(ordered[int(0.95 * (len(ordered) - 1))], 1),
        "max": round(ordered[-1], 1),
        "over_50ms": sum(gap > 50 for gap in ordered),
    }


def record_frames(app, window, until: Callable[[], bool]) -> list[float]:  # noqa: ANN001 (Qt objects)
    """Move the crosshair every TICK_MS until ``until()``; the gaps between frame starts in ms."""
    from PySide6.QtCore import QTimer

    shape = window.state.case.shape
    gaps: list[float] = []
    last = [time.perf_counter()]
    step = [0]

    def tick() -> None:
        now = time.perf_counter()
        gaps.append((now - last[0]) * 1000)
        step[0] += 1
        x = (shape[0] // 4 + step[0]) % shape[0]
        window.state.cursor.set_position((x, shape[1] // 2, shape[2] // 2))
        for view in window.slice_views.values():
            view.repaint()
        last[0] = time.perf_counter()

    timer = QTimer(interval=TICK_MS, timeout=tick)
    timer.start()
    while not until():
        app.processEvents()
        time.sleep(0.001)
    timer.stop()
    return gaps[1:]  # the first gap starts before the timer did


def main() -> None:
    from PySide6.QtWidgets import QApplication

    import resources
    from app.qt.main_window import MainWindow

    app = QApplication.instance() or QApplication([])
    window = MainWindow()
    window.ask = lambda title, text: True
    window.show()
    handle = window.case_opener.open_paths([resources.sample_case_dir()])
    while handle.running or not window.view3d.surfaces_ready:
        app.processEvents()
        time.sleep(0.01)
    idle_end = time.perf_counter() + IDLE_S
    idle = record_frames(app, window, lambda: time.perf_counter() > idle_end)
    started = time.perf_counter()
    job = window.segment.run()
    during = record_frames(app, window, lambda: not job.running)
    inference_s = time.perf_counter() - started
    window.close()
    save_results(
        "gui_inference",
        {
            "inference_s": round(inference_s, 2),
            "frame_gap_ms": {"idle": summary(idle), "during_inference": summary(during), "target_max": 50},
            "note": "gap = time between the starts of successive 16 ms crosshair-move-and-repaint frames; "
            "the idle figures are the same window with nothing running",
            "peak_rss_mb": round(peak_rss_mb(), 1),
        },
    )


if __name__ == "__main__":
    main()
