"""End to end in the real window: open the sample, run the AI, paint, undo, redo, export, cancel."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt

import resources
from segmentation_core.io import read_label_file
from segmentation_core.labels import ET
from tests.core.model_fixtures import make_tiny_bundle

pytestmark = pytest.mark.gui

PAINT_VOXEL = (40, 40, 77)  # outside the brain box of the sample: the AI labels nothing there


@pytest.fixture
def window(qtbot):
    if not resources.sample_case_dir().is_dir():
        pytest.skip("the bundled sample case is missing")
    from app.qt.main_window import MainWindow

    win = MainWindow()
    win.ask = lambda title, text: True
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    handle = win.case_opener.open_sample()
    qtbot.waitUntil(lambda: not handle.running, timeout=120_000)
    assert win.state.case is not None
    yield win
    win.close()


def run_ai(window, qtbot, bundle: Path):
    controller = window.segment
    controller.bundle_dir = lambda: bundle
    handle = controller.run()
    assert handle is not None
    return handle


def test_run_ai_paint_undo_redo_export(window, qtbot, tmp_path) -> None:
    bundle = make_tiny_bundle(tmp_path / "model", spacing=(4.0, 4.0, 4.0), patch_size=(32, 32, 32))
    handle = run_ai(window, qtbot, bundle)
    qtbot.waitUntil(lambda: not handle.running, timeout=180_000)
    labels = window.state.labels
    assert labels.history.undo_names == ["AI segmentation (model v1)"]
    ai = labels.data.copy()
    assert ai[PAINT_VOXEL] == 0

    edit = window.edit
    window.actions["brush"].trigger()
    assert edit.active == "brush"
    edit.settings.label = ET
    edit.settings.radius_mm = 3.0
    view = window.slice_views["axial"]
    window.state.cursor.set_position(PAINT_VOXEL)
    point = view.widget_pos_of(PAINT_VOXEL).toPoint()
    qtbot.mousePress(view, Qt.MouseButton.LeftButton, pos=point)
    qtbot.mouseRelease(view, Qt.MouseButton.LeftButton, pos=point)
    painted = labels.data.copy()
    changed = painted != ai
    assert int(changed.sum()) == 29  # a 3 mm disc on the 1 mm grid
    assert set(painted[changed].tolist()) == {ET}
    assert labels.history.undo_names[:2] == ["Brush", "AI segmentation (model v1)"]
    qtbot.waitUntil(lambda: window.volumes.cell("ET", 1) == "29", timeout=5000)

    window.actions["undo"].trigger()
    assert np.array_equal(labels.data, ai)
    window.actions["redo"].trigger()
    assert np.array_equal(labels.data, painted)

    out = tmp_path / "export" / "sample_seg.nii.gz"
    out.parent.mkdir()
    job = window.exporter.start_export(out, "brats", dicom_seg=False, add_to_library=False)
    qtbot.waitUntil(lambda: not job.running, timeout=60_000)
    assert np.array_equal(read_label_file(out, scheme="brats").array, painted)
    sidecar = json.loads(out.with_name("sample_seg.json").read_text())
    assert sidecar["model_version"] == "1"
    assert sidecar["edits"]["voxels_added"]["ET"] == 29
    assert not labels.modified  # exported: nothing unsaved
    if os.environ.get("SEGMENTATION_SCREENSHOT"):
        window.grab().save(os.environ["SEGMENTATION_SCREENSHOT"])


def test_cancel_leaves_the_labels(window, qtbot, tmp_path, monkeypatch) -> None:
    errors: list[str] = []
    monkeypatch.setattr(
        "PySide6.QtWidgets.QMessageBox.critical", lambda parent, title, text: errors.append(text)
    )
    before = window.state.labels.data.copy()
    steps = list(window.state.labels.history.undo_names)
    slow = make_tiny_bundle(tmp_path / "slow", patch_size=(16, 16, 16))  # native grid: thousands of patches
    handle = run_ai(window, qtbot, slow)
    window.segment.handle.dialog.request_cancel()  # what the dialog's Cancel button does
    qtbot.waitUntil(lambda: not handle.running, timeout=5_000)
    assert errors == []
    assert np.array_equal(window.state.labels.data, before)
    assert window.state.labels.history.undo_names == steps
    assert window.statusBar().currentMessage() == "AI segmentation cancelled; the labels are unchanged"
