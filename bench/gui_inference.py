"""GUI responsiveness while the AI runs: frame times of the real window during inference.

Opens the sample case, starts Segment ▸ Run AI segmentation with the bundled model, and while it runs
moves the crosshair every 16 ms (repainting all three slice views), recording the time between frames.
Target (issue 9): frame time <= 50 ms while inference runs. Run under a display:
``QT_QPA_PLATFORM=xcb xvfb-run -a .venv/bin/python -m bench.gui_inference``.
"""

from __future__ import annotations

import statistics
import time

from bench._common import peak_rss_mb, save_results

TICK_MS = 16


def main() -> None:
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    import resources
    from app.qt.main_window import MainWindow

    app = QApplication.instance() or QApplication([])
    window = MainWindow()
    window.segmentation.ask = lambda title, text: True
    window.show()
    handle = window.case_opener.open_paths([resources.sample_case_dir()])
    while handle.running:
        app.processEvents()
        time.sleep(0.01)
    shape = window.state.case.shape
    started = time.perf_counter()
    job = window.segmentation.segment.run()
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
    while job.running:
        app.processEvents()
        time.sleep(0.001)
    inference_s = time.perf_counter() - started
    timer.stop()
    window.segmentation.ask = lambda title, text: True
    window.close()
    gaps.sort()
    save_results(
        "gui_inference",
        {
            "inference_s": round(inference_s, 2),
            "frames": len(gaps),
            "frame_gap_ms": {
                "median": round(statistics.median(gaps), 1),
                "p95": round(gaps[int(0.95 * (len(gaps) - 1))], 1),
                "max": round(gaps[-1], 1),
                "target_max": 50,
            },
            "note": "gap = time between the starts of successive 16 ms crosshair-move-and-repaint frames",
            "peak_rss_mb": round(peak_rss_mb(), 1),
        },
    )


if __name__ == "__main__":
    main()
