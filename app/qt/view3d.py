"""The 3D view: a pyvistaqt ``QtInteractor`` (the only OpenGL in the app), closed with its window."""

from __future__ import annotations

import logging

from PySide6.QtWidgets import QVBoxLayout, QWidget

logger = logging.getLogger(__name__)


class View3D(QWidget):
    """Hosts the VTK render window; call :meth:`close_interactor` before the window goes away."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from pyvistaqt import QtInteractor

        self.interactor = QtInteractor(self)
        self.interactor.set_background("black")
        self.interactor.add_text("3D", position="upper_left", font_size=10, color="white", name="title")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.interactor)

    def render_frame(self) -> None:
        """Render one frame now."""
        self.interactor.render()

    def close_interactor(self) -> None:
        """Release the VTK render window and its GL context (idempotent)."""
        self.interactor.close()
