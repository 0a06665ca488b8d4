"""Check alignment in the real window under Xvfb: the View-menu action opens the dialog on a raw study
(TCGA-FG-6692 built from its reference registrations, or the synthetic study), and screenshots of it
are kept for people to look at."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from app.render.alignment import EDGE_COLOUR, MASK_COLOUR
from tests.gui.alignment_study import TCGA_STUDY, synthetic_study, tcga_study
from tests.gui.windows import open_main_window
from tests.screenshots import save_test_screenshot

pytestmark = pytest.mark.gui


@pytest.fixture
def window(qtbot, tmp_path: Path, monkeypatch):
    win = open_main_window(qtbot, tmp_path, monkeypatch)
    yield win
    win.close()


def test_menu_action_opens_the_dialog_on_a_raw_study(window, qtbot) -> None:
    action = window.actions["check_alignment"]
    assert not action.isEnabled()  # no case
    case, alignment = synthetic_study()
    window.state.set_case(case)
    assert not action.isEnabled()  # a case on one grid
    window.state.set_alignment(alignment)
    assert action.isEnabled()
    action.trigger()
    view = window.alignment.view
    assert view is not None and view.isVisible()
    qtbot.waitExposed(view)
    save_test_screenshot(view.grab(), "check-alignment-synthetic.png")


@pytest.mark.skipif(not TCGA_STUDY.is_dir(), reason=f"raw study not available: {TCGA_STUDY} does not exist")
def test_real_study_screens(window, qtbot) -> None:
    case, alignment = tcga_study()
    window.state.set_case(case)
    window.state.set_alignment(alignment)
    window.actions["check_alignment"].trigger()
    view = window.alignment.view
    qtbot.waitExposed(view)
    view.resize(1100, 720)
    shots = {
        "axial-checkerboard-after": ("axial", "checkerboard", True),
        "axial-checkerboard-before": ("axial", "checkerboard", False),
        "axial-outline-after": ("axial", "outline", True),
        "coronal-outline-before": ("coronal", "outline", False),
        "sagittal-blend-after": ("sagittal", "blend", True),
    }
    for name, (plane, mode, after) in shots.items():
        view.plane_combo.setCurrentIndex(view.plane_combo.findData(plane))
        view.mode_combo.setCurrentIndex(view.mode_combo.findData(mode))
        (view.after_button if after else view.before_button).setChecked(True)
        qtbot.wait(50)
        rgba = view.current_rgba()
        assert (rgba[..., :3] == MASK_COLOUR).all(axis=-1).any()  # the brain mask's outline
        if mode == "outline":
            assert (rgba[..., :3] == EDGE_COLOUR).all(axis=-1).sum() > 500
        save_test_screenshot(view.grab(), f"check-alignment-tcga-{name}.png")
    assert np.isfinite(rgba.astype(float)).all()
