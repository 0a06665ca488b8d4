"""The main window: layout, menus, About, the self-test and start-up failures."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.screenshots import save_test_screenshot

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.gui


@pytest.fixture
def window(qtbot):
    from app.qt.main_window import MainWindow

    win = MainWindow()
    qtbot.addWidget(win)
    yield win
    win.close()


def test_menus_and_grid(window) -> None:
    titles = [action.text() for action in window.menuBar().actions()]
    assert titles == ["&File", "&Edit", "&Segment", "&Retrain", "&View", "&Help"]
    grid = window.centralWidget().layout()
    positions = {grid.itemAtPosition(r, c).widget() for r in (0, 1) for c in (0, 1)}
    assert grid.itemAtPosition(0, 0).widget() is window.slice_views["axial"]
    assert grid.itemAtPosition(0, 1).widget() is window.slice_views["sagittal"]
    assert grid.itemAtPosition(1, 0).widget() is window.slice_views["coronal"]
    assert grid.itemAtPosition(1, 1).widget() is window.view3d
    assert len(positions) == 4
    assert window.statusBar() is not None


def test_every_view_renders_and_close_releases_the_interactor(window, qtbot) -> None:
    window.show()
    qtbot.waitExposed(window)
    assert window.render_all_views() == {"axial": True, "sagittal": True, "coronal": True, "3d": True}
    window.close()
    assert window.view3d.interactor._closed is True


def test_closing_the_window_stops_background_jobs_before_it_goes(window, qtbot) -> None:
    """A job thread still running as the application went away reported into deleted signal objects
    ('Signal source has been deleted' at exit)."""
    import time

    from PySide6.QtCore import QThreadPool

    from app.jobs.runner import start_job
    from segmentation_core.types import Progress

    results: list[object] = []

    def endless(request: object, cancel) -> object:  # noqa: ANN001
        while not cancel.cancelled:
            time.sleep(0.01)
            yield Progress(0, 1, "working")
        return "never delivered"

    handle = start_job(endless, None, on_result=results.append)
    qtbot.waitUntil(lambda: QThreadPool.globalInstance().activeThreadCount() == 1)
    window.show()
    window.close()
    assert handle.token.cancelled
    assert QThreadPool.globalInstance().activeThreadCount() == 0  # the thread ended before close returned
    qtbot.wait(50)
    assert results == []  # a cancelled job delivers no result


def test_about_lists_versions_and_device() -> None:
    import torch
    import vtk

    from app.qt.about import about_text

    text = about_text()
    assert f"<td>{torch.__version__}</td>" in text
    assert vtk.vtkVersion.GetVTKVersion() in text
    assert "Compute device" in text and ("CPU" in text or "CUDA" in text or "MPS" in text)
    assert "Bakas" in text


def test_first_paint_comes_before_the_slow_imports_and_then_the_3d_view_starts() -> None:
    code = (
        "import sys, time\n"
        "from PySide6.QtWidgets import QApplication\n"
        "app = QApplication([])\n"
        "from app.qt.main_window import MainWindow\n"
        "slow = ('torch', 'pyvista', 'nibabel', 'SimpleITK', 'highdicom')\n"
        "w = MainWindow(); at_paint = []\n"
        "w.first_painted.connect(lambda: at_paint.append([m for m in slow if m in sys.modules]))\n"
        "w.show()\n"
        "deadline = time.monotonic() + 60\n"
        "while not w.view3d.interactor_created and time.monotonic() < deadline: app.processEvents()\n"
        "print(at_paint, w.view3d.interactor_created, 'pyvista' in sys.modules)\n"
        "w.close()\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[[]] True True"


def _sample_recovery_file(data: Path) -> Path:
    """A recovery file of unsaved labels for the bundled sample, as a crashed session leaves it."""
    import numpy as np

    import resources
    from app.session.case_session import case_sources
    from app.state.autosave import Autosaver, recovery_dir
    from app.state.label_layer import LabelLayer
    from segmentation_core.io import load_case

    case = load_case(resources.sample_case_dir())
    saver = Autosaver(
        LabelLayer(np.zeros(case.shape, np.uint8)),
        case.case_id,
        case_sources(case),
        folder=recovery_dir(data),
    )
    saver.save_now().result()
    saver.close()
    return saver.path


def test_self_test_opens_the_sample_checks_3d_surfaces_and_leaves_settings_alone(tmp_path) -> None:
    shot = tmp_path / "window.png"
    config = tmp_path / "config"
    recovery = _sample_recovery_file(tmp_path / "data")  # would ask "Recover unsaved labels?" in the window
    before = recovery.read_bytes()
    env = {**os.environ, "XDG_CONFIG_HOME": str(config), "BRATS_VIEWER_DATA_DIR": str(tmp_path / "data")}
    result = subprocess.run(
        [sys.executable, "-m", "app", "--self-test", "--screenshot", str(shot)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[-1] == "OK"
    assert "opened Brats18_CBICA_AME_1" in lines
    surfaces = [line for line in lines if line.startswith("3D view: surfaces of labels [1, 2, 3] cover")]
    assert len(surfaces) == 1 and int(surfaces[0].split()[-2]) >= 200, lines
    from PySide6.QtGui import QImage

    image = QImage(str(shot))
    assert (image.width(), image.height()) == (1400, 1000)
    save_test_screenshot(image, "self-test-sample.png")
    written = [p for p in config.rglob("*") if p.is_file()]
    assert written == [], f"the self-test wrote settings (e.g. recent cases): {written}"
    assert recovery.read_bytes() == before  # neither asked about nor discarded


def test_start_up_failure_is_reported_not_silent(monkeypatch, qtbot, capsys) -> None:
    import app.qt.main_window as main_window
    from app import main as app_main

    def broken() -> None:
        raise RuntimeError("GPU driver exploded")

    monkeypatch.setattr(main_window, "MainWindow", broken)
    assert app_main.run_gui(self_test=True) == 1
    assert "FAILED: RuntimeError('GPU driver exploded')" in capsys.readouterr().err

    shown: list[str] = []
    monkeypatch.setattr(
        "PySide6.QtWidgets.QMessageBox.critical", lambda parent, title, text: shown.append(text)
    )
    assert app_main.run_gui(self_test=False) == 1
    assert len(shown) == 1 and shown[0].startswith("GPU driver exploded")
