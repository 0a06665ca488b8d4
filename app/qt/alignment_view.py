"""View ▸ Check alignment…: a non-modal dialog in which the radiologist verifies a raw study's co-registration.

One slice of the reference (T1c) against a moving sequence (T1, T2 or FLAIR) as a checkerboard, the
moving image's outline over the reference, or a blend (``app.render.alignment``), before registration
(placed by the header geometry only) or after it, with the brain mask's outline on top, and the
transform's figures (flagged when implausible). The slice follows the viewer's cursor; the slider, the
mouse wheel, Page Up/Down and the arrow keys move that cursor. Pixels keep their physical aspect ratio.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QAction, QColor, QImage, QKeyEvent, QPainter, QPaintEvent, QShowEvent, QWheelEvent
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QRadioButton,
    QSizePolicy,
    QSlider,
    QSpinBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from app.qt.display_panel import SEQUENCE_TITLES
from app.render.alignment import DEFAULT_SQUARE_MM, compose_alignment, transform_figures
from app.render.orientation import PlaneLayout, plane_layout
from app.state.alignment import StudyAlignment
from app.state.viewer_state import ViewerState
from segmentation_core.types import SEQUENCES

NO_RAW_STUDY = "This case was not co-registered by the app: its sequences came on one grid."
NO_CASE = "No case is open."
PLANE_TITLES = {"axial": "Axial", "coronal": "Coronal", "sagittal": "Sagittal"}
MODE_TITLES = {"checkerboard": "Checkerboard", "outline": "Moving outline", "blend": "Blend"}
LEGEND = (
    "Checkerboard: squares alternate between the reference and the moving image; edges should run on "
    "across them. Moving outline: the moving image's edges in cyan over the reference. "
    "Red: the brain mask's outline. ⚠: an implausible registration."
)
LETTER_COLOUR = QColor(255, 200, 40)
PROBLEM_COLOUR = "#d32f2f"
#: Slice steps of the keys (the view's own; Page Up/Down as in the slice views).
STEP_KEYS = {Qt.Key.Key_PageUp: 1, Qt.Key.Key_Up: 1, Qt.Key.Key_PageDown: -1, Qt.Key.Key_Down: -1}


class AlignmentCanvas(QWidget):
    """Draws one composite (RGBA) at its physical aspect ratio; the wheel and keys ask for other slices."""

    stepped = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("alignment_canvas")
        self.setMinimumSize(320, 320)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._rgba: np.ndarray | None = None
        self._image: QImage | None = None
        self._size_mm = (1.0, 1.0)
        self._letters = ("", "", "", "")
        self._caption = ""

    def show_image(
        self, rgba: np.ndarray, size_mm: tuple[float, float], letters: tuple[str, str, str, str], caption: str
    ) -> None:
        """Show ``rgba`` as ``size_mm`` (width, height) millimetres, with edge letters and a caption."""
        self._rgba = np.ascontiguousarray(rgba)
        rows, cols = self._rgba.shape[:2]
        self._image = QImage(self._rgba.data, cols, rows, cols * 4, QImage.Format.Format_RGBA8888)
        self._size_mm, self._letters, self._caption = size_mm, letters, caption
        self.update()

    @property
    def rgba(self) -> np.ndarray | None:
        """The composite shown (None before the first)."""
        return self._rgba

    def image_rect(self) -> QRectF:
        """Where the image is drawn: as large as fits, its width:height that of its millimetres."""
        width_mm, height_mm = self._size_mm
        scale = min((self.width() - 24) / width_mm, (self.height() - 24) / height_mm)
        w, h = width_mm * scale, height_mm * scale
        return QRectF((self.width() - w) / 2, (self.height() - h) / 2, w, h)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt override)
        painter = QPainter(self)
        painter.fillRect(self.rect(), Qt.GlobalColor.black)
        if self._image is None:
            return
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        painter.drawImage(self.image_rect(), self._image)
        box = self.rect().adjusted(6, 4, -6, -4)
        align = Qt.AlignmentFlag
        painter.setPen(LETTER_COLOUR)
        left, right, top, bottom = self._letters
        painter.drawText(box, align.AlignLeft | align.AlignVCenter, left)
        painter.drawText(box, align.AlignRight | align.AlignVCenter, right)
        painter.drawText(box, align.AlignTop | align.AlignHCenter, top)
        painter.drawText(box, align.AlignBottom | align.AlignHCenter, bottom)
        painter.setPen(QColor(220, 220, 220))
        painter.drawText(box, align.AlignTop | align.AlignLeft, self._caption)
        painter.end()

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802 (Qt override)
        steps = round(event.angleDelta().y() / 120)
        if steps:
            self.stepped.emit(steps)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt override)
        step = STEP_KEYS.get(Qt.Key(event.key()))
        if step is None:
            super().keyPressEvent(event)
        else:
            self.stepped.emit(step)


class AlignmentView(QDialog):
    """The "Check alignment" dialog on a ViewerState (non-modal; one per window)."""

    def __init__(self, state: ViewerState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.setObjectName("alignment_view")
        self.setWindowTitle("Check alignment")
        self.setModal(False)
        self.resize(1000, 700)
        self.layout_: PlaneLayout | None = None
        self._build()
        state.case_changed.connect(self._on_study)
        state.alignment_changed.connect(self._on_study)
        state.cursor.changed.connect(self._on_cursor)
        state.display.changed.connect(self._on_display)
        self._on_study()

    # ------------------------------------------------------------------ widgets
    def _build(self) -> None:
        self.plane_combo = QComboBox(objectName="alignment_plane")
        for plane, title in PLANE_TITLES.items():
            self.plane_combo.addItem(title, plane)
        self.sequence_combo = QComboBox(objectName="alignment_sequence")
        self.mode_combo = QComboBox(objectName="alignment_mode")
        for mode, title in MODE_TITLES.items():
            self.mode_combo.addItem(title, mode)
        self.square_spin = QSpinBox(objectName="alignment_square")
        self.square_spin.setRange(2, 100)
        self.square_spin.setSingleStep(2)
        self.square_spin.setSuffix(" mm")
        self.square_spin.setValue(int(DEFAULT_SQUARE_MM))
        self.alpha_slider = QSlider(Qt.Orientation.Horizontal, objectName="alignment_alpha")
        self.alpha_slider.setRange(0, 100)
        self.alpha_slider.setValue(50)
        self.before_button = QRadioButton("Before registration (header geometry only)")
        self.after_button = QRadioButton("After registration")
        self.stage_group = QButtonGroup(self)
        self.stage_group.addButton(self.before_button)
        self.stage_group.addButton(self.after_button)
        self.mask_box = QCheckBox("Brain mask outline", objectName="alignment_mask")
        self.mask_box.setChecked(True)
        self.figures_label = QLabel(objectName="alignment_figures")
        self.figures_label.setTextFormat(Qt.TextFormat.RichText)
        self.figures_label.setWordWrap(True)
        self.slice_slider = QSlider(Qt.Orientation.Horizontal, objectName="alignment_slice")
        self.slice_label = QLabel()
        self.canvas = AlignmentCanvas(self)

        controls = QFormLayout()
        controls.addRow("Plane", self.plane_combo)
        controls.addRow("Moving sequence", self.sequence_combo)
        controls.addRow("Mode", self.mode_combo)
        controls.addRow("Square size", self.square_spin)
        controls.addRow("Blend (reference → moving)", self.alpha_slider)
        controls.addRow(self.before_button)
        controls.addRow(self.after_button)
        controls.addRow(self.mask_box)
        controls.addRow(QLabel("<b>Transform</b>"))
        controls.addRow(self.figures_label)
        legend = QLabel(LEGEND)
        legend.setWordWrap(True)
        legend.setStyleSheet("color: #555")
        controls.addRow(legend)
        side = QWidget()
        side.setLayout(controls)
        side.setMaximumWidth(360)
        slider_row = QHBoxLayout()
        slider_row.addWidget(QLabel("Slice"))
        slider_row.addWidget(self.slice_slider, 1)
        slider_row.addWidget(self.slice_label)
        image_column = QVBoxLayout()
        image_column.addWidget(self.canvas, 1)
        image_column.addLayout(slider_row)
        content = QWidget()
        row = QHBoxLayout(content)
        row.addWidget(side)
        row.addLayout(image_column, 1)
        self.message = QLabel(NO_RAW_STUDY, objectName="alignment_message")
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setWordWrap(True)
        self.pages = QStackedWidget()
        self.pages.addWidget(self.message)
        self.pages.addWidget(content)
        QVBoxLayout(self).addWidget(self.pages)

        self.plane_combo.currentIndexChanged.connect(lambda _index: self._update_layout())
        for signal in (
            self.sequence_combo.currentIndexChanged,
            self.mode_combo.currentIndexChanged,
            self.square_spin.valueChanged,
            self.alpha_slider.valueChanged,
            self.mask_box.toggled,
        ):
            signal.connect(lambda _value: self.refresh())
        self.stage_group.buttonToggled.connect(lambda _button, checked: checked and self.refresh())
        self.slice_slider.valueChanged.connect(self.go_to_slice)
        self.canvas.stepped.connect(self.step)

    # ------------------------------------------------------------------ reading the choices
    @property
    def alignment(self) -> StudyAlignment | None:
        return self.state.alignment if self.state.case is not None else None

    @property
    def plane(self) -> str:
        return str(self.plane_combo.currentData())

    @property
    def sequence(self) -> str | None:
        data = self.sequence_combo.currentData()
        return None if data is None else str(data)

    @property
    def mode(self) -> str:
        return str(self.mode_combo.currentData())

    @property
    def registered(self) -> bool:
        """Whether the moving image is shown after registration (else by header geometry only)."""
        return self.after_button.isChecked()

    @property
    def slice_index(self) -> int:
        assert self.layout_ is not None
        return self.state.cursor.position[self.layout_.slice_axis]

    # ------------------------------------------------------------------ state -> view
    def _on_study(self, _value: object = None) -> None:
        """A case or an alignment came or went: the sequences, stages and mask on offer, then redraw."""
        alignment = self.alignment
        if alignment is None:
            self.message.setText(NO_CASE if self.state.case is None else NO_RAW_STUDY)
            self.pages.setCurrentWidget(self.message)
            self.layout_ = None
            return
        previous = self.sequence
        names = [n for n in SEQUENCES if n in alignment.header_only or n in alignment.registered]
        self.sequence_combo.blockSignals(True)
        self.sequence_combo.clear()
        for name in names:
            flagged = any(f.problem for f in transform_figures(alignment.transforms.get(name, {})))
            self.sequence_combo.addItem(SEQUENCE_TITLES.get(name, name) + (" ⚠" if flagged else ""), name)
        if previous in names:
            self.sequence_combo.setCurrentIndex(names.index(previous))
        elif "flair" in names:
            self.sequence_combo.setCurrentIndex(names.index("flair"))
        self.sequence_combo.blockSignals(False)
        self.after_button.setEnabled(alignment.is_registered)
        self.after_button.setToolTip(
            ""
            if alignment.is_registered
            else "Not co-registered yet: Run AI segmentation registers the sequences"
        )
        self.stage_group.blockSignals(True)
        (self.after_button if alignment.is_registered else self.before_button).setChecked(True)
        self.stage_group.blockSignals(False)
        self.mask_box.setEnabled(alignment.brain_mask is not None)
        self.mask_box.setToolTip(
            "" if alignment.brain_mask is not None else "No brain mask yet (made by the AI run)"
        )
        self.pages.setCurrentIndex(1)
        self._update_layout()

    def _update_layout(self) -> None:
        case = self.state.case
        if case is None or self.alignment is None:
            return
        self.layout_ = plane_layout(self.plane, case.affine, case.shape, self.state.display.convention)
        self.slice_slider.blockSignals(True)
        self.slice_slider.setRange(0, self.layout_.slice_count - 1)
        self.slice_slider.blockSignals(False)
        self.refresh()

    def _on_cursor(self, _voxel: tuple) -> None:
        if self.layout_ is not None:
            self.refresh()

    def _on_display(self, what: str) -> None:
        if what == "convention":
            self._update_layout()
        elif self.layout_ is not None:
            self.refresh()

    def moving_image(self) -> np.ndarray | None:
        """The chosen sequence on the case grid, before or after registration (None: not available)."""
        alignment, name = self.alignment, self.sequence
        if alignment is None or name is None:
            return None
        source = alignment.registered if self.registered else alignment.header_only
        return source.get(name)

    def current_rgba(self) -> np.ndarray | None:
        """The composite of the current choices and slice (None when there is nothing to show)."""
        alignment, layout, moving = self.alignment, self.layout_, self.moving_image()
        if alignment is None or layout is None or moving is None:
            return None
        index, display = self.slice_index, self.state.display
        mask = alignment.brain_mask if self.mask_box.isChecked() else None
        return compose_alignment(
            layout.extract(self.state.image(alignment.reference), index),
            layout.extract(moving, index),
            display.window_level(alignment.reference),
            display.window_level(self.sequence),
            layout.pixel_spacing,
            mode=self.mode,
            square_mm=float(self.square_spin.value()),
            alpha=self.alpha_slider.value() / 100.0,
            brain_mask=None if mask is None else layout.extract(mask, index),
        )

    def refresh(self) -> None:
        """Redraw the composite, the slice controls and the transform figures."""
        if self.layout_ is None:
            return
        self.square_spin.setEnabled(self.mode == "checkerboard")
        self.alpha_slider.setEnabled(self.mode == "blend")
        index = self.slice_index
        self.slice_slider.blockSignals(True)
        self.slice_slider.setValue(index)
        self.slice_slider.blockSignals(False)
        self.slice_label.setText(f"{index + 1}/{self.layout_.slice_count}")
        self.figures_label.setText(self.figures_html())
        rgba = self.current_rgba() if self.isVisible() else None  # closed: no work while the viewer scrolls
        if rgba is None:
            return
        cols, rows = self.layout_.size
        across, down = self.layout_.pixel_spacing
        self.canvas.show_image(rgba, (cols * across, rows * down), self.layout_.letters, self.caption())

    def caption(self) -> str:
        assert self.alignment is not None and self.layout_ is not None
        moving = SEQUENCE_TITLES.get(self.sequence or "", self.sequence or "")
        reference = SEQUENCE_TITLES.get(self.alignment.reference, self.alignment.reference)
        stage = "after registration" if self.registered else "before registration"
        return (
            f"{PLANE_TITLES[self.plane]}  {self.slice_index + 1}/{self.layout_.slice_count}\n"
            f"{moving} {stage} on {reference}"
        )

    def figures_html(self) -> str:
        """The chosen sequence's transform figures, a problem in red after its figure."""
        alignment, name = self.alignment, self.sequence
        if alignment is None or name is None:
            return ""
        figures = transform_figures(alignment.transforms.get(name, {}))
        if not figures:
            return "Not co-registered yet." if not alignment.is_registered else "No transform recorded."
        lines = []
        for figure in figures:
            line = f"{figure.name}: {figure.text}"
            if figure.problem:
                line = f'<span style="color:{PROBLEM_COLOUR}"><b>{line} ⚠ {figure.problem}</b></span>'
            lines.append(line)
        return "<br>".join(lines)

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 (Qt override)
        super().showEvent(event)
        self.refresh()

    # ------------------------------------------------------------------ view -> state
    def go_to_slice(self, index: int) -> None:
        """Move the viewer's cursor to slice ``index`` of this view's plane."""
        if self.layout_ is None:
            return
        position = list(self.state.cursor.position)
        position[self.layout_.slice_axis] = int(index)
        self.state.cursor.set_position(tuple(position))  # type: ignore[arg-type]

    def step(self, delta: int) -> None:
        if self.layout_ is not None:
            self.state.cursor.step(self.layout_.slice_axis, delta)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt override)
        step = STEP_KEYS.get(Qt.Key(event.key()))
        if step is None or self.layout_ is None:
            super().keyPressEvent(event)
        else:
            self.step(step)


class AlignmentLauncher:
    """View ▸ Check alignment…: enabled only while the open case is a raw study; opens one dialog."""

    def __init__(self, state: ViewerState, parent: QWidget) -> None:
        self.state, self.parent = state, parent
        self.view: AlignmentView | None = None

    def bind(self, action: QAction) -> None:
        """Keep ``action`` enabled exactly while the state has an alignment."""

        def follow(_value: object = None) -> None:
            action.setEnabled(self.state.alignment is not None)

        self.state.alignment_changed.connect(follow)
        self.state.case_changed.connect(follow)
        follow()

    def open(self) -> AlignmentView:
        """Show the dialog (made on first use), in front."""
        if self.view is None:
            self.view = AlignmentView(self.state, self.parent)
        self.view.show()
        self.view.raise_()
        self.view.activateWindow()
        return self.view
