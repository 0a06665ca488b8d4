"""What a controller may use of the main window: a parent for dialogs, the status line, yes/no questions.

Controllers get a Shell instead of the window, so none of them reads attributes off the main window.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtWidgets import QMessageBox, QWidget


@dataclass(frozen=True)
class Shell:
    parent: QWidget
    #: Show a status-bar message for ``timeout_ms`` (0: until replaced).
    status: Callable[[str, int], None]
    #: Ask a yes/no question; True for yes (the window's ``ask``, which tests replace).
    ask: Callable[[str, str], bool]

    def error(self, title: str, text: str) -> None:
        QMessageBox.critical(self.parent, title, text)

    def warn(self, title: str, text: str) -> None:
        QMessageBox.warning(self.parent, title, text)

    def inform(self, title: str, text: str) -> None:
        QMessageBox.information(self.parent, title, text)
