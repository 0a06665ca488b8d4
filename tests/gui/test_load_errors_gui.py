"""Opening cases in the real window when the label file is the problem (issue #18): a broken _seg leaves
the images to open, unknown label values ask for the scheme; the progress dialog never cuts its text."""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from PySide6.QtCore import QSettings

import app.qt.case_opener as case_opener
from app.qt.job_dialog import JobProgressDialog
from app.qt.label_scheme_dialog import IMAGES_ONLY, scheme_choices
from app.state.job import JobSnapshot
from tests.core.io_fixtures import write_brats_case
from tests.gui.windows import open_main_window
from tests.screenshots import save_test_screenshot

pytestmark = pytest.mark.gui


@pytest.fixture
def window(qtbot, tmp_path: Path, monkeypatch):
    win = open_main_window(qtbot, tmp_path, monkeypatch)
    win.case_opener.settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    yield win
    win.close()


def open_and_wait(window, qtbot, paths: list[Path]) -> None:
    handle = window.case_opener.open_paths(paths)
    assert handle is not None
    qtbot.waitUntil(lambda: not handle.running, timeout=120_000)


def test_a_broken_seg_opens_the_images_and_says_the_labels_were_not_loaded(window, qtbot, tmp_path) -> None:
    folder = write_brats_case(tmp_path / "Case_B", case_id="Case_B", shape=(24, 24, 24))
    seg = folder / "Case_B_seg.nii.gz"
    seg.write_bytes(seg.read_bytes()[:200])
    open_and_wait(window, qtbot, [folder])
    assert window.state.case is not None and window.state.case.case_id == "Case_B"
    assert window.state.labels is not None and not window.state.labels.data.any()
    message = window.statusBar().currentMessage()
    assert message.startswith("Opened Case_B (no labels).")
    assert "the labels in Case_B_seg.nii.gz were not loaded" in message


def test_unknown_label_values_ask_for_the_scheme(window, qtbot, tmp_path, monkeypatch) -> None:
    folder = write_brats_case(tmp_path / "Case_U", case_id="Case_U", shape=(24, 24, 24))
    seg = folder / "Case_U_seg.nii.gz"
    image = nib.load(seg)
    data = np.zeros(image.shape, np.uint8)
    data[8:12, 8:12, 8:12] = 1
    data[10, 10, 10] = 7
    nib.save(nib.Nifti1Image(data, image.affine), seg)
    asked: list[str] = []
    answers = ["", None]

    def choose(parent, problem: str):
        asked.append(problem)
        return answers.pop(0)

    monkeypatch.setattr(case_opener, "choose_label_scheme", choose)
    open_and_wait(window, qtbot, [folder])
    qtbot.waitUntil(lambda: window.state.case is not None, timeout=60_000)
    qtbot.waitUntil(lambda: not window.case_opener.job.running, timeout=60_000)
    assert len(asked) == 1
    assert asked[0].startswith(f"{seg}: label values [7] are not part of any known scheme")
    assert "explicitly" not in asked[0] and "--" not in asked[0]
    assert window.state.case.case_id == "Case_U" and not window.state.labels.data.any()  # images only
    window.case_opener.reopen_with_scheme()  # File ▸ Reopen with another label scheme…, cancelled
    assert len(asked) == 2 and window.state.case.case_id == "Case_U"


def test_scheme_choices_name_every_file_scheme_and_images_only() -> None:
    assert [key for _, key in scheme_choices()] == ["brats", "brats2023", "msd", ""]
    assert scheme_choices()[-1][0] == IMAGES_ONLY


def test_the_progress_dialog_wraps_instead_of_cutting(qtbot) -> None:
    dialog = JobProgressDialog("Opening Brats18_TCIA10_628_1", "Reading the sequences…")
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    snapshot = JobSnapshot(
        title="Opening",
        done=3,
        total=5,
        message="reading Brats18_TCIA10_628_1_flair.nii.gz",
        elapsed_s=12.3,
        eta_s=75.0,
    )
    dialog.show_snapshot(snapshot)
    qtbot.wait(50)
    label = dialog.status_label
    assert label.text() == snapshot.text and label.text().endswith("left 1:15")
    assert label.height() >= label.heightForWidth(label.width())  # every wrapped line is shown
    assert label.geometry().right() <= dialog.width()
    save_test_screenshot(dialog.grab(), "reading-the-sequences-dialog.png")


def test_recent_cases_are_stored_as_absolute_paths(window, qtbot, tmp_path, monkeypatch) -> None:
    write_brats_case(tmp_path / "data" / "Case_R", case_id="Case_R", shape=(16, 16, 16))
    monkeypatch.chdir(tmp_path / "data")
    open_and_wait(window, qtbot, [Path("..") / "data" / "Case_R"])  # typed relative, as on a command line
    assert window.case_opener.recent()[0] == [str((tmp_path / "data" / "Case_R").resolve())]
