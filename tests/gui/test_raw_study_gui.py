"""A raw study in the real window: opened on the T1c's native grid, Run AI co-registers and segments it,
the result lands as one undo step with the registered images, and the export keeps the T1c's geometry."""

from __future__ import annotations

import json
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from PySide6.QtCore import QSettings

import app.qt.case_opener as case_opener
from app.qt.export_dialog import ExportDialog
from segmentation_core.io import read_label_file
from segmentation_core.raw.resampling import resample
from segmentation_core.raw.study import read_study
from segmentation_core.types import Volume
from tests.core.model_fixtures import make_tiny_bundle
from tests.gui.windows import isolate_user_dirs
from tests.jobs.test_raw_study_jobs import (
    NAMES,
    NOT_REGISTERED,
    T2_SHIFT,
    cached_steps,
    lps_study,
    write_raw_study,
)
from tests.screenshots import save_test_screenshot

LIBRARY_REFUSAL = (
    "A raw scanner study cannot join the training set: training cases must be co-registered, skull-stripped "
    "~1 mm volumes (BraTS-like), and this study's labels lie on its native slices."
)

pytestmark = pytest.mark.gui
TCGA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "clinical" / "TCGA-FG-6692"


@pytest.fixture
def window(qtbot, tmp_path: Path, monkeypatch):
    from app.qt.main_window import MainWindow

    isolate_user_dirs(tmp_path, monkeypatch, ("XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"))
    win = MainWindow()
    win.ask = lambda title, text: True
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    win.case_opener.settings = win.segment.settings = settings
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.close()


@pytest.fixture
def errors(monkeypatch) -> list[str]:
    """The texts of the error dialogs shown (instead of showing them)."""
    shown: list[str] = []
    monkeypatch.setattr(
        "PySide6.QtWidgets.QMessageBox.critical", lambda parent, title, text: shown.append(text)
    )
    return shown


def open_and_wait(window, qtbot, paths: list[Path]) -> None:
    handle = window.case_opener.open_paths(paths)
    assert handle is not None
    qtbot.waitUntil(lambda: not handle.running, timeout=60_000)


def run_ai_and_wait(window, qtbot, bundle: Path, cache: Path | None) -> None:
    window.segment.bundle_dir = lambda: bundle
    window.segment.cache_dir = lambda: cache
    handle = window.segment.run()
    assert handle is not None
    qtbot.waitUntil(lambda: not handle.running, timeout=120_000)


def test_open_run_ai_and_export_a_raw_study(window, qtbot, tmp_path, monkeypatch, errors) -> None:
    folder = write_raw_study(tmp_path / "P010")
    open_and_wait(window, qtbot, [folder])
    state = window.state
    case = state.case
    _, canonical = lps_study()
    assert case.reference == "t1ce" and case.shape == (120, 136, 30)
    np.testing.assert_allclose(case.affine, canonical.affine, atol=1e-6)
    assert state.alignment is not None and state.alignment.reference == "t1ce"
    assert sorted(state.alignment.header_only) == ["flair", "t1", "t2"] and not state.alignment.is_registered
    assert window.statusBar().currentMessage() == f"Opened P010 (no labels).  Warning: {NOT_REGISTERED}"
    assert window.segment.runs_raw_pipeline()
    header_t2 = case.channels["t2"].array.copy()

    cache = tmp_path / "cache"
    mask = cached_steps(monkeypatch, folder, cache)
    bundle = make_tiny_bundle(tmp_path / "model", spacing=(4.0, 4.0, 4.0))
    run_ai_and_wait(window, qtbot, bundle, cache)
    assert errors == []
    assert state.case is case and state.labels.history.undo_names == ["AI segmentation (model v1)"]
    assert state.labels.data.any()
    expected_t2 = resample(read_study(folder).images["t2"], (case.shape, case.affine), T2_SHIFT)
    np.testing.assert_array_equal(case.channels["t2"].array, expected_t2)
    alignment = state.alignment
    assert alignment.is_registered and sorted(alignment.registered) == ["flair", "t1", "t2"]
    np.testing.assert_array_equal(alignment.header_only["t2"], header_t2)
    np.testing.assert_array_equal(alignment.registered["t2"], expected_t2)
    np.testing.assert_array_equal(alignment.brain_mask, mask)
    assert alignment.transforms["t2"]["translation_mm"] == 4.0
    assert window.review.confidence is not None  # the region probabilities came back for the review
    assert not any(w.startswith("NOT CO-REGISTERED") for w in case.warnings)
    assert "NOT CO-REGISTERED" not in window.case_warnings.text
    save_test_screenshot(window.grab(), "raw_study_after_ai.png")
    message = window.statusBar().currentMessage()
    assert message.startswith("AI segmentation (model v1): ")
    assert "; from the cache: t1 0.0° 0.0 mm, t2 0.0° 4.0 mm, flair 0.0° 0.0 mm; brain mask " in message

    out = tmp_path / "export" / "P010_seg.nii.gz"
    out.parent.mkdir()
    job = window.exporter.start_export(out, "brats", dicom_seg=False, add_to_library=False)
    qtbot.waitUntil(lambda: not job.running, timeout=60_000)
    written, reference = nib.load(out), nib.load(folder / NAMES["t1ce"])
    assert written.shape == reference.shape == (120, 136, 30)
    np.testing.assert_allclose(written.affine, reference.affine, atol=1e-5)
    back = read_label_file(out, scheme="brats").array
    np.testing.assert_array_equal(back, state.labels.data)  # re-read onto the case grid: the same labels
    raw = json.loads(out.with_name("P010_seg.json").read_text())["raw_study"]
    assert raw["reference"] == "t1ce" and raw["co_registered"] and raw["steps_from_cache"]
    assert raw["transforms"]["t2"]["translation_mm"] == 4.0
    assert raw["transforms"]["t2"]["matrix_ras"] == np.round(T2_SHIFT, 8).tolist()
    assert raw["steps"] == ["segmentation", "mapping back"] and raw["brain_mask_cm3"] > 0

    seen = []

    def inspect_and_cancel(dialog: ExportDialog) -> int:
        seen.append((dialog.library_check.isEnabled(), dialog.library_note.text(), dialog.add_to_library))
        save_test_screenshot(dialog.grab(), "raw_study_export_dialog.png")
        return ExportDialog.DialogCode.Rejected

    monkeypatch.setattr(ExportDialog, "exec", inspect_and_cancel)
    assert window.exporter.export() is None
    assert seen == [(False, LIBRARY_REFUSAL, False)]
    with pytest.raises(ValueError, match="^a raw scanner study cannot join the training set"):
        window.session.export_request(out, "brats", add_to_library=True)


