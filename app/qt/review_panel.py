"""Review panel: the low-confidence queue (Previous/Next jump the crosshair, Mark reviewed), the review
coverage, the lesion table (a click jumps to the lesion) and the RANO sum of products."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSlider,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.session.review_session import ReviewSession

LESION_COLUMNS = ("#", "WT cm³", "ET cm³", "Axial mm", "Side", "Midline mm")


def _fmt(value: float | None, digits: int = 1) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


class ReviewPanel(QWidget):
    """Shows a ReviewSession; its buttons call the session."""

    def __init__(self, review: ReviewSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.review = review
        self.queue_label = QLabel(self)
        self.queue_label.setWordWrap(True)
        self.previous_button = QPushButton("◀ Previous", self, clicked=lambda: review.previous())
        self.next_button = QPushButton("Next ▶", self, clicked=lambda: review.next())
        self.reviewed_button = QPushButton("Mark reviewed", self, clicked=lambda: review.mark_reviewed())
        self.measure_button = QPushButton("Measure again", self, clicked=review.measure)
        self.measure_button.setToolTip("Recompute the lesion table and RANO from the current labels")
        self.lesion_table = QTableWidget(0, len(LESION_COLUMNS), self)
        self.lesion_table.setHorizontalHeaderLabels(list(LESION_COLUMNS))
        self.lesion_table.verticalHeader().hide()
        self.lesion_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.lesion_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.lesion_table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.lesion_table.cellClicked.connect(self._lesion_clicked)
        display = review.state.display
        self.overlay_box = QCheckBox("Show as heat map (C)", self)
        self.overlay_box.toggled.connect(lambda on: display.update_confidence(show=on))
        self.threshold_slider = QSlider(Qt.Orientation.Horizontal, self)
        self.threshold_slider.setRange(5, 100)
        self.threshold_slider.setToolTip("Uncertainty from which voxels are shown (1: probability 0.5 only)")
        self.threshold_slider.valueChanged.connect(lambda v: display.update_confidence(threshold=v / 100))
        self.threshold_label = QLabel(self)
        display.changed.connect(self._on_display)
        self.lesion_summary = QLabel(self)
        self.lesion_summary.setWordWrap(True)
        buttons = QHBoxLayout()
        for button in (self.previous_button, self.next_button, self.reviewed_button):
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("<b>Low-confidence regions</b>", self))
        layout.addWidget(self.queue_label)
        layout.addLayout(buttons)
        overlay = QHBoxLayout()
        overlay.addWidget(self.overlay_box)
        overlay.addWidget(self.threshold_label)
        overlay.addWidget(self.threshold_slider, 1)
        layout.addLayout(overlay)
        layout.addWidget(QLabel("<b>Lesions</b> (click one to go there)", self))
        layout.addWidget(self.lesion_table)
        layout.addWidget(self.lesion_summary)
        layout.addWidget(self.measure_button)
        review.changed.connect(self.refresh)
        self._on_display("confidence")
        self.refresh()

    def _on_display(self, what: str) -> None:
        if what != "confidence":
            return
        confidence = self.review.state.display.confidence
        self.overlay_box.setChecked(confidence.show)
        self.threshold_slider.setValue(round(confidence.threshold * 100))
        self.threshold_label.setText(f"from {confidence.threshold:.2f}")

    def _lesion_clicked(self, row: int, _column: int) -> None:
        item = self.lesion_table.item(row, 0)
        if item is not None:
            self.review.jump_to_lesion(int(item.text()))

    def refresh(self, _what: str = "") -> None:
        queue = self.review.queue
        has_queue = queue is not None and len(queue) > 0
        for button in (self.previous_button, self.next_button, self.reviewed_button):
            button.setEnabled(has_queue)
        self.overlay_box.setEnabled(self.review.state.uncertainty is not None)
        if queue is None:
            self.queue_label.setText("Run the AI segmentation to see where it is unsure.")
        elif not len(queue):
            self.queue_label.setText("No low-confidence regions.")
        else:
            coverage = self.review.coverage() or 0.0
            reviewed = sum(1 for c in queue.clusters if c.reviewed)
            text = (
                f"{len(queue)} regions ({queue.volume_mm3 / 1000:.2f} cm³), {reviewed} marked reviewed; "
                f"{100 * coverage:.0f} % of the volume reviewed (edited voxels count)."
            )
            if 0 <= queue.current < len(queue):
                cluster = queue.clusters[queue.current]
                state = "reviewed" if cluster.reviewed else "not reviewed"
                text += f"\nRegion {queue.current + 1}: {cluster.volume_mm3:.0f} mm³, {state}."
            self.queue_label.setText(text)
        self._fill_lesions()

    def _fill_lesions(self) -> None:
        table, rano = self.review.lesions, self.review.rano
        rows = [] if table is None else table.lesions
        self.lesion_table.setRowCount(len(rows))
        for r, lesion in enumerate(rows):
            d = lesion.diameters
            values = (
                str(lesion.number),
                _fmt(lesion.volumes_cm3["WT"], 2),
                _fmt(lesion.volumes_cm3["ET"], 2),
                f"{d.long_mm:.0f} × {d.short_mm:.0f}",
                lesion.side or "–",
                _fmt(lesion.midline_mm),
            )
            for c, value in enumerate(values):
                self.lesion_table.setItem(r, c, QTableWidgetItem(value))
        if table is None or rano is None:
            self.lesion_summary.setText("")
            return
        focus = "multifocal" if table.multifocal else "unifocal"
        targets = ", ".join(f"ET {m.lesion}: {m.long_mm:.0f} × {m.short_mm:.0f} mm" for m in rano.targets)
        self.lesion_summary.setText(
            f"{table.foci} focus{'es' if table.foci != 1 else ''} ({focus}), laterality "
            f"{table.laterality or 'unknown'}.\nRANO sum of products {rano.sum_of_products_mm2:.0f} mm²"
            + (f" ({targets})" if targets else " (no measurable enhancing lesion)")
        )
