"""Issue 16 in the GUI: the export dialog refuses source files and asks before replacing (item 4);
mis-aligned grids and implausible sequences stay visible as a warning bar and reach the sidecar (10, 11)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtWidgets import QMainWindow

from app.qt.case_warnings import install_case_warnings
from app.qt.export_dialog import ExportDialog
from app.state.viewer_state import ViewerState
from segmentation_core.io import load_case, write_label_map
from segmentation_core.io.export import sidecar_path
from tests.core.io_fixtures import LPS_AFFINE, case_file_name, synthetic_images, write_brats_case, write_nifti

SHAPE = (32, 32, 32)


def _shifted_case(folder: Path, shift_mm: float) -> Path:
    """A BraTS case whose T2 header puts it ``shift_mm`` to the side of the others."""
    write_brats_case(folder, SHAPE)
    affine = LPS_AFFINE.copy()
    affine[0, 3] += shift_mm
    write_nifti(folder / case_file_name("Case_001", "t2"), synthetic_images(SHAPE)["t2"], affine)
    return folder


def _dialog(qtbot, case, path: Path) -> tuple[ExportDialog, list[str], list[str]]:
    dialog = ExportDialog(path, False, None, case)
    qtbot.addWidget(dialog)
    asked: list[str] = []
    told: list[str] = []
    dialog.tell = lambda title, text: told.append(text)
    return dialog, asked, told


def test_export_dialog_refuses_a_source_file_and_asks_before_replacing(qtbot, tmp_path: Path) -> None:
    folder = write_brats_case(tmp_path / "Case_001", SHAPE)
    case = load_case(folder)
    source = folder / "Case_001_t1ce.nii.gz"
    dialog, asked, told = _dialog(qtbot, case, source)
    dialog.ask = lambda title, text: asked.append(text) or True
    dialog.accept()
    assert dialog.result() != ExportDialog.DialogCode.Accepted and not asked
    assert len(told) == 1 and str(source) in told[0] and "never overwritten" in told[0]

    other = tmp_path / "seg.nii.gz"
    other.write_bytes(b"old")
    dialog, asked, told = _dialog(qtbot, case, other)
    dialog.ask = lambda title, text: asked.append(text) or False  # the user says No
    dialog.accept()
    assert dialog.result() != ExportDialog.DialogCode.Accepted and str(other) in asked[0]
    dialog.ask = lambda title, text: asked.append(text) or True  # ... then Yes
    dialog.accept()
    assert dialog.result() == ExportDialog.DialogCode.Accepted and dialog.overwrite

    fresh, asked, told = _dialog(qtbot, case, tmp_path / "new.nii.gz")
    fresh.ask = lambda title, text: asked.append(text) or True
    fresh.accept()
    assert fresh.result() == ExportDialog.DialogCode.Accepted and not fresh.overwrite and not asked


def test_misaligned_grids_show_a_persistent_warning_and_reach_the_sidecar(qtbot, tmp_path: Path) -> None:
    case = load_case(_shifted_case(tmp_path / "Case_001", 20.0))
    (misaligned,) = [w for w in case.warnings if "MISALIGNED" in w]
    assert "the t2 image" in misaligned and "the head lies 20.0 mm apart" in misaligned
    window = QMainWindow()
    qtbot.addWidget(window)
    state = ViewerState()
    bar = install_case_warnings(window, state)
    window.show()
    state.set_case(case)
    assert bar.isVisible() and bar.text.splitlines()[0] == f"⚠ {misaligned}"
    qtbot.wait(200)  # persistent: still there later (a status note would be gone after its timeout)
    assert bar.isVisible()
    state.set_case(load_case(write_brats_case(tmp_path / "Case_002", SHAPE)))
    assert not bar.isVisible()
    out = write_label_map(case.labels.array, case, tmp_path / "seg.nii.gz")
    assert misaligned in json.loads(sidecar_path(out).read_text())["warnings"]


def test_a_small_shift_within_the_rigid_tolerance_is_not_called_misaligned(tmp_path: Path) -> None:
    case = load_case(_shifted_case(tmp_path / "Case_001", 1.0))
    assert not [w for w in case.warnings if "MISALIGNED" in w]


@pytest.mark.parametrize(
    ("role", "make", "problem"),
    [
        ("flair", lambda a: np.zeros_like(a), "the flair image is blank (every voxel is 0)"),
        ("t1", lambda a: np.full_like(a, 7), "the t1 image is constant (every voxel is 7)"),
    ],
)
def test_blank_or_constant_sequences_are_warned_visibly(qtbot, tmp_path: Path, role, make, problem) -> None:
    folder = write_brats_case(tmp_path / "Case_001", SHAPE)
    write_nifti(folder / case_file_name("Case_001", role), make(synthetic_images(SHAPE)[role]), LPS_AFFINE)
    case = load_case(folder)
    window = QMainWindow()
    qtbot.addWidget(window)
    state = ViewerState()
    bar = install_case_warnings(window, state)
    window.show()
    state.set_case(case)
    assert bar.isVisible() and problem in bar.text


@pytest.mark.gui
def test_recovery_is_offered_once_at_start_and_a_damaged_file_never_stops_the_window(
    qtbot, tmp_path: Path
) -> None:
    from app.qt.main_window import MainWindow
    from app.session.case_session import case_sources
    from app.state.autosave import Autosaver, recovery_dir
    from app.state.label_layer import LabelLayer

    folder = write_brats_case(tmp_path / "Case_001", SHAPE)
    case = load_case(folder)
    edited = case.labels.array.copy()
    edited[:4, :4, :4] = 3
    saver = Autosaver(LabelLayer(edited), case.case_id, case_sources(case))
    saver.save_now().result()
    saver.close()
    (recovery_dir() / "damaged.recovery.npz").write_bytes(b"PK\x03\x04 truncated")
    window = MainWindow()
    qtbot.addWidget(window)
    questions: list[str] = []
    window.ask = lambda title, text: questions.append(title) or True
    window.show()
    window.offer_recoveries_at_start()
    qtbot.waitUntil(lambda: window.state.case is not None, timeout=60_000)
    assert questions == ["Unsaved labels found"]  # asked once, not again when the case opens
    assert np.array_equal(window.state.labels.data, edited)
    assert list(recovery_dir().glob("damaged.recovery.npz.unreadable-*"))
    window.close()
