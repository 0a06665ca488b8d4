"""Menu entries of the retraining feature: Retrain ▸ Fine-tune… and Retrain ▸ Manage models…."""

from __future__ import annotations

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QWidget


def open_retrain_dialog(window: QWidget) -> None:
    """Show the (modeless) retrain dialog; one per window."""
    from app.qt.retrain_dialog import RetrainDialog

    dialog = getattr(window, "_retrain_dialog", None)
    if dialog is None or not dialog.isVisible():
        dialog = RetrainDialog(parent=window)
        window._retrain_dialog = dialog
    dialog.show()
    dialog.raise_()


def open_models_dialog(window: QWidget) -> None:
    """Show Manage models (modal)."""
    from app.qt.models_dialog import ModelsDialog

    ModelsDialog(parent=window).exec()


def install_retrain_menu(window: QWidget, menus: dict[str, QMenu]) -> dict[str, QAction]:
    """Add the retraining entries to ``menus["Retrain"]``; returns the actions by name."""
    menu = menus["Retrain"]
    fine_tune = QAction("&Fine-tune on my corrected cases…", window)
    fine_tune.triggered.connect(lambda: open_retrain_dialog(window))
    manage = QAction("&Manage models…", window)
    manage.triggered.connect(lambda: open_models_dialog(window))
    menu.addAction(fine_tune)
    menu.addSeparator()
    menu.addAction(manage)
    return {"fine_tune": fine_tune, "manage_models": manage}
