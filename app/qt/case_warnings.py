"""A persistent warning bar at the top of the window for the open case's warnings.

Mis-aligned grids, blank or flat sequences, resampling and missing orientation stay visible for as
long as the case is open (a status-bar note vanishes after seconds). The bar hides when the case
has no warnings; "Hide" hides it until the next case.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QMainWindow, QPushButton, QSizePolicy, QToolBar, QWidget

from app.state.viewer_state import ViewerState
from segmentation_core.types import Case

STYLE = "background: #fff3cd; color: #5c4400; padding: 4px;"


class CaseWarningBar(QToolBar):
    """Lists the warnings of the open case (one line each); ``text`` is what it shows."""

    def __init__(self, state: ViewerState, parent: QWidget | None = None) -> None:
        super().__init__("Case warnings", parent)
        self.setObjectName("case_warnings")
        self.setMovable(False)
        self.setFloatable(False)
        box = QWidget(self)
        box.setStyleSheet(STYLE)
        layout = QHBoxLayout(box)
        layout.setContentsMargins(6, 2, 6, 2)
        self.label = QLabel(box)
        self.label.setWordWrap(True)
        self.label.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Minimum)
        self.label.setMinimumWidth(900)  # word wrap sizes the bar for this width, not for a narrow label
        box.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Maximum)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.label, 1)
        layout.addWidget(QPushButton("Hide", box, clicked=self.hide))
        self.addWidget(box)
        state.case_changed.connect(self.show_case)
        # a raw study's warnings change when the AI co-registers its sequences
        state.alignment_changed.connect(lambda _alignment: self.show_case(state.case))
        self.show_case(state.case)

    @property
    def text(self) -> str:
        return self.label.text()

    def show_case(self, case: Case | None) -> None:
        """Show ``case``'s warnings (misalignment first), or hide the bar when it has none."""
        warnings = sorted(case.warnings if case is not None else [], key=lambda w: "MISALIGNED" not in w)
        self.label.setText("\n".join(f"⚠ {w}" for w in warnings))
        self.setVisible(bool(warnings))


def install_case_warnings(window: QMainWindow, state: ViewerState) -> CaseWarningBar:
    """Add the warning bar above the views of ``window``."""
    bar = CaseWarningBar(state, window)
    window.addToolBar(Qt.ToolBarArea.TopToolBarArea, bar)
    return bar
