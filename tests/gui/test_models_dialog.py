"""Manage models: the version table and its actions, and the Retrain menu entries."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from segmentation_core.registry import DATA_DIR_ENV, ModelRegistry
from tests.core.test_registry import make_bundle, snapshot

pytestmark = pytest.mark.gui
EVALUATION = {
    "validation_set": "abc",
    "cases": {"A": {}, "B": {}},
    "mean": {
        "WT": {"dice": 0.91234, "hd95": 4.26},
        "TC": {"dice": 0.8, "hd95": 7.0},
        "ET": {"dice": 0.755, "hd95": 12.34},
    },
}


@pytest.fixture
def registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ModelRegistry:
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path / "data"))
    registry = ModelRegistry(default_bundle=make_bundle(tmp_path / "default", seed=1))
    registry.register(make_bundle(tmp_path / "r2", seed=2), base_version=1, data_size=5)
    registry.record_evaluation(2, EVALUATION)
    return registry


@pytest.fixture
def dialog(qtbot, registry):  # noqa: ANN001, ANN201
    from app.qt.models_dialog import ModelsDialog

    dlg = ModelsDialog(registry)
    qtbot.addWidget(dlg)
    return dlg


def table(dialog) -> list[list[str]]:  # noqa: ANN001
    return [
        [dialog.table.item(r, c).text() for c in range(dialog.table.columnCount())]
        for r in range(dialog.table.rowCount())
    ]


def test_table_shows_versions_with_metrics_side_by_side(dialog, registry) -> None:
    from app.qt.models_dialog import COLUMNS

    assert COLUMNS == [
        "Version", "Active", "Created", "Source", "Base", "Cases",
        "Dice WT", "Dice TC", "Dice ET", "HD95 WT (mm)", "HD95 TC (mm)", "HD95 ET (mm)",
    ]  # fmt: skip
    rows = table(dialog)
    assert rows[0] == ["v1", "●", "bundled", "bundled", "", "", "–", "–", "–", "–", "–", "–"]
    created = registry.version(2).created.replace("T", " ")[:16]
    assert rows[1] == [
        "v2",
        "",
        created,
        "trained",
        "v1",
        "5",
        "0.912",
        "0.800",
        "0.755",
        "4.3",
        "7.0",
        "12.3",
    ]
    assert dialog.selected_version() == 1
    assert not dialog.buttons["activate"].isEnabled() and not dialog.buttons["delete"].isEnabled()


def test_activate_roll_back_and_delete(dialog, registry, qtbot) -> None:
    dialog.select_version(2)
    assert dialog.buttons["activate"].isEnabled() and dialog.buttons["delete"].isEnabled()
    with qtbot.waitSignal(dialog.job_finished), qtbot.waitSignal(dialog.active_changed) as changed:
        assert dialog.activate_selected() is not None  # a job: the GUI thread never loads the network
        assert not dialog.buttons["activate"].isEnabled() and not dialog.buttons["cancel"].isHidden()
    assert changed.args == [2] and registry.active_version == 2
    assert [row[1] for row in table(dialog)] == ["", "●"]
    assert not dialog.buttons["delete"].isEnabled()
    dialog.delete_selected(confirm=False)  # the active version: refused with the reason shown
    assert "version 2 is the active model" in dialog.message_label.text()
    with qtbot.waitSignal(dialog.job_finished), qtbot.waitSignal(dialog.active_changed) as changed:
        dialog.roll_back()
    assert changed.args == [1] and registry.active_version == 1
    assert dialog.message_label.text() == "Rolled back: version 1 is active again."
    dialog.select_version(2)
    dialog.delete_selected(confirm=False)
    assert [row[0] for row in table(dialog)] == ["v1"]
    assert dialog.message_label.text() == "Version 2 deleted."


def import_and_wait(dialog, qtbot, path: Path) -> None:  # noqa: ANN001
    with qtbot.waitSignal(dialog.job_finished, timeout=60000):
        assert dialog.import_from(path) is not None


def test_export_and_import_zip(dialog, registry, tmp_path, qtbot) -> None:
    dialog.select_version(2)
    path = dialog.export_selected(tmp_path / "v2.zip")
    assert path == tmp_path / "v2.zip" and zipfile.is_zipfile(path)
    import_and_wait(dialog, qtbot, path)
    assert dialog.message_label.text() == "Imported v2.zip as version 3 (not active yet)."
    assert [row[0] for row in table(dialog)] == ["v1", "v2", "v3"]
    assert dialog.selected_version() == 3
    before = snapshot(registry.dir)
    foreign = tmp_path / "foreign.zip"
    with zipfile.ZipFile(foreign, "w") as archive:
        archive.writestr("photo.jpg", b"...")
    import_and_wait(dialog, qtbot, foreign)
    assert "not a brats-viewer model" in dialog.message_label.text()
    assert snapshot(registry.dir) == before
    assert len(table(dialog)) == 3


def test_choose_validation_folder(dialog, registry, tmp_path) -> None:
    from tests.core.io_fixtures import write_brats_case

    write_brats_case(tmp_path / "val" / "V1", shape=(8, 8, 8), case_id="V1")
    dialog.set_validation_folder(tmp_path / "val")
    assert registry.validation_cases() == [tmp_path / "val" / "V1"]
    assert dialog.validation_label.text() == "Validation set: 1 case (V1)"
    assert table(dialog)[1][6] == "–"  # old evaluations dropped
    dialog.set_validation_folder(tmp_path / "empty")
    assert "is not a folder" in dialog.message_label.text()


def test_evaluation_is_a_job_with_progress_and_cancel(dialog, registry, qtbot, monkeypatch) -> None:
    """Evaluate runs off the GUI thread, reports each case and stops on Cancel (issue #17 bug 5)."""
    import threading

    import segmentation_core.registry as registry_module
    from segmentation_core.types import Progress

    started, gui = threading.Event(), threading.get_ident()
    threads: list[int] = []

    def slow_evaluate(reg, device="cpu", progress=None, cancel=None):  # noqa: ANN001, ANN202
        threads.append(threading.get_ident())
        for index in range(1000):
            progress(Progress(index, 1000, f"evaluating case {index}"))
            started.set()
            cancel.raise_if_cancelled()
            threading.Event().wait(0.01)
        return [2]

    monkeypatch.setattr(registry_module, "evaluate_missing", slow_evaluate)
    registry.set_validation_cases([registry.dir])  # any folder: the evaluation itself is faked
    dialog.refresh()
    assert dialog.buttons["cancel"].isHidden()
    assert dialog.evaluate_missing() is not None
    qtbot.waitUntil(lambda: "Evaluate: evaluating case" in dialog.message_label.text(), timeout=10000)
    assert threads and threads[0] != gui
    with qtbot.waitSignal(dialog.job_finished, timeout=10000):
        dialog.buttons["cancel"].click()
    assert dialog.message_label.text() == "Evaluate cancelled."
    assert dialog.buttons["evaluate"].isEnabled()


def test_menu_entries_in_the_retrain_menu(qtbot, registry) -> None:
    from app.qt.main_window import MainWindow

    window = MainWindow()
    qtbot.addWidget(window)
    texts = [a.text() for a in window.menus["Retrain"].actions() if not a.isSeparator()]
    assert texts == ["&Fine-tune on my corrected cases…", "&Manage models…"]
    window.actions["fine_tune"].trigger()
    dialog = window._retrain_dialog
    assert dialog.isVisible() and dialog.registry.dir == registry.dir
    window.actions["fine_tune"].trigger()
    assert window._retrain_dialog is dialog  # one per window
    dialog.close()
    window.close()


def test_activate_loads_the_network_off_the_gui_thread(dialog, registry, qtbot, monkeypatch) -> None:
    """Issue #17 bug 5: Activate checks the bundle (torch, ~2 s) in a job, never on the GUI thread."""
    import threading

    from segmentation_core.registry import bundle_check

    threads: list[int] = []
    check = bundle_check.check_bundle

    def recording_check(folder):  # noqa: ANN001, ANN202
        threads.append(threading.get_ident())
        return check(folder)

    monkeypatch.setattr("segmentation_core.registry.store.check_bundle", recording_check)
    dialog.select_version(2)
    with qtbot.waitSignal(dialog.job_finished, timeout=60000):
        dialog.activate_selected()
    assert registry.active_version == 2
    assert threads and threading.get_ident() not in threads
