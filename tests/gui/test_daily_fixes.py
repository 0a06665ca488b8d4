"""Rough edges of daily use (issue #18): the training plot after one epoch, Segment ▸ Device greys out
absent devices, GUI errors name menus instead of command-line options, the AI process starts early."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtGui import QImage

from app.jobs.retrain import TrainingHistory
from app.qt.gui_wording import for_the_gui
from app.qt.training_plot import TrainingPlot
from segmentation_core.training.progress import event_from_record
from tests.core.io_fixtures import make_case
from tests.gui.windows import isolate_user_dirs


def _pixels(widget) -> np.ndarray:
    image = widget.grab().toImage().convertToFormat(QImage.Format.Format_RGB888)
    data = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.bytesPerLine())
    return data[:, : image.width() * 3].reshape(image.height(), image.width(), 3)


def test_a_one_epoch_run_draws_points_not_a_filled_plot(qtbot) -> None:
    plot = TrainingPlot()
    qtbot.addWidget(plot)
    plot.resize(560, 380)
    history = TrainingHistory(epochs=1, loss=[(1.0, 0.6)])
    history.dice = {"WT": [(1.0, 0.5)], "TC": [(1.0, 0.4)], "ET": [(1.0, 0.3)]}
    plot.set_history(history)
    pixels = _pixels(plot)
    for top in (0, plot.height() // 2):  # inside each panel, away from the points
        inside = pixels[top + 40 : top + 120, 60:300]
        white = np.all(inside >= 250, axis=-1).mean()
        assert white > 0.9, f"panel at y={top} is filled: {white:.2f} white"


def test_step_losses_are_drawn_before_the_first_epoch_ends(qtbot) -> None:
    plot = TrainingPlot()
    qtbot.addWidget(plot)
    plot.resize(560, 380)
    empty = _pixels(plot).copy()
    history = TrainingHistory(epochs=5, iterations=50)
    for i in range(1, 9):
        history.feed(
            event_from_record(
                {"event": "step", "epoch": 1, "iteration": i, "iterations": 50, "step_loss": 1.0 - 0.05 * i}
            )
        )
    plot.set_history(history)
    changed = np.any(_pixels(plot)[: plot.height() // 2] != empty[: plot.height() // 2], axis=-1)
    assert changed.sum() > 100  # the loss panel shows the steps, not an empty plot


def test_cli_remedies_are_worded_for_the_gui() -> None:
    message = "device 'cuda' requested but no CUDA GPU is available to torch; use --device cpu"
    assert for_the_gui(message) == (
        "device 'cuda' requested but no CUDA GPU is available to torch; choose Segment ▸ Device ▸ CPU"
    )
    label = "seg.nii.gz: unknown label values [7] — pass the right label scheme explicitly, or fix the label values"
    assert "explicitly" not in for_the_gui(label) and "choose the label scheme" in for_the_gui(label)
    assert "--" not in for_the_gui("x.pt: no checkpoint to resume from; start a new run without --resume")


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    import app.qt.segment_controller as segment_controller

    isolate_user_dirs(tmp_path, monkeypatch)
    warmed: list[bool] = []
    monkeypatch.setattr(segment_controller, "warm_up_ai_process", lambda: warmed.append(True))
    monkeypatch.setattr(
        segment_controller,
        "device_problems",
        lambda: {
            "auto": None,
            "cuda": "no NVIDIA GPU was found on this computer",
            "mps": "Macs",
            "cpu": None,
        },
    )
    from app.qt.main_window import MainWindow

    win = MainWindow()
    qtbot.addWidget(win)
    yield win, warmed
    win.close()


@pytest.mark.gui
def test_absent_devices_are_greyed_out_and_a_saved_one_falls_back_to_automatic(window) -> None:
    win, _ = window
    actions, controller = win.actions, win.segment
    assert actions["device_cuda"].text() == "&GPU (CUDA) — no NVIDIA GPU was found on this computer"
    assert not actions["device_cuda"].isEnabled()
    assert actions["device_cpu"].isEnabled() and actions["device_auto"].isEnabled()
    controller.settings.setValue("segment/device", "cuda")  # saved on a machine that had one
    assert controller.device == "auto"
    controller.settings.setValue("segment/device", "cpu")
    assert controller.device == "cpu"
    controller.settings.remove("segment/device")


@pytest.mark.gui
def test_the_ai_process_is_started_once_when_a_case_opens(window) -> None:
    win, warmed = window
    assert warmed == []
    win.state.set_case(make_case((16, 16, 16)))
    win.state.set_case(make_case((16, 16, 16), seed=1))
    assert warmed == [True]
