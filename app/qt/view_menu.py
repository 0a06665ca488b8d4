"""View menu: reset the slice views, orientation convention, overlay toggles, 3D camera and screenshot."""

from __future__ import annotations

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMainWindow, QMenu

from app.qt.slice_view import SliceView
from app.qt.view3d import View3D
from app.state.viewer_state import ViewerState


def install_view_menu(window: QMainWindow, menu: QMenu) -> dict[str, QAction]:
    """Fill ``menu`` for a window with ``state``, ``slice_views``, ``view3d`` and ``display_dock``."""
    state: ViewerState = window.state
    views: dict[str, SliceView] = window.slice_views
    view3d: View3D = window.view3d
    display = state.display

    reset = QAction("&Reset slice views (zoom and pan)", window)
    reset.triggered.connect(lambda: [view.reset_view() for view in views.values()])
    neuro = QAction("&Neurological convention (patient left on the left)", window, checkable=True)
    neuro.toggled.connect(lambda on: display.set_convention("neurological" if on else "radiological"))
    display.changed.connect(lambda what: neuro.setChecked(display.convention == "neurological"))
    labels = QAction("Show &labels", window, checkable=True, checked=display.overlay.show, shortcut="L")
    labels.toggled.connect(lambda on: display.update_overlay(show=on))
    outline = QAction(
        "Label &outlines", window, checkable=True, checked=display.overlay.outline, shortcut="O"
    )
    outline.toggled.connect(lambda on: display.update_overlay(outline=on))

    def follow_overlay(what: str) -> None:
        if what == "overlay":
            labels.setChecked(display.overlay.show)
            outline.setChecked(display.overlay.outline)

    display.changed.connect(follow_overlay)
    camera = QAction("Reset 3D &camera", window)
    camera.triggered.connect(view3d.reset_camera)
    shot = QAction("Save 3D &screenshot…", window)
    shot.triggered.connect(view3d.screenshot_button.click)
    actions = {
        "reset_views": reset,
        "neurological": neuro,
        "show_labels": labels,
        "outline": outline,
        "reset_camera": camera,
        "screenshot_3d": shot,
    }
    for name, action in actions.items():
        menu.addAction(action)
        if name in ("neurological", "outline"):
            menu.addSeparator()
    menu.addAction(window.display_dock.toggleViewAction())
    return actions
