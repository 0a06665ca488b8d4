"""Status-bar readout of the cursor: voxel index, world position, the four intensities and the label."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QWidget

from app.qt.display_panel import SEQUENCE_TITLES
from app.state.viewer_state import ViewerState
from segmentation_core.labels import LABEL_NAMES


def readout_text(state: ViewerState) -> str:
    """E.g. ``voxel (120, 96, 70)  RAS (-119.0, 96.0, 70.0) mm  T1 312  T1ce 540  T2 880  FLAIR 402  label ED``."""
    if state.case is None:
        return ""
    i, j, k = state.cursor.position
    x, y, z = state.world_position()
    values = "  ".join(f"{SEQUENCE_TITLES.get(n, n)} {v:g}" for n, v in state.intensities().items())
    label = state.label_at()
    name = LABEL_NAMES.get(label, "background") if label else "background"
    return f"voxel ({i}, {j}, {k})  RAS ({x:.1f}, {y:.1f}, {z:.1f}) mm  {values}  label {name}"


class CursorReadout(QLabel):
    """A permanent status-bar label that follows the cursor, the case and label edits."""

    def __init__(self, state: ViewerState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.setObjectName("cursor_readout")
        state.cursor.changed.connect(self.refresh)
        state.case_changed.connect(self.refresh)
        state.labels_changed.connect(self.refresh)
        self.refresh()

    def refresh(self, *_args: object) -> None:
        self.setText(readout_text(self.state))
