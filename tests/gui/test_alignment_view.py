"""View ▸ Check alignment… on a synthetic raw study: the composite changes with sequence, mode and stage,
the transform figures (an implausible one flagged), the slice follows and moves the cursor, the pixels
keep their aspect ratio, and the action is enabled only with an alignment."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QAction, QWheelEvent
from PySide6.QtWidgets import QApplication, QWidget

from app.qt.alignment_view import NO_CASE, NO_RAW_STUDY, AlignmentLauncher, AlignmentView
from app.render.alignment import MASK_COLOUR
from app.state.display_settings import WindowLevel
from app.state.viewer_state import ViewerState
from segmentation_core.types import SEQUENCES
from tests.gui.alignment_study import SHAPE, synthetic_study

GREY = WindowLevel.from_range(0.0, 255.0)  # grey value = voxel value


@pytest.fixture
def state() -> ViewerState:
    case, alignment = synthetic_study()
    state = ViewerState()
    state.set_case(case)
    for name in SEQUENCES:
        state.display.set_window_level(GREY, name)
    state.set_alignment(alignment)
    state.cursor.set_position((8, 12, 2))
    return state


@pytest.fixture
def view(qtbot, state: ViewerState) -> AlignmentView:
    view = AlignmentView(state)
    qtbot.addWidget(view)
    return view


def choose(combo, data: str) -> None:
    combo.setCurrentIndex(combo.findData(data))


def shown_values(view: AlignmentView) -> set[int]:
    """Grey values of the current composite (the mask outline left out)."""
    rgba = view.current_rgba()
    assert rgba is not None
    red = (rgba[..., :3] == MASK_COLOUR).all(axis=-1)
    return set(np.unique(rgba[~red, 0]).tolist())


def test_sequence_mode_and_stage_change_the_picture(view: AlignmentView) -> None:
    assert [view.sequence_combo.itemText(i) for i in range(view.sequence_combo.count())] == [
        "T1",
        "T2",
        "FLAIR ⚠",
    ]
    assert view.sequence == "flair" and view.registered and view.mode == "checkerboard"
    choose(view.mode_combo, "blend")
    view.alpha_slider.setValue(100)
    assert shown_values(view) == {202}  # the registered FLAIR
    choose(view.sequence_combo, "t2")
    assert shown_values(view) == {201}
    view.before_button.setChecked(True)
    assert shown_values(view) == {101}  # placed by the header only
    view.alpha_slider.setValue(0)
    reference = {10 * i + 2 for i in range(SHAPE[0])}  # slice k = 2
    assert shown_values(view) == reference
    choose(view.mode_combo, "checkerboard")
    assert shown_values(view) == reference | {101}
    choose(view.mode_combo, "outline")  # a uniform moving image has no edges: the reference alone
    assert shown_values(view) == reference
    assert not view.alpha_slider.isEnabled() and not view.square_spin.isEnabled()


def test_brain_mask_outline_toggles(view: AlignmentView) -> None:
    def red_pixels() -> int:
        rgba = view.current_rgba()
        return int((rgba[..., :3] == MASK_COLOUR).all(axis=-1).sum())

    # axial: mask block 8 (i, 2 mm: 16 display columns) x 12 (j, 1 mm) -> outline 2*16 + 2*10 pixels
    assert red_pixels() == 52
    view.mask_box.setChecked(False)
    assert red_pixels() == 0


def test_transform_figures_and_implausible_flag(view: AlignmentView) -> None:
    text = view.figures_label.text()
    assert "Rotation: 35.5°" in text and "implausible: more than 30°" in text
    assert "Translation: 60.0 mm" in text and "implausible: more than 50 mm" in text
    assert "low: under 0.2" in text and text.count("⚠") == 3
    choose(view.sequence_combo, "t1")
    text = view.figures_label.text()
    assert "Rotation: 1.3°<br>Translation: 2.5 mm<br>Similarity (mutual information): 0.610" == text


def test_slice_follows_the_cursor_and_moves_it(qtbot, view: AlignmentView, state: ViewerState) -> None:
    assert view.slice_slider.value() == 2 and view.slice_label.text() == "3/6"
    before = view.current_rgba()
    state.cursor.set_position((8, 12, 4))
    assert view.slice_slider.value() == 4 and view.slice_label.text() == "5/6"
    assert not np.array_equal(before, view.current_rgba())
    view.slice_slider.setValue(1)
    assert state.cursor.position == (8, 12, 1)
    qtbot.keyClick(view.canvas, Qt.Key.Key_PageUp)
    assert state.cursor.position == (8, 12, 2)
    qtbot.keyClick(view.canvas, Qt.Key.Key_Down)
    assert state.cursor.position == (8, 12, 1)
    wheel = QWheelEvent(
        QPointF(50, 50), QPointF(50, 50), QPoint(0, 0), QPoint(0, 240),
        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False,
    )  # fmt: skip
    QApplication.sendEvent(view.canvas, wheel)
    assert state.cursor.position == (8, 12, 3)
    choose(view.plane_combo, "sagittal")  # slices along i now
    assert view.slice_label.text() == "9/16"
    view.slice_slider.setValue(0)
    assert state.cursor.position == (0, 12, 3)


def test_aspect_ratio_of_anisotropic_pixels(qtbot, view: AlignmentView) -> None:
    view.resize(1000, 700)
    view.show()
    qtbot.waitExposed(view)
    rect = view.canvas.image_rect()
    assert rect.width() / rect.height() == pytest.approx(32 / 24)  # 16 x 2 mm across, 24 x 1 mm down
    choose(view.plane_combo, "coronal")  # 16 x 2 mm across, 6 x 4 mm down
    rect = view.canvas.image_rect()
    assert rect.width() / rect.height() == pytest.approx(32 / 24)
    choose(view.plane_combo, "sagittal")  # 24 x 1 mm across, 6 x 4 mm down
    rect = view.canvas.image_rect()
    assert rect.width() / rect.height() == pytest.approx(24 / 24)


def test_without_a_raw_study_it_says_so(qtbot, state: ViewerState) -> None:
    view = AlignmentView(ViewerState())
    qtbot.addWidget(view)
    assert view.pages.currentWidget() is view.message and view.message.text() == NO_CASE
    view = AlignmentView(state)
    qtbot.addWidget(view)
    assert view.pages.currentIndex() == 1
    state.set_alignment(None)
    assert view.pages.currentWidget() is view.message and view.message.text() == NO_RAW_STUDY
    assert view.current_rgba() is None


def test_before_registration_only_until_the_pipeline_ran(qtbot, state: ViewerState) -> None:
    registered = state.alignment
    state.set_alignment(replace(registered, registered={}, transforms={}, brain_mask=None))
    view = AlignmentView(state)
    qtbot.addWidget(view)
    assert not view.after_button.isEnabled() and view.before_button.isChecked()
    assert not view.mask_box.isEnabled()
    assert view.figures_label.text() == "Not co-registered yet."
    choose(view.mode_combo, "blend")
    view.alpha_slider.setValue(100)
    assert shown_values(view) == {102}
    state.set_alignment(registered)  # the AI run co-registered the study
    assert view.after_button.isEnabled() and view.after_button.isChecked()
    assert shown_values(view) == {202}


def test_action_enabled_only_with_an_alignment(qtbot, state: ViewerState) -> None:
    host = QWidget()
    qtbot.addWidget(host)
    action = QAction("Check alignment…", host)
    launcher = AlignmentLauncher(state, host)
    launcher.bind(action)
    assert action.isEnabled()
    state.set_alignment(None)
    assert not action.isEnabled()
    case, alignment = synthetic_study()
    state.set_case(case)  # a new case drops the alignment
    assert not action.isEnabled()
    state.set_alignment(alignment)
    assert action.isEnabled()
    view = launcher.open()
    assert view.isVisible() and launcher.open() is view  # one dialog, brought to the front
    assert not view.isModal()


def test_canvas_shows_the_composite_only_while_open(qtbot, view: AlignmentView, state: ViewerState) -> None:
    assert view.canvas.rgba is None  # closed: the viewer's scrolling costs nothing here
    view.show()
    qtbot.waitExposed(view)
    shown = view.canvas.rgba.copy()
    assert np.array_equal(shown, view.current_rgba())
    state.cursor.set_position((8, 12, 5))
    assert not np.array_equal(shown, view.canvas.rgba)
    assert np.array_equal(view.canvas.rgba, view.current_rgba())
