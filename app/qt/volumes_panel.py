"""Volumes panel: NCR/ED/ET and WT/TC in cm³, live while editing, and the correction effort vs the AI."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QHeaderView, QLabel, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget

from app.state.edit_stats import EditTracker

ROWS = ("NCR", "ED", "ET", "WT", "TC")
COLUMNS = ("cm³", "Added", "Removed")
COLUMN_TIPS = ("Current volume", "Voxels added since the AI result", "Voxels removed since the AI result")
REFRESH_MS = 100  # repaint at most ten times a second while painting


class VolumesPanel(QWidget):
    """Shows the EditTracker of the open case; refreshes shortly after each edit."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tracker: EditTracker | None = None
        self.table = QTableWidget(len(ROWS), len(COLUMNS), self)
        self.table.setVerticalHeaderLabels(list(ROWS))
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        for column, tip in enumerate(COLUMN_TIPS):
            self.table.horizontalHeaderItem(column).setToolTip(tip)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        rows = self.table.verticalHeader().length() + self.table.horizontalHeader().height()
        self.table.setFixedHeight(rows + 2 * self.table.frameWidth())  # exactly its rows: no white gap
        self.summary = QLabel("No case open", self)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(self.summary)
        layout.addStretch(1)  # spare height goes below everything
        self.timer = QTimer(self, singleShot=True, interval=REFRESH_MS, timeout=self.refresh)

    def attach(self, tracker: EditTracker | None) -> None:
        if self.tracker is not None:
            self.tracker.changed.disconnect(self._schedule)
        self.tracker = tracker
        if tracker is not None:
            tracker.changed.connect(self._schedule)
        self.refresh()

    def _schedule(self) -> None:
        self.timer.start()

    def cell(self, row: str, column: int) -> str:
        item = self.table.item(ROWS.index(row), column)
        return "" if item is None else item.text()

    def refresh(self) -> None:
        if self.tracker is None:
            for r in range(len(ROWS)):
                for c in range(len(COLUMNS)):
                    self.table.setItem(r, c, QTableWidgetItem(""))
            self.summary.setText("No case open")
            return
        volumes = self.tracker.volumes_cm3
        stats = self.tracker.stats
        for r, name in enumerate(ROWS):
            self.table.setItem(r, 0, QTableWidgetItem(f"{volumes[name]:.2f}"))
            self.table.setItem(r, 1, QTableWidgetItem(str(stats.added[name]) if name in stats.added else "–"))
            self.table.setItem(
                r, 2, QTableWidgetItem(str(stats.removed[name]) if name in stats.removed else "–")
            )
        changed_cm3 = stats.changed_voxels * stats.voxel_volume_cm3
        self.summary.setText(
            f"Correction effort: {stats.changed_voxels} voxels changed ({changed_cm3:.2f} cm³)"
        )