def test_cancel_and_a_failed_registration_leave_the_case_and_labels_unchanged(
    window, qtbot, tmp_path, errors
) -> None:
    study, _ = lps_study()
    flat = np.full(study.images["t1"].shape, 100.0, dtype=np.float32)
    flat[:10, :10, :3] = 300.0  # a bright block in a corner: no head at all (T1 is registered first)
    study.images["t1"] = Volume(flat, study.images["t1"].affine)
    open_and_wait(window, qtbot, [write_raw_study(tmp_path / "P011", study)])
    state = window.state
    channels = {name: volume.array.copy() for name, volume in state.case.channels.items()}
    alignment = state.alignment
    bundle = make_tiny_bundle(tmp_path / "model", spacing=(4.0, 4.0, 4.0))

    window.segment.bundle_dir = lambda: bundle
    window.segment.cache_dir = lambda: None
    handle = window.segment.run()
    qtbot.waitUntil(lambda: "starting the AI process" in handle.dialog.status_label.text(), timeout=90_000)
    assert handle.dialog.detail_label.text() == (
        f"Raw study P011 onto t1ce.   Model: {bundle.name}   device: auto\n· co-registration\n"
        "· brain extraction\n· resampling\n· segmentation\n· mapping back"
    )
    label = handle.dialog.detail_label
    assert label.height() >= label.heightForWidth(label.width())  # every step's line is shown
    save_test_screenshot(handle.dialog.grab(), "raw_study_progress.png")
    handle.dialog.request_cancel()  # what the dialog's Cancel button does
    qtbot.waitUntil(lambda: not handle.running, timeout=2_000)
    assert window.statusBar().currentMessage() == "AI segmentation cancelled; the labels are unchanged"

    run_ai_and_wait(window, qtbot, bundle, None)
    assert len(errors) == 1
    assert errors[0].startswith("co-registration (t1): ")
    assert errors[0].endswith("\n\nThe open case and its labels are unchanged.")
    assert errors[0].count("\n") == 2
    for name, array in channels.items():
        np.testing.assert_array_equal(state.case.channels[name].array, array)
    assert state.alignment is alignment and not state.labels.data.any()
    assert state.labels.history.undo_names == []


def test_a_bad_raw_study_gets_one_line_and_the_open_case_stays(window, qtbot, tmp_path, monkeypatch) -> None:
    shown: list[str] = []
    monkeypatch.setattr(case_opener, "show_load_error", lambda parent, exc: shown.append(str(exc)))
    folder = write_raw_study(tmp_path / "P012")
    open_and_wait(window, qtbot, [folder])
    opened = window.state.case
    bad = write_raw_study(tmp_path / "P013")
    (bad / NAMES["flair"]).unlink()
    open_and_wait(window, qtbot, [bad])
    assert shown == [
        f"sequence identification (flair): missing in {bad} (found t1, t1ce, t2) — the model needs T1, T1c, "
        "T2 and FLAIR; name each file after its sequence or pass them explicitly"
    ]
    assert window.state.case is opened and window.state.alignment is not None


def test_tcga_fg_6692_opens_on_its_t1c_grid(window, qtbot) -> None:
    if not (TCGA / "raw").is_dir():
        pytest.skip(f"the raw clinical study is not available: {TCGA.resolve()} does not exist")
    open_and_wait(window, qtbot, [TCGA])
    case = window.state.case
    t1c = nib.load(TCGA / "raw" / "t1c.nii.gz")
    assert case.case_id == "TCGA-FG-6692" and case.reference == "t1ce"
    assert case.source_shape == t1c.shape == (256, 224, 26) and case.shape == (256, 224, 26)
    np.testing.assert_allclose(case.source_affine, t1c.affine, atol=1e-6)
    assert case.grid.orientation == "RAS"  # stored LAS: the left-right axis is flipped for viewing
    np.testing.assert_array_equal(case.grid.array, np.asarray(t1c.dataobj, dtype=np.float32)[::-1])
    assert sorted(window.state.alignment.header_only) == ["flair", "t1", "t2"]
    assert case.channels["t2"].shape == case.shape


def test_raw_study_preprocessing_is_a_saved_segment_menu_choice(window) -> None:
    assert window.actions["raw_auto"].isChecked() and not window.segment.runs_raw_pipeline()  # no raw study
    window.actions["raw_raw"].trigger()
    assert window.segment.settings.value("segment/raw_study") == "raw" and window.segment.runs_raw_pipeline()
    window.actions["raw_brats"].trigger()
    assert window.segment.settings.value("segment/raw_study") == "brats"
    assert not window.segment.runs_raw_pipeline() and not window.actions["raw_raw"].isChecked()
    assert window.actions["raw_brats"].text() == "&Never (BraTS-like input)"
