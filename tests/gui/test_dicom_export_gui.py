"""A DICOM case in the real window: open the folder, paint, export NIfTI + DICOM-SEG through the dialog."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication

from segmentation_core.io import from_source_orientation, read_label_file
from segmentation_core.labels import ET
from tests.core.io_fixtures import write_dicom_case

pytestmark = pytest.mark.gui


def test_dicom_case_exports_nifti_and_dicom_seg_through_the_dialog(qtbot, tmp_path: Path) -> None:
    import highdicom as hd
    import pydicom

    from app.qt.main_window import MainWindow

    series = write_dicom_case(tmp_path / "dcm", slices=5)
    window = MainWindow()
    window.ask = lambda title, text: True
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    handle = window.case_opener.open_paths([tmp_path / "dcm"])
    qtbot.waitUntil(lambda: not handle.running, timeout=60_000)
    case = window.state.case
    assert case is not None and case.source_format == "dicom" and case.shape == (64, 64, 5)

    window.actions["brush"].trigger()
    window.edit.settings.label = ET
    window.edit.settings.radius_mm = 1.0
    voxel = (32, 32, 2)
    window.state.cursor.set_position(voxel)
    view = window.slice_views["axial"]
    point = view.widget_pos_of(voxel).toPoint()
    qtbot.mousePress(view, Qt.MouseButton.LeftButton, pos=point)
    qtbot.mouseRelease(view, Qt.MouseButton.LeftButton, pos=point)
    painted = window.state.labels.data.copy()
    assert painted[voxel] == ET and int((painted == ET).sum()) > 1

    out = tmp_path / "export" / "case_seg.nii.gz"
    out.parent.mkdir()
    seen: dict[str, tuple[bool, bool]] = {}

    def fill_in_and_save() -> None:
        dialog = QApplication.activeModalWidget()
        seen["dicom"] = (dialog.dicom_check.isEnabled(), dialog.dicom_check.isChecked())
        dialog.path_edit.setText(str(out))
        dialog.accept()

    QTimer.singleShot(0, fill_in_and_save)
    job = window.exporter.export()
    assert job is not None
    qtbot.waitUntil(lambda: not job.running, timeout=60_000)
    assert seen["dicom"] == (True, True)  # offered and on by default for a DICOM case

    assert np.array_equal(read_label_file(out, scheme="brats").array, painted)  # read back as internal labels
    seg = hd.seg.segread(out.with_name("case_seg.dcm"))
    assert seg.number_of_segments == 3  # NCR, ED, ET: segment numbers are the internal labels
    uids = [str(pydicom.dcmread(p, stop_before_pixels=True).SOPInstanceUID) for p in series["t1"]]
    frames = seg.get_pixels_by_source_instance(source_sop_instance_uids=uids, combine_segments=True)
    source_layout = np.transpose(np.asarray(frames), (2, 1, 0))  # frame k, (row, col) = voxel (col, row, k)
    assert np.array_equal(from_source_orientation(source_layout, case), painted)
    assert not window.state.labels.modified
    window.close()
