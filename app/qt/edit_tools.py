"""The Tools panel: a view of the EditSession's paint settings and its label operations.

Widgets only: every control is bound to ``EditSession.settings`` or calls an EditSession operation;
what the operation reports goes to ``report`` (the status bar, or a warning for errors).
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.qt.binding import bind, bind_field
from app.session import EditOutcome, EditSession
from app.tools import IntensityLimit
from segmentation_core.labels import ED, ET, LABEL_NAMES, NCR
from segmentation_core.types import SEQUENCES

#: The "Paint over" choices: (text, rule), the rule "label:<value>" for "only voxels of that label".
PAINT_OVER_CHOICES = (
    ("Everything", "everything"),
    ("Background only", "background"),
    ("NCR only", f"label:{NCR}"),
    ("ED only", f"label:{ED}"),
    ("ET only", f"label:{ET}"),
)


class ToolPanel(QWidget):
    """Tool options: active label, brush radius and shape, paint-over rule, intensity limit, operations."""

    def __init__(
        self,
        edit: EditSession,
        report: Callable[[EditOutcome], None] = lambda _outcome: None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.edit = edit
        self.report = report
        layout = QVBoxLayout(self)
        layout.addWidget(self._build_paint())
        layout.addWidget(self._build_limit())
        layout.addWidget(self._build_operations())
        layout.addStretch(1)

    def _build_paint(self) -> QGroupBox:
        settings = self.edit.settings
        paint = QGroupBox("Paint", self)
        form = QFormLayout(paint)
        self.label_combo = QComboBox(paint)
        for value, name in LABEL_NAMES.items():
            self.label_combo.addItem(name, value)
        bind_field(self.label_combo, settings, "label")
        form.addRow("Label", self.label_combo)
        self.radius = QDoubleSpinBox(paint, minimum=0.5, maximum=50.0, singleStep=0.5, suffix=" mm")
        self.radius.setKeyboardTracking(False)  # typed values apply on Enter or leaving the box
        bind_field(self.radius, settings, "radius_mm", to_model=float)
        form.addRow("Brush radius", self.radius)
        self.sphere = QCheckBox("3D sphere (else 2D disc)", paint)
        bind_field(self.sphere, settings, "sphere")
        form.addRow(self.sphere)
        self.paint_over = QComboBox(paint)
        for text, data in PAINT_OVER_CHOICES:
            self.paint_over.addItem(text, data)
        bind(
            self.paint_over,
            read=lambda: (
                f"label:{settings.over_label}" if settings.paint_over == "label" else settings.paint_over
            ),
            write=self._set_paint_over,
            changed=settings.events.paint_over,
        )
        form.addRow("Paint over", self.paint_over)
        return paint

    def _set_paint_over(self, choice: str) -> None:
        rule, _, label = choice.partition(":")
        if label:
            self.edit.settings.over_label = int(label)
        self.edit.settings.paint_over = rule

    def _build_limit(self) -> QGroupBox:
        limit = QGroupBox("Intensity-limited brush", self)
        limit.setCheckable(True)
        limit.setChecked(False)
        form = QFormLayout(limit)
        self.limit_group = limit
        self.limit_sequence = QComboBox(limit)
        self.limit_sequence.addItems(list(SEQUENCES))
        self.limit_sequence.setCurrentText("t1ce")
        self.limit_low = QDoubleSpinBox(limit, minimum=-1e6, maximum=1e6, decimals=1)
        self.limit_high = QDoubleSpinBox(limit, minimum=-1e6, maximum=1e6, decimals=1)
        self.limit_high.setValue(1e6)
        form.addRow("Sequence", self.limit_sequence)
        form.addRow("From", self.limit_low)
        form.addRow("To", self.limit_high)
        for spin in (self.limit_low, self.limit_high):
            spin.setKeyboardTracking(False)
            spin.valueChanged.connect(self._limit_changed)
        limit.toggled.connect(self._limit_changed)
        self.limit_sequence.currentTextChanged.connect(self._limit_changed)
        return limit

    def _limit_changed(self, *_args: object) -> None:
        settings = self.edit.settings
        if not self.limit_group.isChecked():
            settings.intensity = None
            return
        low, high = self.limit_low.value(), self.limit_high.value()
        if low <= high:
            settings.intensity = IntensityLimit(self.limit_sequence.currentText(), low, high)

    def _build_operations(self) -> QGroupBox:
        edit = self.edit
        ops = QGroupBox("Operations on the active label", self)
        form = QFormLayout(ops)
        self.island_size = QSpinBox(ops, minimum=1, maximum=100000, value=50, suffix=" voxels")
        self.island_size.setKeyboardTracking(False)
        islands = QPushButton("Remove small islands", ops)
        islands.clicked.connect(lambda: self.report(edit.remove_islands(self.island_size.value())))
        form.addRow(islands, self.island_size)
        self.morph_radius = QDoubleSpinBox(ops, minimum=0.5, maximum=20.0, value=1.0, suffix=" mm")
        self.morph_radius.setKeyboardTracking(False)
        row = QWidget(ops)
        row_layout = QHBoxLayout(row)
        row_layout.setContentsMargins(0, 0, 0, 0)
        for text, operation in (("Dilate", edit.dilate), ("Erode", edit.erode)):
            button = QPushButton(text, row)
            button.clicked.connect(lambda _=False, op=operation: self.report(op(self.morph_radius.value())))
            row_layout.addWidget(button)
        form.addRow(row, self.morph_radius)
        fill = QPushButton("Fill holes", ops)
        fill.clicked.connect(lambda: self.report(edit.fill_holes()))
        form.addRow(fill)
        interpolate = QPushButton("Interpolate between edited slices", ops)
        interpolate.clicked.connect(lambda: self.report(edit.interpolate()))
        form.addRow(interpolate)
        return ops
