"""Editing in the GUI: the tool palette, the Edit menu (undo/redo, tools) and mouse routing to tools.

Widgets only: the tools themselves live in ``app.tools`` and act on the open case's LabelLayer.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QMainWindow,
    QMenu,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.qt.tool_preview import preview_for
from app.state.viewer_state import ViewerState
from app.tools import (
    BrushTool,
    EraserTool,
    FloodFillTool,
    IntensityLimit,
    KeySliceRecorder,
    PaintSettings,
    PolygonTool,
    Tool,
    ToolEvent,
    dilate,
    erode,
    fill_holes,
    interpolate_slices,
    remove_small_islands,
)
from segmentation_core.labels import ED, ET, LABEL_NAMES, NCR
from segmentation_core.types import SEQUENCES

logger = logging.getLogger(__name__)

#: (key, menu text, shortcut, tool factory); "navigate" has no tool: clicks move the crosshair.
TOOLS: tuple[tuple[str, str, str, Callable[..., Tool] | None], ...] = (
    ("navigate", "&Navigate (crosshair)", "N", None),
    ("brush", "&Brush", "B", BrushTool),
    ("eraser", "&Eraser", "E", EraserTool),
    ("fill", "&Flood fill in slice", "F", FloodFillTool),
    ("lasso", "&Lasso fill", "L", lambda *a, **k: PolygonTool(*a, mode="lasso", **k)),
    (
        "polygon",
        "&Polygon fill (click points, Enter closes)",
        "P",
        lambda *a, **k: PolygonTool(*a, mode="polygon", **k),
    ),
)
QT_MODIFIERS = {
    "shift": Qt.KeyboardModifier.ShiftModifier,
    "ctrl": Qt.KeyboardModifier.ControlModifier,
    "alt": Qt.KeyboardModifier.AltModifier,
}


def modifier_names(modifiers: Qt.KeyboardModifier) -> frozenset[str]:
    return frozenset(name for name, flag in QT_MODIFIERS.items() if modifiers & flag)


class EditController(QObject):
    """Owns the paint settings and the active tool; routes slice-view mouse events to it."""

    def __init__(self, window: QMainWindow, state: ViewerState, views: dict[str, QWidget]) -> None:
        super().__init__(window)
        self.window = window
        self.state = state
        self.views = views
        self.settings = PaintSettings()
        self.active = "navigate"
        self.tool: Tool | None = None
        self.recorder: KeySliceRecorder | None = None
        self.last_plane = "axial"
        state.case_changed.connect(self._on_case)

    # ------------------------------------------------------------------ tools
    def set_tool(self, key: str) -> None:
        """Activate a tool by key (see TOOLS); "navigate" gives clicks back to the crosshair."""
        self.finish_polygon()
        self.active = key
        self.tool = self._make_tool(key)
        for plane, view in self.views.items():
            view.tool_handler = None if self.tool is None else self._handler(plane)
            view.tool_preview = preview_for(self.tool, self.settings)
            view.update()
            view.setCursor(Qt.CursorShape.ArrowCursor if self.tool is None else Qt.CursorShape.CrossCursor)

    def _make_tool(self, key: str) -> Tool | None:
        factory = dict((k, f) for k, _, _, f in TOOLS)[key]
        if factory is None or self.state.labels is None or self.state.case is None:
            return None
        images = {name: volume.array for name, volume in self.state.case.channels.items()}
        return factory(self.state.labels, self.settings, images)

    def _handler(self, plane: str) -> Callable[[str, tuple[int, int, int], Qt.KeyboardModifier], None]:
        def handle(kind: str, voxel: tuple[int, int, int], modifiers: Qt.KeyboardModifier) -> None:
            if self.tool is None:
                return
            self.last_plane = plane
            event = ToolEvent(voxel, plane, modifier_names(modifiers), "left")
            try:
                getattr(self.tool, kind)(event)
            except ValueError as exc:  # e.g. intensity limit on a missing sequence
                QMessageBox.warning(self.window, "Cannot paint", str(exc))

        return handle

    def finish_polygon(self) -> int:
        """Close and fill the polygon being drawn (Enter); returns voxels changed."""
        if isinstance(self.tool, PolygonTool) and self.tool.vertices:
            changed = self.tool.finish()
            for view in self.views.values():
                view.update()  # the outline being drawn is gone
            return changed
        return 0

    def _on_case(self, _case: object) -> None:
        if self.recorder is not None:
            self.recorder.close()
        self.recorder = KeySliceRecorder(self.state.labels) if self.state.labels is not None else None
        self.set_tool(self.active)

    # ------------------------------------------------------------------ undo / operations
    def undo(self) -> None:
        if self.state.labels is not None:
            self._report("Undid", self.state.labels.undo())

    def redo(self) -> None:
        if self.state.labels is not None:
            self._report("Redid", self.state.labels.redo())

    def _report(self, verb: str, name: str | None) -> None:
        self.window.statusBar().showMessage(
            f"{verb}: {name}" if name else f"Nothing to {verb.lower()[:-1]}", 3000
        )

    def run_operation(self, name: str, operation: Callable[[], int]) -> int:
        """Run a whole-volume operation (one undo step); reports the voxels changed."""
        if self.state.labels is None:
            self.window.statusBar().showMessage("Open a case first", 3000)
            return 0
        try:
            changed = operation()
        except ValueError as exc:
            QMessageBox.warning(self.window, name, str(exc))
            return 0
        self.window.statusBar().showMessage(f"{name}: {changed} voxels changed", 5000)
        return changed

    def remove_islands(self, min_voxels: int) -> int:
        label = self.settings.label
        return self.run_operation(
            "Remove small islands", lambda: remove_small_islands(self.state.labels, min_voxels, label)
        )

    def fill_holes(self) -> int:
        return self.run_operation("Fill holes", lambda: fill_holes(self.state.labels, self.settings.label))

    def dilate(self, radius_mm: float) -> int:
        return self.run_operation("Dilate", lambda: dilate(self.state.labels, self.settings.label, radius_mm))

    def erode(self, radius_mm: float) -> int:
        return self.run_operation("Erode", lambda: erode(self.state.labels, self.settings.label, radius_mm))

    def interpolate(self) -> int:
        plane, label = self.last_plane, self.settings.label
        keys = self.recorder.slices(plane, label) if self.recorder is not None else None
        return self.run_operation(
            f"Interpolate {LABEL_NAMES[label]} between {plane} slices",
            lambda: interpolate_slices(self.state.labels, plane, label, keys or None),
        )


def install_edit_menu(window: QMainWindow, controller: EditController, menu: QMenu) -> dict[str, QAction]:
    """Undo/Redo and one checkable action per tool (with the shortcuts ITK-SNAP/Slicer users expect)."""
    actions: dict[str, QAction] = {}
    actions["undo"] = QAction(
        "&Undo", window, shortcut=QKeySequence.StandardKey.Undo, triggered=controller.undo
    )
    actions["redo"] = QAction(
        "&Redo", window, shortcut=QKeySequence.StandardKey.Redo, triggered=controller.redo
    )
    menu.addAction(actions["undo"])
    menu.addAction(actions["redo"])
    menu.addSeparator()
    group = QActionGroup(window)
    for key, text, shortcut, _ in TOOLS:
        action = QAction(text, window, checkable=True, shortcut=QKeySequence(shortcut))
        action.setChecked(key == controller.active)
        action.triggered.connect(lambda _checked=False, k=key: controller.set_tool(k))
        group.addAction(action)
        menu.addAction(action)
        actions[key] = action
    actions["close_polygon"] = QAction(
        "&Close polygon",
        window,
        shortcut=QKeySequence(Qt.Key.Key_Return),
        triggered=controller.finish_polygon,
    )
    menu.addAction(actions["close_polygon"])
    menu.addSeparator()
    for label, name in LABEL_NAMES.items():
        action = QAction(f"Active label: {name}", window, shortcut=QKeySequence(f"Ctrl+{label}"))
        action.triggered.connect(lambda _checked=False, v=label: setattr(controller.settings, "label", v))
        menu.addAction(action)
        actions[f"label_{name}"] = action
    return actions


class ToolPanel(QWidget):
    """Tool options: active label, brush radius and shape, paint-over rule, intensity limit, operations."""

    def __init__(self, controller: EditController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        settings = controller.settings
        layout = QVBoxLayout(self)

        paint = QGroupBox("Paint", self)
        form = QFormLayout(paint)
        self.label_combo = QComboBox(paint)
        for value, name in LABEL_NAMES.items():
            self.label_combo.addItem(name, value)
        self.label_combo.currentIndexChanged.connect(
            lambda i: setattr(settings, "label", self.label_combo.itemData(i))
        )
        settings.events.label.connect(
            lambda v: self.label_combo.setCurrentIndex(self.label_combo.findData(v))
        )
        form.addRow("Label", self.label_combo)
        self.radius = QDoubleSpinBox(paint, minimum=0.5, maximum=50.0, singleStep=0.5, suffix=" mm")
        self.radius.setValue(settings.radius_mm)
        self.radius.valueChanged.connect(lambda v: setattr(settings, "radius_mm", float(v)))
        form.addRow("Brush radius", self.radius)
        self.sphere = QCheckBox("3D sphere (else 2D disc)", paint)
        self.sphere.toggled.connect(lambda on: setattr(settings, "sphere", on))
        form.addRow(self.sphere)
        self.paint_over = QComboBox(paint)
        for text, rule, label in (
            ("Everything", "everything", NCR),
            ("Background only", "background", NCR),
            ("NCR only", "label", NCR),
            ("ED only", "label", ED),
            ("ET only", "label", ET),
        ):
            self.paint_over.addItem(text, (rule, label))
        self.paint_over.currentIndexChanged.connect(self._paint_over_changed)
        form.addRow("Paint over", self.paint_over)
        layout.addWidget(paint)

        limit = QGroupBox("Intensity-limited brush", self)
        limit.setCheckable(True)
        limit.setChecked(False)
        limit_form = QFormLayout(limit)
        self.limit_group = limit
        self.limit_sequence = QComboBox(limit)
        self.limit_sequence.addItems(list(SEQUENCES))
        self.limit_sequence.setCurrentText("t1ce")
        self.limit_low = QDoubleSpinBox(limit, minimum=-1e6, maximum=1e6, decimals=1)
        self.limit_high = QDoubleSpinBox(limit, minimum=-1e6, maximum=1e6, decimals=1)
        self.limit_high.setValue(1e6)
        limit_form.addRow("Sequence", self.limit_sequence)
        limit_form.addRow("From", self.limit_low)
        limit_form.addRow("To", self.limit_high)
        for signal in (
            limit.toggled,
            self.limit_sequence.currentTextChanged,
            self.limit_low.valueChanged,
            self.limit_high.valueChanged,
        ):
            signal.connect(self._limit_changed)
        layout.addWidget(limit)

        ops = QGroupBox("Operations on the active label", self)
        ops_layout = QFormLayout(ops)
        self.island_size = QSpinBox(ops, minimum=1, maximum=100000, value=50, suffix=" voxels")
        islands = QPushButton(
            "Remove small islands", ops, clicked=lambda: controller.remove_islands(self.island_size.value())
        )
        ops_layout.addRow(islands, self.island_size)
        self.morph_radius = QDoubleSpinBox(ops, minimum=0.5, maximum=20.0, value=1.0, suffix=" mm")
        row = QWidget(ops)
        row_layout = QHBoxLayout(row)
        row_layout.setContentsMargins(0, 0, 0, 0)
        row_layout.addWidget(
            QPushButton("Dilate", row, clicked=lambda: controller.dilate(self.morph_radius.value()))
        )
        row_layout.addWidget(
            QPushButton("Erode", row, clicked=lambda: controller.erode(self.morph_radius.value()))
        )
        ops_layout.addRow(row, self.morph_radius)
        ops_layout.addRow(QPushButton("Fill holes", ops, clicked=controller.fill_holes))
        ops_layout.addRow(
            QPushButton("Interpolate between edited slices", ops, clicked=controller.interpolate)
        )
        layout.addWidget(ops)
        layout.addStretch(1)

    def _paint_over_changed(self, index: int) -> None:
        rule, label = self.paint_over.itemData(index)
        self.controller.settings.over_label = label
        self.controller.settings.paint_over = rule

    def _limit_changed(self, *_args: object) -> None:
        settings = self.controller.settings
        if not self.limit_group.isChecked():
            settings.intensity = None
            return
        low, high = self.limit_low.value(), self.limit_high.value()
        if low <= high:
            settings.intensity = IntensityLimit(self.limit_sequence.currentText(), low, high)
