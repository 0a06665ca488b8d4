"""Viewer benchmark on the bundled sample case (Brats18_CBICA_AME_1), in one run of the real window.

Run under a display: ``QT_QPA_PLATFORM=xcb xvfb-run -a .venv/bin/python -m bench.viewer``.
Also the CPU the idle window uses (share of one core, 5 s with the sample and its 3D surfaces shown).
Targets: slice compose <= 5 ms per 240x240 view; crosshair move repaints the three views <= 16 ms;
3D surfaces of all labels <= 0.5 s; open sample case to first paint <= 2 s; RSS with the case
loaded <= 1 GB with torch not imported.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time

import numpy as np

from bench._common import peak_rss_mb, save_results

REPEATS = 50


def _ms(samples: list[float]) -> dict[str, float]:
    ms = [s * 1000 for s in samples]
    return {
        "min_ms": round(min(ms), 3),
        "median_ms": round(statistics.median(ms), 3),
        "p90_ms": round(float(np.percentile(ms, 90)), 3),
    }


def _wait(app, condition, timeout_s: float = 120.0) -> None:  # noqa: ANN001 (QApplication, callable)
    deadline = time.perf_counter() + timeout_s
    while not condition():
        if time.perf_counter() > deadline:
            raise SystemExit("timed out waiting for the viewer")
        app.processEvents()
        time.sleep(0.001)


def open_to_first_paint(app, window) -> float:  # noqa: ANN001 (QApplication, MainWindow)
    """Seconds from File ▸ Open sample case to all three slice views painted with the case."""
    views = list(window.slice_views.values())
    start = time.perf_counter()
    window.case_opener.open_sample()
    _wait(app, lambda: window.state.case is not None)
    for view in views:
        view.repaint()
    _wait(app, lambda: all(view._qimage is not None for view in views))
    return time.perf_counter() - start


def compose_times(window) -> dict[str, dict[str, float]]:  # noqa: ANN001 (MainWindow)
    """Extract + window/level + overlay of each view's current slice."""
    result = {}
    for plane, view in window.slice_views.items():
        samples = []
        for _ in range(REPEATS):
            t = time.perf_counter()
            view.current_rgba()
            samples.append(time.perf_counter() - t)
        result[plane] = {**_ms(samples), "size": list(view.layout_.size)}
    return result


def crosshair_times(state, views: list, centre: tuple[int, int, int]) -> dict[str, float]:  # noqa: ANN001
    """Move the cursor one voxel diagonally (every view changes slice, so all three recompose) and
    repaint the three views synchronously."""
    samples = []
    for step in range(REPEATS):
        offset = 1 if step % 2 else -1
        t = time.perf_counter()
        state.cursor.set_position(tuple(c + offset for c in centre))
        for view in views:
            view.repaint()
        samples.append(time.perf_counter() - t)
    return _ms(samples)


def views_only_window(state):  # noqa: ANN001, ANN201 (ViewerState -> QWidget, SliceViews)
    """The three slice views in a plain window of their own: no OpenGL widget beside them, so Qt does
    not composite the window through OpenGL (which software OpenGL makes slow)."""
    from PySide6.QtWidgets import QGridLayout, QWidget

    from app.qt.slice_view import SliceView

    host = QWidget()
    grid = QGridLayout(host)
    views = [SliceView(state, plane) for plane in ("axial", "sagittal", "coronal")]
    for index, view in enumerate(views):
        grid.addWidget(view, index // 2, index % 2)
    host.resize(1000, 1000)
    host.show()
    return host, views


def surface_times(window, runs: int = 3) -> dict[str, object]:  # noqa: ANN001
    from app.render.surfaces import SurfaceRequest, label_surfaces

    case = window.state.case
    samples, meshes = [], {}
    for _ in range(runs):
        t = time.perf_counter()
        meshes = label_surfaces(SurfaceRequest(np.asarray(window.state.labels.data), case.affine))
        samples.append(time.perf_counter() - t)
    return {
        "min_s": round(min(samples), 3),
        "median_s": round(statistics.median(samples), 3),
        "runs_s": [round(s, 3) for s in samples],
        "triangles": {int(k): int(m.n_cells) for k, m in meshes.items()},
    }


def idle_cpu_share(app, seconds: float = 5.0) -> float:  # noqa: ANN001 (QApplication)
    """CPU time the window's process uses per second of wall time while the user does nothing."""
    cpu, wall = time.process_time(), time.perf_counter()
    deadline = wall + seconds
    while time.perf_counter() < deadline:
        app.processEvents()
        time.sleep(0.01)
    return (time.process_time() - cpu) / (time.perf_counter() - wall)


def isolate_user_folders() -> None:
    """Fresh per-user folders: no recent cases, autosave recoveries or settings of earlier sessions."""
    home = tempfile.mkdtemp(prefix="bench-viewer-")
    for name in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
        os.environ[name] = os.path.join(home, name.lower())


def main() -> None:
    isolate_user_folders()
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    from app.qt.main_window import MainWindow

    window = MainWindow()
    window.show()
    _wait(app, lambda: window.isVisible())
    app.processEvents()
    first_paint = open_to_first_paint(app, window)
    labels = np.asarray(window.state.labels.data)
    centre = tuple(int(v) for v in np.argwhere(labels > 0).mean(axis=0))
    window.state.cursor.set_position(centre)
    _wait(app, lambda: window.view3d.surfaces_ready and bool(window.view3d.scene.surfaces))
    app.processEvents()
    t = time.perf_counter()
    window.view3d.render_frame()
    render_3d = time.perf_counter() - t
    idle_cpu = idle_cpu_share(app)
    in_main_window = crosshair_times(window.state, list(window.slice_views.values()), centre)
    host, host_views = views_only_window(window.state)
    app.processEvents()
    results = {
        "load_average": [round(v, 2) for v in os.getloadavg()],
        "case": window.state.case.case_id,
        "shape": list(window.state.case.shape),
        "open_sample_to_first_paint_s": {"value": round(first_paint, 3), "target": 2.0},
        "slice_compose": {"per_view": compose_times(window), "target_ms": 5.0},
        "crosshair_repaint_three_views": {
            "slice_views_window": crosshair_times(window.state, host_views, centre),
            "main_window_with_gl_3d_view": in_main_window,
            "target_ms": 16.0,
        },
        "surfaces_all_labels": {**surface_times(window), "target_s": 0.5},
        "render_3d_frame_ms": round(render_3d * 1000, 1),
        "idle_cpu_share_of_one_core": round(idle_cpu, 3),
        "peak_rss_mb": {"value": round(peak_rss_mb(), 1), "target": 1024},
        "torch_imported": "torch" in sys.modules,
    }
    host.close()
    window.close()
    save_results("viewer", results)


if __name__ == "__main__":
    main()
