"""The Review dock in the real window: an AI result fills it, keys jump the crosshair, a lesion row click
jumps to the lesion, and File ▸ Report… writes the three files."""

from __future__ import annotations

import json

import jsonschema
import numpy as np
import pytest
from PySide6.QtCore import Qt

from segmentation_core.review.schema import REPORT_SCHEMA
from tests.gui.test_issue17_bugs import activate
from tests.screenshots import save_test_screenshot
from tests.session.test_review_session import SHAPE, ai_result

pytestmark = pytest.mark.gui


@pytest.fixture
def window(qtbot):
    from app.qt.main_window import MainWindow
    from tests.core.io_fixtures import make_case

    win = MainWindow()
    win.ask = lambda title, text: True  # quitting with unsaved labels: yes
    qtbot.addWidget(win)
    win.state.set_case(make_case(SHAPE, with_labels=False))
    win.show()
    qtbot.waitExposed(win)
    activate(win, qtbot)
    yield win
    win.close()


def test_review_dock_keys_lesion_clicks_and_report(window, qtbot, tmp_path) -> None:
    window.session.apply_prediction(ai_result())
    qtbot.waitUntil(lambda: window.review.lesions is not None, timeout=30000)  # measured in a job
    panel, state = window.review_panel, window.state
    assert "2 regions" in panel.queue_label.text() and panel.next_button.isEnabled()
    assert panel.lesion_table.rowCount() == 2 and panel.lesion_table.item(0, 1).text() == "0.51"
    assert "RANO sum of products" in panel.lesion_summary.text()
    view = window.slice_views["axial"]
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_BracketRight)
    assert state.cursor.position == (13, 5, 5)
    qtbot.keyClick(view, Qt.Key.Key_R)
    assert window.review.queue.clusters[0].reviewed and "27 / 51" not in panel.queue_label.text()
    assert "53 % of the volume reviewed" in panel.queue_label.text()
    qtbot.keyClick(view, Qt.Key.Key_BracketRight)
    qtbot.keyClick(view, Qt.Key.Key_BracketLeft)
    assert state.cursor.position == (13, 5, 5)
    rect = panel.lesion_table.visualItemRect(panel.lesion_table.item(1, 0))
    window.review_dock.raise_()
    qtbot.mouseClick(panel.lesion_table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert state.cursor.position == window.review.lesions.lesions[1].target
    before = view.current_rgba().copy()
    assert panel.overlay_box.isEnabled() and not window.actions["confidence"].isChecked()
    qtbot.keyClick(view, Qt.Key.Key_C)  # View ▸ AI confidence overlay
    assert window.state.display.confidence.show and panel.overlay_box.isChecked()
    after = view.current_rgba()
    changed = np.argwhere((after != before).any(axis=2))
    voxels = {view.layout_.voxel_at(int(c), int(r), view.slice_index) for r, c in changed}
    assert voxels and all(window.state.uncertainty[v] >= 128 for v in voxels)
    panel.threshold_slider.setValue(100)  # only probability 0.5 exactly: nothing in the quantised map
    assert window.state.display.confidence.threshold == 1.0
    assert (view.current_rgba() == before).all()
    panel.threshold_slider.setValue(50)
    save_test_screenshot(window.grab(), "review-dock.png")
    job = window.reporter.write(tmp_path / "report.pdf")
    qtbot.waitUntil(lambda: not job.running, timeout=60000)
    qtbot.waitUntil(lambda: bool(window.reporter.written), timeout=10000)
    assert [p.name for p in window.reporter.written] == ["report.pdf", "report.html", "report.json"]
    data = json.loads((tmp_path / "report.json").read_text())
    assert data["review"]["clusters_reviewed"] == 1 and data["review"]["coverage"] == 27 / 51
    assert (
        data["model"] == {"version": "3", "device": "cpu", "tta": False}
        and data["correction"]["voxels_changed"] == 0
    )
    assert [k["name"] for k in data["key_images"]] == ["lesion-1.png", "view-3d.png"]
    jsonschema.validate(data, REPORT_SCHEMA)
    assert data["volumes_cm3"] == window.session.tracker.volumes_cm3  # the Volumes panel's numbers


def test_rano_lines_are_drawn_on_their_slice_and_end_points_drag(qtbot, tmp_path) -> None:
    from app.qt.main_window import MainWindow
    from segmentation_core.types import Prediction
    from tests.core.io_fixtures import make_case

    window = MainWindow()
    window.ask = lambda title, text: True
    qtbot.addWidget(window)
    shape = (48, 48, 16)
    window.state.set_case(make_case(shape, with_labels=False))
    window.show()
    qtbot.waitExposed(window)
    labels = np.zeros(shape, np.uint8)
    labels[10:30, 14:30, 6:9] = 3  # 20 x 16 voxels on three slices: measurable
    labels[9:31, 13:31, 5:10][labels[9:31, 13:31, 5:10] == 0] = 2
    window.session.apply_prediction(Prediction(labels, None, "cpu", None, 1.0, "3"))
    qtbot.waitUntil(lambda: window.state.measurements.assessment is not None, timeout=30000)
    (m,) = window.state.measurements.assessment.measurements
    assert m.measurable and m.slice_axis == 2
    view = window.slice_views["axial"]
    window.state.cursor.set_position((20, 20, m.slice_index))
    before = view.grab().toImage()
    start = view.point_pos(m.long[1])
    assert view.measurement_handle_at(start) == (1, "long", 1)
    colour = before.pixelColor(round(start.x()), round(start.y()))
    assert (colour.red(), colour.green(), colour.blue()) == (0, 230, 255)  # the long line's end is drawn
    target = view.point_pos(tuple(v + d for v, d in zip(m.long[1], (4.0, 4.0, 0.0))))
    qtbot.mousePress(view, Qt.MouseButton.LeftButton, pos=start.toPoint())
    qtbot.mouseMove(view, pos=target.toPoint())
    qtbot.mouseRelease(view, Qt.MouseButton.LeftButton, pos=target.toPoint())
    (moved,) = window.state.measurements.assessment.measurements
    assert moved.edited and moved.long_mm > m.long_mm + 3 and moved.slice_index == m.slice_index
    assert window.review.rano is window.state.measurements.assessment
    assert f"{moved.product_mm2:.0f} mm²" in window.review_panel.lesion_summary.text()
    assert window.state.cursor.position == (20, 20, m.slice_index)  # the drag did not move the crosshair
    save_test_screenshot(window.grab(), "rano-lines.png")
    job = window.reporter.write(tmp_path / "report.pdf")
    qtbot.waitUntil(lambda: bool(window.reporter.written), timeout=60000)
    data = json.loads((tmp_path / "report.json").read_text())
    assert data["rano"]["measurements"][0]["edited"] and not job.running
    assert data["rano"]["sum_of_products_mm2"] == pytest.approx(moved.product_mm2)
    window.close()
