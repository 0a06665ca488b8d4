"""The retrain dialog with a stand-in child process: live plot, register, cancel (terminate → kill), resume."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from segmentation_core.registry import DATA_DIR_ENV, ModelRegistry
from tests.core.io_fixtures import write_brats_case
from tests.core.test_registry import make_bundle, snapshot
from tests.jobs.test_retrain_job import fake_command, write_fake_child

pytestmark = pytest.mark.gui
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # noqa: ANN201
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path / "data"))
    registry = ModelRegistry(default_bundle=make_bundle(tmp_path / "default", seed=1))
    library = tmp_path / "data" / "training-library"
    write_brats_case(library / "P1", shape=(16, 16, 16), case_id="P1")
    write_brats_case(library / "P2", shape=(16, 16, 16), case_id="P2", seed=1)
    return registry, write_fake_child(tmp_path)


def make_dialog(qtbot, registry: ModelRegistry, script: Path, epochs: int, evaluate: bool = False):  # noqa: ANN001, ANN201
    from app.qt.retrain_dialog import RetrainDialog

    dialog = RetrainDialog(registry, command=fake_command(script), evaluate=evaluate)
    qtbot.addWidget(dialog)
    dialog.epochs_spin.setValue(epochs)
    dialog.device_combo.setCurrentText("cpu")
    return dialog


def test_run_draws_progress_and_registers_version_two(qtbot, setup) -> None:
    registry, script = setup
    dialog = make_dialog(qtbot, registry, script, epochs=3)
    assert dialog.data_edit.text() == str(registry.dir.parent / "training-library")
    assert dialog.base_combo.currentText() == "v1 (active)"
    with qtbot.waitSignal(dialog.run_finished, timeout=300000) as finished:
        dialog.start()
        assert dialog.running and not dialog.start_button.isEnabled()
    assert finished.args == ["registered"]
    assert dialog.new_version == 2
    version = registry.version(2)
    # two cases, one held out by the run to validate: one training case in the Models dialog's column
    assert (version.base_version, version.data_size, version.source) == (1, 1, "trained")
    model = json.loads((registry.bundle_path(2) / "model.json").read_text())
    base_name = json.loads((registry.bundle_path(1) / "model.json").read_text())["name"]
    assert (model["version"], model["name"]) == ("2", f"{base_name}-finetuned")  # what the status bar shows
    assert registry.active_version == 1
    assert dialog.history.loss == [(1.0, 0.5), (2.0, 1 / 3), (3.0, 0.25)]
    assert [(x, round(y, 6)) for x, y in dialog.history.dice["ET"]] == [(1.0, 0.34), (2.0, 0.38), (3.0, 0.42)]
    assert dialog.bar.value() == 100
    assert "log: starting" in dialog.log_view.toPlainText()
    assert dialog.result_label.text() == "Last validation Dice of the run: WT 0.620, TC 0.520, ET 0.420"
    assert "Registered as model version 2 (based on v1)" in dialog.status_label.text()
    record = json.loads((dialog.request.out_dir / "retrain-run.json").read_text())
    assert record["status"] == "registered" and record["base_version"] == 1
    assert not dialog.resume_button.isEnabled()


def test_cancel_kills_a_stubborn_child_and_keeps_the_registry(qtbot, setup, monkeypatch) -> None:
    registry, script = setup
    monkeypatch.setenv("FAKE_EPOCH_S", "0.4")
    monkeypatch.setenv("FAKE_IGNORE_TERM", "1")  # only kill stops it
    registry.activate(1)
    before = snapshot(registry.dir)
    dialog = make_dialog(qtbot, registry, script, epochs=200)
    dialog.start()
    qtbot.waitUntil(lambda: len(dialog.history.dice["WT"]) >= 1, timeout=300000)
    pid = dialog.process.processId()
    assert pid > 0
    with qtbot.waitSignal(dialog.run_finished, timeout=5000) as finished:  # the 5 s bound
        dialog.cancel()
    assert finished.args == ["cancelled"]
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert snapshot(registry.dir) == before
    out_dir = dialog.request.out_dir
    assert json.loads((out_dir / "retrain-run.json").read_text())["status"] == "cancelled"
    checkpoint_epoch = json.loads((out_dir / "last.pt").read_text())["epoch"]
    assert checkpoint_epoch >= 1
    assert dialog.resume_button.isEnabled()
    assert "Resume last run" in dialog.status_label.text()

    monkeypatch.setenv("FAKE_EPOCH_S", "0.01")
    monkeypatch.delenv("FAKE_IGNORE_TERM")
    with qtbot.waitSignal(dialog.run_finished, timeout=300000) as finished:
        dialog.resume()
        assert dialog.request.resume and dialog.request.out_dir == out_dir
    assert finished.args == ["registered"]
    assert dialog.history.loss[0][0] == checkpoint_epoch + 1  # continued after the checkpoint
    assert registry.version(2).base_version == 1
    assert sorted(p.name for p in registry.bundle_path(2).iterdir()) == ["model.json", "weights.pt"]


def test_fixed_validation_cases_in_the_data_stay_out_of_training(qtbot, setup) -> None:
    registry, script = setup
    library = registry.dir.parent / "training-library"
    registry.set_validation_cases([library / "P2"])
    dialog = make_dialog(qtbot, registry, script, epochs=1, evaluate=True)  # then scores v1 and v2
    with qtbot.waitSignal(dialog.run_finished, timeout=300000):
        dialog.start()
    assert dialog.request.val_cases == ("P2",)
    command = dialog.request.command()
    assert command[command.index("--val-cases") :][:2] == ["--val-cases", "P2"]
    assert registry.version(2).data_size == 1
    assert registry.validation_cases() == [library / "P2"]
    qtbot.waitUntil(lambda: registry.version(2).evaluation is not None, timeout=300000)
    qtbot.waitUntil(lambda: dialog.result_label.text().startswith("Version 2 on"), timeout=10000)
    v2 = registry.version(2)
    cells = "; ".join(
        f"{r} Dice {v2.mean_metric(r, 'dice'):.3f} / HD95 {v2.mean_metric(r, 'hd95'):.1f} mm"
        for r in ("WT", "TC", "ET")
    )
    assert dialog.result_label.text() == f"Version 2 on the validation set (1 case): {cells}"
    assert registry.version(1).evaluation["cases"].keys() == {"P2"}
    assert not dialog.activate_button.isHidden() and dialog.activate_button.text() == "Activate v2"
    dialog.activate_new_version()  # a job: the bundle check loads torch off the GUI thread
    assert dialog.job is not None
    qtbot.waitUntil(lambda: not dialog.job.running, timeout=60000)
    assert registry.active_version == 2
    assert dialog.status_label.text() == "Version 2 is now active: Segment uses it."


def test_failed_run_adds_no_version(qtbot, setup, tmp_path) -> None:
    registry, _ = setup
    crash = tmp_path / "crash.py"
    crash.write_text(
        'import sys\nprint(\'{"event": "error", "error": "out of memory"}\', flush=True)\nsys.exit(3)\n'
    )
    dialog = make_dialog(qtbot, registry, crash, epochs=2)
    with qtbot.waitSignal(dialog.run_finished, timeout=300000) as finished:
        dialog.start()
    assert finished.args == ["failed"]
    assert dialog.status_label.text() == "Training failed: out of memory. No model version was added."
    assert [v.number for v in registry.versions()] == [1]


def test_no_cases_gives_a_clear_message(qtbot, setup, tmp_path) -> None:
    registry, script = setup
    dialog = make_dialog(qtbot, registry, script, epochs=2)
    dialog.data_edit.setText(str(tmp_path / "nothing"))
    dialog.start()
    assert dialog.process is None
    assert dialog.status_label.text().startswith(f"{tmp_path / 'nothing'}: no cases with labels found.")


def colour_count(image, hex_colour: str) -> int:  # noqa: ANN001 (QImage)
    """Pixels of exactly this colour in the image."""
    from PySide6.QtGui import QColor

    target = QColor(hex_colour).rgb()
    return sum(image.pixel(x, y) == target for y in range(image.height()) for x in range(image.width()))


def test_screenshot_shows_the_live_plot(qtbot, setup, tmp_path) -> None:
    """Grab the dialog after a run; the plot holds the loss curve and one curve per region.

    Set SCREENSHOT_DIR to keep the picture (docs/screenshots/retrain-dialog.png is made this way).
    """
    from app.qt.training_plot import LOSS_COLOUR, REGION_COLOURS

    registry, script = setup
    dialog = make_dialog(qtbot, registry, script, epochs=8)
    dialog.show()
    qtbot.waitExposed(dialog)
    with qtbot.waitSignal(dialog.run_finished, timeout=300000):
        dialog.start()
    plot = dialog.plot.grab().toImage()
    empty = dialog.plot.__class__()
    empty.resize(dialog.plot.size())
    blank = empty.grab().toImage()
    for colour in (LOSS_COLOUR, *REGION_COLOURS.values()):
        # Without data only the legend swatch has the colour; each curve adds well over 100 pixels.
        assert colour_count(plot, colour.name()) > colour_count(blank, colour.name()) + 100, colour.name()
    folder = Path(os.environ.get("SCREENSHOT_DIR", tmp_path))
    folder.mkdir(parents=True, exist_ok=True)
    assert dialog.grab().save(str(folder / "retrain-dialog.png"))


def test_cancel_with_the_real_training_cli(qtbot, setup) -> None:
    """The real ``brats-seg train`` child: gone within 5 s of Cancel, registry unchanged, resumable."""
    from app.qt.retrain_dialog import RetrainDialog

    registry, _ = setup
    before = snapshot(registry.dir) if registry.dir.exists() else {}
    dialog = RetrainDialog(
        registry, evaluate=False, extra_args=("--iterations-per-epoch", "1", "--val-every", "0")
    )
    qtbot.addWidget(dialog)
    dialog.epochs_spin.setValue(1000)
    dialog.device_combo.setCurrentText("cpu")
    dialog.start()
    assert dialog.request.command()[1:4] == ["-m", "segmentation_core", "train"]
    qtbot.waitUntil(lambda: dialog.history.epoch >= 1, timeout=300000)
    pid = dialog.process.processId()
    with qtbot.waitSignal(dialog.run_finished, timeout=5000) as finished:
        dialog.cancel()
    assert finished.args == ["cancelled"]
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert (snapshot(registry.dir) if registry.dir.exists() else {}) == before
    assert (dialog.request.out_dir / "last.pt").is_file()
    assert dialog.resume_button.isEnabled()


def test_loss_axis_uses_round_ticks_around_the_data() -> None:
    from app.qt.training_plot import loss_axis

    assert loss_axis([]) == (0.0, 1.0)
    assert loss_axis([1.0, 2.0]) == (0.9, 2.1)  # steps of 0.3
    assert loss_axis([0.05, 1.05]) == (0.0, 1.2)
    assert loss_axis([0.5, 0.5]) == (0.46, 0.54)  # steps of 0.02
    assert loss_axis([1.2331, 1.3006, 1.3520]) == (1.2, 1.36)  # steps of 0.04


def test_tick_labels_differ_between_neighbouring_ticks() -> None:
    from app.qt.training_plot import tick_label

    assert [tick_label(1.2 + 0.05 * i, 0.05) for i in range(3)] == ["1.20", "1.25", "1.30"]
    assert [tick_label(0.25 * i, 0.25) for i in range(5)] == ["0.00", "0.25", "0.50", "0.75", "1.00"]
    assert tick_label(1 / 3, 1 / 30) == "0.333"
    assert tick_label(12.0, 3.0) == "12"


def test_one_case_is_refused_before_any_child_starts(qtbot, setup, tmp_path: Path) -> None:
    registry, script = setup
    dialog = make_dialog(qtbot, registry, script, epochs=1)
    one = tmp_path / "one"
    write_brats_case(one / "P9", shape=(16, 16, 16), case_id="P9")
    dialog.data_edit.setText(str(one))
    dialog.start()
    assert dialog.process is None and not dialog.running
    text = dialog.status_label.text()
    assert text.startswith(f"{one}: one case with labels. Fine-tuning needs at least 2")
    assert "--" not in text


def test_devices_not_present_are_greyed_out(qtbot, setup, monkeypatch) -> None:
    import app.qt.retrain_dialog as retrain_dialog

    monkeypatch.setattr(
        retrain_dialog,
        "device_problems",
        lambda: {"auto": None, "cuda": "no NVIDIA GPU was found", "mps": "only on Macs", "cpu": None},
    )
    registry, script = setup
    dialog = make_dialog(qtbot, registry, script, epochs=1)
    items = [dialog.device_combo.itemText(i) for i in range(dialog.device_combo.count())]
    assert items == ["auto", "cuda — no NVIDIA GPU was found", "cpu"]
    enabled = [dialog.device_combo.model().item(i).isEnabled() for i in range(3)]
    assert enabled == [True, False, True]
    assert dialog.device_combo.currentData() == "cpu"
