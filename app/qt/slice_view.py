"""One slice view (axial, sagittal or coronal): a QImage composed by ``app.render`` plus crosshair and letters.

Mouse: left click/drag moves the linked cursor, wheel or Page Up/Down changes the slice, Ctrl+wheel
zooms about the mouse, middle drag pans, right drag changes window (horizontal) and level (vertical). The image keeps
its physical aspect ratio from the voxel spacing. An editing tool's preview (``tool_preview``) draws the
brush's circle under the mouse and the lasso or polygon outline while it is drawn. No OpenGL: works on
Qt's offscreen platform.
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QEvent, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QImage,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QPolygonF,
    QWheelEvent,
)
from PySide6.QtWidgets import QSizePolicy, QWidget

from app.qt.tool_preview import ToolPreview, preview_for
from app.render.orientation import PlaneLayout, plane_layout
from app.render.slice_image import apply_heat, compose_slice
from app.session import EditOutcome, EditSession
from app.state.display_settings import WindowLevel
from app.state.viewer_state import ViewerState

CROSSHAIR_COLOUR = QColor(80, 160, 255, 200)
LETTER_COLOUR = QColor(255, 200, 40)
#: The brush circle and the lasso/polygon outline while drawing.
PREVIEW_COLOUR = QColor(255, 255, 255, 230)
#: RANO lines: the longest diameter and its perpendicular; end-point handles are this wide (pixels).
MEASURE_LONG = QColor(0, 230, 255)
MEASURE_SHORT = QColor(255, 0, 255)
HANDLE_PX = 8
ZOOM_RANGE = (0.5, 20.0)
ZOOM_STEP = 1.25
#: Right-drag sensitivity: one pixel changes window or level by this fraction of the window at press.
WINDOW_DRAG_FRACTION = 1.0 / 256.0

QT_MODIFIERS = {
    "shift": Qt.KeyboardModifier.ShiftModifier,
    "ctrl": Qt.KeyboardModifier.ControlModifier,
    "alt": Qt.KeyboardModifier.AltModifier,
}


def modifier_names(modifiers: Qt.KeyboardModifier) -> frozenset[str]:
    return frozenset(name for name, flag in QT_MODIFIERS.items() if modifiers & flag)


class SliceView(QWidget):
    """Shows one plane of the state's active sequence and labels through the cursor.

    With an EditSession whose tool is active, the left button edits labels through it.
    """

    #: An edit the session refused (e.g. the intensity limit names a missing sequence).
    edit_failed = Signal(object)  # EditOutcome

    def __init__(
        self, state: ViewerState, plane: str, parent: QWidget | None = None, edit: EditSession | None = None
    ) -> None:
        super().__init__(parent)
        self.state = state
        self.edit = edit
        self.plane = plane
        self.setObjectName(f"view_{plane}")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMinimumSize(200, 200)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.layout_: PlaneLayout | None = None
        self.zoom = 1.0
        self.pan = QPointF(0.0, 0.0)
        #: What the active tool draws over the image (brush circle, outline being drawn).
        self.tool_preview: ToolPreview | None = None
        self.mouse_pos: QPointF | None = None
        self.setMouseTracking(True)  # the brush circle follows the mouse without a button held
        self._rgba: np.ndarray | None = None
        self._qimage: QImage | None = None
        self._image_slice: int | None = None
        self._drag: tuple[Qt.MouseButton, QPointF, object] | None = None
        state.case_changed.connect(self._on_case)
        state.cursor.changed.connect(self._on_cursor)
        state.display.changed.connect(self._on_display)
        state.labels_changed.connect(self._on_labels)
        state.measurements.changed.connect(self._on_measurements)
        self._handle: tuple[int, str, int] | None = None  # a RANO end point being dragged
        if edit is not None:
            edit.tool_changed.connect(self._on_tool)
        self._on_case(state.case)

    # ------------------------------------------------------------------ state -> view
    def _on_case(self, _case: object) -> None:
        self.zoom, self.pan = 1.0, QPointF(0.0, 0.0)
        self._update_layout()

    def _on_tool(self, _key: str) -> None:
        editing = self.edit is not None and self.edit.tool_active
        self.setCursor(Qt.CursorShape.CrossCursor if editing else Qt.CursorShape.ArrowCursor)
        self.tool_preview = None if self.edit is None else preview_for(self.edit.tool, self.edit.settings)
        self.update()

    def _update_layout(self) -> None:
        case = self.state.case
        self.layout_ = (
            None
            if case is None
            else plane_layout(self.plane, case.affine, case.shape, self.state.display.convention)
        )
        self._invalidate()

    def _on_display(self, what: str) -> None:
        if what == "convention":
            self._update_layout()
        else:
            self._invalidate()

    def _on_cursor(self, _voxel: tuple) -> None:
        if self.layout_ is not None and self.slice_index != self._image_slice:
            self._qimage = None
        self.update()

    def _on_labels(self, bbox: tuple) -> None:
        if self.layout_ is None:
            return
        box = bbox[self.layout_.slice_axis]
        if box.start <= self.slice_index < box.stop:
            self._invalidate()

    def _on_measurements(self) -> None:
        self.update()

    def _invalidate(self) -> None:
        self._qimage = None
        self.update()

    # ------------------------------------------------------------------ geometry
    @property
    def slice_index(self) -> int:
        assert self.layout_ is not None
        return self.state.cursor.position[self.layout_.slice_axis]

    def image_rect(self) -> QRectF:
        """Where the slice image is drawn in widget pixels (aspect from spacing, zoom and pan)."""
        if self.layout_ is None:
            return QRectF()
        cols, rows = self.layout_.size
        sx, sy = self.layout_.pixel_spacing
        width_mm, height_mm = cols * sx, rows * sy
        scale = min(self.width() / width_mm, self.height() / height_mm) * self.zoom
        w, h = width_mm * scale, height_mm * scale
        return QRectF((self.width() - w) / 2 + self.pan.x(), (self.height() - h) / 2 + self.pan.y(), w, h)

    def voxel_at(self, pos: QPointF, *, outside: bool = False) -> tuple[int, int, int] | None:
        """The voxel under a widget position on the current slice: None outside the image, unless
        ``outside`` asks for the (out-of-volume) index there, as a tool's drag off the edge needs."""
        if self.layout_ is None:
            return None
        rect = self.image_rect()
        cols, rows = self.layout_.size
        col = math.floor((pos.x() - rect.x()) / rect.width() * cols)
        row = math.floor((pos.y() - rect.y()) / rect.height() * rows)
        if not outside and not (0 <= col < cols and 0 <= row < rows):
            return None
        return self.layout_.voxel_at(col, row, self.slice_index)

    def widget_pos_of(self, voxel: tuple[int, int, int]) -> QPointF:
        """Widget position of the centre of a voxel's projection into this view."""
        assert self.layout_ is not None
        rect = self.image_rect()
        cols, rows = self.layout_.size
        col, row = self.layout_.pixel_of(voxel)
        return QPointF(
            rect.x() + (col + 0.5) * rect.width() / cols, rect.y() + (row + 0.5) * rect.height() / rows
        )

    # ------------------------------------------------------------------ drawing
    def current_rgba(self) -> np.ndarray:
        """The composed RGBA slice (rows, columns, 4) of the current cursor position."""
        assert self.layout_ is not None
        index = self.slice_index
        image = self.layout_.extract(self.state.image(), index)
        labels = self.state.labels
        label_plane = None if labels is None else self.layout_.extract(labels.data, index)
        display = self.state.display
        rgba = compose_slice(image, label_plane, display.window_level(), display.overlay)
        heat, confidence = self.state.uncertainty, display.confidence
        if heat is not None and confidence.show:
            apply_heat(rgba, self.layout_.extract(heat, index), confidence.threshold, confidence.opacity)
        return rgba

    def _ensure_image(self) -> QImage:
        if self._qimage is None:
            self._rgba = np.ascontiguousarray(self.current_rgba())
            rows, cols = self._rgba.shape[:2]
            self._qimage = QImage(self._rgba.data, cols, rows, cols * 4, QImage.Format.Format_RGBA8888)
            self._image_slice = self.slice_index
        return self._qimage

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt override)
        painter = QPainter(self)
        painter.fillRect(self.rect(), Qt.GlobalColor.black)
        if self.layout_ is None:
            painter.setPen(QColor(136, 136, 136))
            painter.drawText(
                self.rect(), Qt.AlignmentFlag.AlignCenter, f"{self.plane.capitalize()}\n(no case open)"
            )
            return
        rect = self.image_rect()
        painter.drawImage(rect, self._ensure_image())
        self._draw_crosshair(painter, rect)
        self._draw_measurements(painter)
        self._draw_text(painter)
        if self.tool_preview is not None:
            self._draw_tool_preview(painter, rect, self.tool_preview)
        painter.end()

    def mm_to_pixels(self) -> float:
        """Widget pixels per millimetre at the current zoom (the same across and down: aspect is kept)."""
        assert self.layout_ is not None
        return self.image_rect().width() / (self.layout_.size[0] * self.layout_.pixel_spacing[0])

    def _draw_tool_preview(self, painter: QPainter, rect: QRectF, preview: ToolPreview) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        if preview.outline is not None:
            plane, vertices = preview.outline()
            if plane == self.plane and vertices and self._on_this_slice(vertices[0]):
                points = [self.widget_pos_of(v) for v in vertices]
                painter.setPen(QPen(PREVIEW_COLOUR, 1.5))
                painter.drawPolyline(QPolygonF(points))
                if preview.rubber_band:
                    for point in points:
                        painter.drawRect(QRectF(point.x() - 2, point.y() - 2, 4, 4))
                    if self.mouse_pos is not None and rect.contains(self.mouse_pos):
                        painter.setPen(QPen(PREVIEW_COLOUR, 1, Qt.PenStyle.DashLine))
                        painter.drawPolyline(QPolygonF([points[-1], self.mouse_pos, points[0]]))
        if (
            preview.brush_radius_mm is not None
            and self.mouse_pos is not None
            and rect.contains(self.mouse_pos)
        ):
            radius = preview.brush_radius_mm() * self.mm_to_pixels()
            painter.setPen(QPen(PREVIEW_COLOUR, 1))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawEllipse(self.mouse_pos, radius, radius)

    def _on_this_slice(self, voxel: tuple[int, int, int]) -> bool:
        assert self.layout_ is not None
        return voxel[self.layout_.slice_axis] == self.slice_index

    def _draw_crosshair(self, painter: QPainter, rect: QRectF) -> None:
        centre = self.widget_pos_of(self.state.cursor.position)
        painter.setPen(QPen(CROSSHAIR_COLOUR, 1))
        painter.drawLine(QPointF(centre.x(), rect.top()), QPointF(centre.x(), rect.bottom()))
        painter.drawLine(QPointF(rect.left(), centre.y()), QPointF(rect.right(), centre.y()))

    def point_pos(self, point: tuple[float, float, float]) -> QPointF:
        """Widget position of a (fractional) voxel-coordinate point on this view's slice."""
        assert self.layout_ is not None
        rect, layout = self.image_rect(), self.layout_
        cols, rows = layout.size
        col, row = point[layout.col_axis], point[layout.row_axis]
        col = cols - 1 - col if layout.flip_col else col
        row = rows - 1 - row if layout.flip_row else row
        return QPointF(
            rect.x() + (col + 0.5) * rect.width() / cols, rect.y() + (row + 0.5) * rect.height() / rows
        )

    def _draw_measurements(self, painter: QPainter) -> None:
        """RANO lines of the enhancing lesions measured on this slice (long cyan, short magenta)."""
        assert self.layout_ is not None
        for m in self.state.measurements.on_slice(self.layout_.slice_axis, self.slice_index):
            for line, colour in (("long", MEASURE_LONG), ("short", MEASURE_SHORT)):
                a, b = (self.point_pos(p) for p in getattr(m, line))
                painter.setPen(QPen(colour, 2))
                painter.drawLine(a, b)
                painter.drawEllipse(a, HANDLE_PX / 2, HANDLE_PX / 2)
                painter.drawEllipse(b, HANDLE_PX / 2, HANDLE_PX / 2)
            painter.setPen(MEASURE_LONG)
            end = self.point_pos(m.long[1])
            painter.drawText(end + QPointF(6, -6), f"ET {m.lesion}: {m.long_mm:.0f} × {m.short_mm:.0f} mm")

    def measurement_handle_at(self, pos: QPointF) -> tuple[int, str, int] | None:
        """(lesion, line, end) of the measurement end point under ``pos`` (within a few pixels)."""
        if self.layout_ is None:
            return None
        for m in self.state.measurements.on_slice(self.layout_.slice_axis, self.slice_index):
            for line in ("long", "short"):
                for end, point in enumerate(getattr(m, line)):
                    delta = self.point_pos(point) - pos
                    if math.hypot(delta.x(), delta.y()) <= HANDLE_PX:
                        return m.lesion, line, end
        return None

    def point_at(self, pos: QPointF) -> tuple[float, float, float]:
        """The (fractional) voxel-coordinate point under a widget position on the current slice."""
        assert self.layout_ is not None
        rect, layout = self.image_rect(), self.layout_
        cols, rows = layout.size
        col = (pos.x() - rect.x()) / rect.width() * cols - 0.5
        row = (pos.y() - rect.y()) / rect.height() * rows - 0.5
        point = [0.0, 0.0, 0.0]
        point[layout.slice_axis] = float(self.slice_index)
        point[layout.col_axis] = cols - 1 - col if layout.flip_col else col
        point[layout.row_axis] = rows - 1 - row if layout.flip_row else row
        return tuple(point)  # type: ignore[return-value]

    def _draw_text(self, painter: QPainter) -> None:
        assert self.layout_ is not None
        left, right, top, bottom = self.layout_.letters
        box = self.rect().adjusted(6, 4, -6, -4)
        painter.setPen(LETTER_COLOUR)
        align = Qt.AlignmentFlag
        painter.drawText(box, align.AlignLeft | align.AlignVCenter, left)
        painter.drawText(box, align.AlignRight | align.AlignVCenter, right)
        painter.drawText(box, align.AlignTop | align.AlignHCenter, top)
        painter.drawText(box, align.AlignBottom | align.AlignHCenter, bottom)
        painter.setPen(QColor(220, 220, 220))
        caption = f"{self.plane.capitalize()}  {self.slice_index + 1}/{self.layout_.slice_count}"
        painter.drawText(
            box, align.AlignTop | align.AlignLeft, f"{caption}\n{self.state.display.sequence.upper()}"
        )

    # ------------------------------------------------------------------ view -> state
    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt override)
        if self.layout_ is None:
            return
        button = event.button()
        start: object = None
        if button == Qt.MouseButton.MiddleButton:
            start = QPointF(self.pan)
        elif button == Qt.MouseButton.RightButton:
            start = self.state.display.window_level()
        if button == Qt.MouseButton.LeftButton and (self.edit is None or not self.edit.tool_active):
            self._handle = self.measurement_handle_at(event.position())
            if self._handle is not None:  # dragging a RANO end point, not the crosshair
                return
        self._drag = (button, event.position(), start)
        if button == Qt.MouseButton.LeftButton:
            self._left(event, "press")

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt override)
        self.mouse_pos = event.position()
        if self.tool_preview is not None:
            self.update()
        if self._handle is not None:
            lesion, line, end = self._handle
            self.state.measurements.move(lesion, line, end, self.point_at(event.position()))
            return
        if self._drag is None:
            return
        button, origin, start = self._drag
        delta = event.position() - origin
        if button == Qt.MouseButton.LeftButton:
            self._left(event, "drag")
        elif button == Qt.MouseButton.MiddleButton:
            self.pan = start + delta  # type: ignore[operator]
            self.update()
        elif button == Qt.MouseButton.RightButton:
            assert isinstance(start, WindowLevel)
            step = start.window * WINDOW_DRAG_FRACTION
            self.state.display.set_window_level(
                WindowLevel(max(start.window + delta.x() * step, step), start.level - delta.y() * step)
            )

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt override)
        self._handle = None
        if self._drag is not None and self._drag[0] == Qt.MouseButton.LeftButton:
            self._left(event, "release")
        self._drag = None

    def leaveEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt override)
        self.mouse_pos = None
        if self.tool_preview is not None:
            self.update()
        super().leaveEvent(event)

    def _left(self, event: QMouseEvent, kind: str) -> None:
        edit = self.edit
        if edit is None or not edit.tool_active:
            voxel = self.voxel_at(event.position())
            if voxel is not None:
                self.state.cursor.set_position(voxel)
            return
        # a drag or release off the image still reaches the tool (it clips), so every stroke ends
        voxel = self.voxel_at(event.position(), outside=kind != "press")
        if voxel is None:
            return
        outcome: EditOutcome | None = getattr(edit, kind)(
            self.plane, voxel, modifier_names(event.modifiers())
        )
        if outcome is not None and outcome.error:
            self.edit_failed.emit(outcome)
        if self.tool_preview is not None:
            self.update()  # the outline grew (or was filled and cleared)

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802 (Qt override)
        if self.layout_ is None:
            return
        steps = round(event.angleDelta().y() / 120)
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self.zoom_about(event.position(), ZOOM_STEP**steps)
        elif steps:
            self.state.cursor.step(self.layout_.slice_axis, steps)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt override)
        steps = {Qt.Key.Key_PageUp: 1, Qt.Key.Key_PageDown: -1}.get(Qt.Key(event.key()))
        if steps is None or self.layout_ is None:
            super().keyPressEvent(event)
            return
        self.state.cursor.step(self.layout_.slice_axis, steps)

    def zoom_about(self, anchor: QPointF, factor: float) -> None:
        """Zoom by ``factor`` (within ZOOM_RANGE) keeping the image point under ``anchor`` where it is."""
        if self.layout_ is None:
            return
        zoom = float(np.clip(self.zoom * factor, *ZOOM_RANGE))
        before = self.image_rect()
        u = (anchor.x() - before.x()) / before.width()
        v = (anchor.y() - before.y()) / before.height()
        scale = zoom / self.zoom
        width, height = before.width() * scale, before.height() * scale
        self.zoom = zoom
        self.pan = QPointF(
            anchor.x() - u * width - (self.width() - width) / 2,
            anchor.y() - v * height - (self.height() - height) / 2,
        )
        self.update()

    def reset_view(self) -> None:
        """Fit the slice to the view again (zoom 1, no pan)."""
        self.zoom, self.pan = 1.0, QPointF(0.0, 0.0)
        self.update()
