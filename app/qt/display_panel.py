"""Display controls: active sequence (combo, keys 1-4), window/level (spin boxes, presets, auto 1-99 %),
label overlay (per-label colour and visibility, opacity, outline, composite WT/TC/ET) and orientation convention.

Widgets only: every control writes ``ViewerState.display`` and follows its ``changed`` signal.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QCheckBox,
    QColorDialog,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QPushButton,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from app.qt.binding import bind
from app.state.display_settings import CONVENTIONS, PRESETS, WindowLevel
from app.state.viewer_state import ViewerState
from segmentation_core.labels import ED, ET, LABEL_NAMES, NCR
from segmentation_core.types import SEQUENCES

SEQUENCE_TITLES = {"t1": "T1", "t1ce": "T1ce", "t2": "T2", "flair": "FLAIR"}
LABEL_ROWS = (NCR, ED, ET)
REGION_ROWS = ("TC", "WT", "ET")  # composite-mode meaning of the three rows


class DisplayPanel(QWidget):
    """The controls of the display settings of one ViewerState."""

    def __init__(self, state: ViewerState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.display = state.display
        layout = QVBoxLayout(self)
        layout.addWidget(self._build_image_group())
        layout.addWidget(self._build_overlay_group())
        layout.addStretch(1)
        self.display.changed.connect(lambda what: self._sync_rows() if what == "overlay" else None)
        self._sync_rows()

    # ------------------------------------------------------------------ building
    def _build_image_group(self) -> QGroupBox:
        group = QGroupBox("Image", self)
        form = QFormLayout(group)
        self.sequence_combo = QComboBox(group)
        for name in SEQUENCES:
            self.sequence_combo.addItem(SEQUENCE_TITLES[name], name)
        display = self.display
        bind(
            self.sequence_combo,
            read=lambda: display.sequence,
            write=display.set_sequence,
            changed=display.changed,
        )
        form.addRow("Sequence (1–4)", self.sequence_combo)
        self.window_spin, self.level_spin = QDoubleSpinBox(group), QDoubleSpinBox(group)
        for spin in (self.window_spin, self.level_spin):
            spin.setRange(-1e7, 1e7)
            spin.setDecimals(1)
            spin.setKeyboardTracking(False)  # a typed value applies on Enter or leaving the box
        self.window_spin.setMinimum(0.1)
        bind(
            self.window_spin,
            read=lambda: display.window_level().window,
            write=lambda w: display.set_window_level(WindowLevel(w, display.window_level().level)),
            changed=display.changed,
        )
        bind(
            self.level_spin,
            read=lambda: display.window_level().level,
            write=lambda lv: display.set_window_level(WindowLevel(display.window_level().window, lv)),
            changed=display.changed,
        )
        form.addRow("Window", self.window_spin)
        form.addRow("Level", self.level_spin)
        self.preset_combo = QComboBox(group)
        self.preset_combo.addItems(list(PRESETS))
        self.preset_combo.activated.connect(lambda i: self.apply_preset(self.preset_combo.itemText(i)))
        self.auto_button = QPushButton("Auto 1–99 %", group)
        self.auto_button.clicked.connect(lambda: self.apply_preset(next(iter(PRESETS))))
        row = QHBoxLayout()
        row.addWidget(self.preset_combo, 1)
        row.addWidget(self.auto_button)
        form.addRow("Preset", row)
        self.convention_combo = QComboBox(group)
        for name in CONVENTIONS:
            self.convention_combo.addItem(name.capitalize(), name)
        bind(
            self.convention_combo,
            read=lambda: display.convention,
            write=display.set_convention,
            changed=display.changed,
        )
        form.addRow("Orientation", self.convention_combo)
        return group

    def _build_overlay_group(self) -> QGroupBox:
        group = QGroupBox("Labels", self)
        form = QFormLayout(group)
        display = self.display
        self.show_box = QCheckBox("Show labels", group)
        self.bind_overlay(self.show_box, "show")
        form.addRow(self.show_box)
        self.row_boxes: list[QCheckBox] = []
        self.colour_buttons: list[QPushButton] = []
        for row in range(3):
            box, button = QCheckBox(group), QPushButton(group)
            button.setFixedWidth(48)
            box.toggled.connect(lambda on, r=row: self._set_row_visible(r, on))
            button.clicked.connect(lambda _=False, r=row: self._choose_colour(r))
            self.row_boxes.append(box)
            self.colour_buttons.append(button)
            form.addRow(box, button)
        self.opacity_slider = QSlider(Qt.Orientation.Horizontal, group)
        self.opacity_slider.setRange(0, 100)
        bind(
            self.opacity_slider,
            read=lambda: round(display.overlay.opacity * 100),
            write=lambda v: display.update_overlay(opacity=v / 100),
            changed=display.changed,
        )
        form.addRow("Opacity", self.opacity_slider)
        self.outline_box = QCheckBox("Outline only", group)
        self.bind_overlay(self.outline_box, "outline")
        self.composite_box = QCheckBox("Regions WT / TC / ET", group)
        self.bind_overlay(self.composite_box, "composite")
        form.addRow(self.outline_box)
        form.addRow(self.composite_box)
        return group

    # ------------------------------------------------------------------ widgets <-> state
    def bind_overlay(self, box: QCheckBox, name: str) -> None:
        """Bind a check box to a boolean field of the overlay settings."""
        bind(
            box,
            read=lambda: getattr(self.display.overlay, name),
            write=lambda on: self.display.update_overlay(**{name: on}),
            changed=self.display.changed,
        )

    def apply_preset(self, name: str) -> None:
        """Window the active sequence to a percentile preset (needs an open case)."""
        if self.state.case is not None:
            self.state.auto_window(None, *PRESETS[name])

    def _set_row_visible(self, row: int, visible: bool) -> None:
        if self.display.overlay.composite:
            self.display.set_region_visible(REGION_ROWS[row], visible)
        else:
            self.display.set_label_visible(LABEL_ROWS[row], visible)

    def _choose_colour(self, row: int) -> None:
        current = QColor(*self._row_colour(row))
        colour = QColorDialog.getColor(current, self, "Label colour")
        if colour.isValid():
            self.set_row_colour(row, (colour.red(), colour.green(), colour.blue()))

    def set_row_colour(self, row: int, rgb: tuple[int, int, int]) -> None:
        """Colour of a label (or, in composite mode, a region)."""
        overlay = self.display.overlay
        if overlay.composite:
            regions = dict(overlay.region_colours) | {REGION_ROWS[row]: rgb}
            self.display.update_overlay(region_colours=tuple(regions.items()))
        else:
            self.display.set_label_colour(LABEL_ROWS[row], rgb)

    def _row_colour(self, row: int) -> tuple[int, int, int]:
        overlay = self.display.overlay
        return (
            overlay.region_colour(REGION_ROWS[row]) if overlay.composite else overlay.colour(LABEL_ROWS[row])
        )

    def _sync_rows(self) -> None:
        """The three label (or region) rows: names, visibility and colours follow the overlay."""
        overlay = self.display.overlay
        for row, (box, button) in enumerate(zip(self.row_boxes, self.colour_buttons)):
            if overlay.composite:
                name, visible = REGION_ROWS[row], dict(overlay.region_visible)[REGION_ROWS[row]]
            else:
                name, visible = LABEL_NAMES[LABEL_ROWS[row]], dict(overlay.visible)[LABEL_ROWS[row]]
            box.setText(name)
            blocked = box.blockSignals(True)
            box.setChecked(visible)
            box.blockSignals(blocked)
            r, g, b = self._row_colour(row)
            button.setStyleSheet(f"background-color: rgb({r}, {g}, {b});")
