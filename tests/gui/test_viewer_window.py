"""The real window under a display (xvfb): opening cases, overlay at the tumour in every view, 3D view.

Set ``VIEWER_SCREENSHOT=path.png`` to keep the window picture of the sample-case test.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPointF, QSettings, Qt, QUrl
from PySide6.QtGui import QDropEvent, QImage

import app.qt.case_opener as case_opener
from segmentation_core.labels import ET
from tests.core.io_fixtures import write_brats_case
from tests.gui.windows import open_main_window

pytestmark = pytest.mark.gui


@pytest.fixture
def settings(tmp_path: Path) -> QSettings:
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def window(qtbot, settings: QSettings, tmp_path: Path, monkeypatch):
    win = open_main_window(qtbot, tmp_path, monkeypatch)
    win.case_opener.settings = settings
    yield win
    win.close()


@pytest.fixture
def errors(monkeypatch) -> list[str]:
    shown: list[str] = []
    monkeypatch.setattr(case_opener, "show_load_error", lambda parent, exc: shown.append(str(exc)))
    return shown


def open_and_wait(window, qtbot, paths: list[Path]) -> None:
    handle = window.case_opener.open_paths(paths)
    assert handle is not None
    qtbot.waitUntil(lambda: not handle.running, timeout=120_000)


def window_pixel(window, image: QImage, view, voxel) -> tuple[int, int, int]:
    pos = view.mapTo(window, view.widget_pos_of(voxel).toPoint())
    colour = image.pixelColor(pos)
    return colour.red(), colour.green(), colour.blue()


def labelled_voxel_off_crosshair(
    view, labels: np.ndarray, cursor: tuple[int, int, int]
) -> tuple[int, int, int]:
    """A voxel of the view's current slice holding ET, at least 3 pixels away from both crosshair lines."""
    layout = view.layout_
    plane = layout.extract(labels, cursor[layout.slice_axis])
    col0, row0 = layout.pixel_of(cursor)
    rows, cols = np.nonzero(plane == ET)
    far = (np.abs(cols - col0) >= 3) & (np.abs(rows - row0) >= 3)
    assert far.any(), f"no ET voxel off the crosshair in the {view.plane} view"
    pick = np.flatnonzero(far)[len(np.flatnonzero(far)) // 2]
    return layout.voxel_at(int(cols[pick]), int(rows[pick]), cursor[layout.slice_axis])


def test_sample_case_overlay_in_every_view_and_3d_surfaces(window, qtbot, settings, tmp_path: Path) -> None:
    window.case_opener.open_sample()
    qtbot.waitUntil(lambda: window.state.case is not None, timeout=120_000)
    state = window.state
    assert state.case.case_id == "Brats18_CBICA_AME_1" and state.case.labels is not None
    labels = np.asarray(state.labels.data)
    et = np.argwhere(labels == ET)
    centre = tuple(int(v) for v in et[np.argmin(np.linalg.norm(et - et.mean(axis=0), axis=1))])
    state.cursor.set_position(centre)
    qtbot.waitUntil(
        lambda: window.view3d.surfaces_ready and len(window.view3d.scene.surfaces) == 3, timeout=60_000
    )
    qtbot.wait(50)
    image = window.grab().toImage()
    if os.environ.get("VIEWER_SCREENSHOT"):
        image.save(os.environ["VIEWER_SCREENSHOT"])
    for plane, view in window.slice_views.items():
        voxel = labelled_voxel_off_crosshair(view, labels, centre)
        col, row = view.layout_.pixel_of(voxel)
        expected = tuple(int(v) for v in view.current_rgba()[row, col, :3])
        assert expected[2] < expected[1] - 40, f"{plane}: ET overlay should be yellow, composed {expected}"
        assert window_pixel(window, image, view, voxel) == expected, plane
    assert window.cursor_readout.text().startswith(f"voxel {centre}  RAS")
    assert window.cursor_readout.text().endswith("label ET")
    # 3D: the surfaces change the picture (not blank, not only the planes)
    shown = window.view3d.interactor.screenshot(return_img=True)
    state.display.update_overlay(show=False)
    window.view3d.render_frame()
    hidden = window.view3d.interactor.screenshot(return_img=True)
    assert shown.std() > 0
    assert int(np.any(shown != hidden, axis=-1).sum()) > 500
    assert settings.value(case_opener.RECENT_KEY) is not None
    # volume rendering of the active sequence, and the 3D screenshot button's PNG
    window.view3d.volume_box.setChecked(True)
    assert "volume" in window.view3d.interactor.actors
    window.view3d.render_frame()
    with_volume = window.view3d.interactor.screenshot(return_img=True)
    assert int(np.any(with_volume != hidden, axis=-1).sum()) > 500
    window.view3d.volume_box.setChecked(False)
    assert "volume" not in window.view3d.interactor.actors
    png = window.view3d.save_screenshot(tmp_path / "3d.png")
    saved = QImage(str(png))
    assert (saved.width(), saved.height()) == (hidden.shape[1], hidden.shape[0])


def test_bad_case_shows_an_error_and_keeps_the_open_case(window, qtbot, tmp_path: Path, errors) -> None:
    good = write_brats_case(tmp_path / "Good_1", case_id="Good_1", shape=(16, 16, 16))
    open_and_wait(window, qtbot, [good])
    assert window.state.case.case_id == "Good_1"
    bad = tmp_path / "Bad_1"
    bad.mkdir()
    (bad / "Bad_1_t1.nii.gz").write_bytes(b"not a nifti file")
    open_and_wait(window, qtbot, [bad])
    assert len(errors) == 1 and "Bad_1" in errors[0]
    assert window.state.case.case_id == "Good_1"
    assert window.case_opener.recent() == [[str(good)]]
    asked: list[bool] = []
    window.case_opener.before_open = lambda: asked.append(True) or False  # the user says "keep my edits"
    assert window.case_opener.open_paths([good]) is None
    assert asked == [True] and window.state.case.case_id == "Good_1"


def test_drop_opens_a_case_and_recent_cases_reopen(window, qtbot, tmp_path: Path) -> None:
    first = write_brats_case(tmp_path / "Drop_1", case_id="Drop_1", shape=(16, 16, 16))
    second = write_brats_case(tmp_path / "Drop_2", case_id="Drop_2", shape=(12, 12, 12))
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(first))])
    drop = QDropEvent(
        QPointF(50, 50),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    window.dropEvent(drop)
    assert drop.isAccepted()
    qtbot.waitUntil(
        lambda: window.state.case is not None and window.state.case.case_id == "Drop_1", timeout=60_000
    )
    qtbot.waitUntil(lambda: not window.case_opener.job.running, timeout=60_000)
    open_and_wait(window, qtbot, sorted(second.iterdir()))  # the files of a case, not its folder
    assert window.state.case.case_id == "Drop_2"
    assert window.state.cursor.position == (6, 6, 6)  # centre of the 12^3 grid
    assert window.case_opener.recent()[1] == [str(first)]
    window.case_opener._fill_recent()
    entries = [a.text() for a in window.case_opener.recent_menu.actions()]
    assert entries[1] == str(first) and entries[0].endswith("(5 files)")
    window.case_opener.recent_menu.actions()[1].trigger()
    qtbot.waitUntil(lambda: window.state.case.case_id == "Drop_1", timeout=60_000)
    assert window.windowTitle() == "BraTS Viewer — Drop_1"
