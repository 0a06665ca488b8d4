"""The main window: three slice views and a 3D view in a 2x2 grid, the docks, the menus and the status bar.

It owns the state and the two sessions, gives every controller what it needs explicitly (a Shell, the
state, a session) and builds the menus and shortcuts from the one actions table (``app.qt.actions``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent, QPaintEvent
from PySide6.QtWidgets import QApplication, QDockWidget, QGridLayout, QMainWindow, QMessageBox, QWidget

from app.jobs.review import MeasureRequest
from app.jobs.runner import start_job, stop_all_jobs
from app.qt.about import show_about
from app.qt.actions import build_actions
from app.qt.alignment_view import AlignmentLauncher
from app.qt.case_opener import CaseOpener, local_paths
from app.qt.case_warnings import install_case_warnings
from app.qt.cursor_readout import CursorReadout
from app.qt.display_panel import DisplayPanel
from app.qt.dock_fit import fit_tabbed_docks
from app.qt.edit_tools import ToolPanel
from app.qt.export_controller import ExportController
from app.qt.garbage_collector import collect_on_gui_thread
from app.qt.report_controller import ReportController
from app.qt.review_panel import ReviewPanel
from app.qt.segment_controller import DEVICES, RAW_MODES, SegmentController
from app.qt.shell import Shell
from app.qt.slice_view import SliceView
from app.qt.view3d import View3D
from app.qt.volumes_panel import VolumesPanel
from app.render.orientation import PLANES
from app.session import TOOLS, CaseSession, EditOutcome, EditSession, ReviewSession
from app.state.viewer_state import ViewerState
from segmentation_core.labels import LABEL_NAMES
from segmentation_core.types import SEQUENCES

logger = logging.getLogger(__name__)


class MainWindow(QMainWindow):
    """Top-level window. Widgets and wiring only: state, sessions, tools and jobs live in their layers."""

    #: Emitted once, when the window and its child widgets have been painted for the first time.
    first_painted = Signal()

    def __init__(self, state: ViewerState | None = None) -> None:
        super().__init__()
        collect_on_gui_thread(QApplication.instance())  # never destroy Qt/VTK objects in a job's thread
        self._painted = False
        self.setWindowTitle("BraTS Viewer")
        self.resize(1400, 1000)
        self.setAcceptDrops(True)
        self.state = state or ViewerState()
        self.shell = Shell(self, self.statusBar().showMessage, lambda title, text: self.ask(title, text))
        self.session = CaseSession(self.state, ask=self.shell.ask, notify=self.statusBar().showMessage)
        self.edit = EditSession(self.state)
        self.review = ReviewSession(self.state)
        self.session.prediction_applied.connect(self.review.set_prediction)
        self.session.sidecar_extras.append(self.review.sidecar)
        self.review.measure_runner = self._measure_in_background
        self.slice_views: dict[str, SliceView] = {
            plane: SliceView(self.state, plane, self, edit=self.edit) for plane in PLANES
        }
        for view in self.slice_views.values():
            view.edit_failed.connect(self.report)
        self.view3d = View3D(self.state, self)
        self.display_panel = DisplayPanel(self.state, self)
        self.tools_panel = ToolPanel(self.edit, self.report, self)
        self.volumes = VolumesPanel(self)
        self.session.tracker_changed.connect(self.volumes.attach)
        self.case_opener = CaseOpener(
            self.shell, self.state, before_open=lambda: self.session.confirm_discard("Open another case")
        )
        self.case_opener.case_opened.connect(
            lambda case: self.setWindowTitle(f"BraTS Viewer — {case.case_id}")
        )
        self.segment = SegmentController(self.shell, self.state, self.session)
        self.exporter = ExportController(self.shell, self.session)
        self.reporter = ReportController(
            self.shell,
            self.session,
            self.review,
            view3d_picture=lambda: self.view3d.interactor.screenshot(return_img=True),
        )
        self.review_panel = ReviewPanel(self.review, self)
        self.cursor_readout = CursorReadout(self.state, self)
        self.alignment = AlignmentLauncher(self.state, self)
        self._retrain_dialog: QWidget | None = None
        self._build_grid()
        self._build_docks()
        self.actions, self.menus = build_actions(self, self.menuBar(), self._handlers())
        self.menus["File"].insertMenu(self.actions["export"], self.case_opener.recent_menu)
        self.alignment.bind(self.actions["check_alignment"])
        self.menus["View"].addAction(self.display_dock.toggleViewAction())
        self.menus["View"].addAction(self.review_dock.toggleViewAction())
        for view in self.slice_views.values():  # Enter closes a polygon only in the slice views
            view.addAction(self.actions["close_polygon"])
        self._grey_out_absent_devices()
        self._follow_state()
        self.case_warnings = install_case_warnings(self, self.state)
        self.statusBar().addPermanentWidget(self.cursor_readout)
        self.statusBar().showMessage("No case open: File ▸ Open case folder… or File ▸ Open sample case")

    def ask(self, title: str, text: str) -> bool:
        """A yes/no question to the user (tests replace this attribute; a modal box would block them)."""
        return QMessageBox.question(self, title, text) == QMessageBox.StandardButton.Yes

    def report(self, outcome: EditOutcome) -> None:
        """Show what an edit operation did: a status line, or a warning for an error."""
        if outcome.error:
            self.shell.warn("Cannot edit", outcome.text)
        else:
            self.statusBar().showMessage(outcome.text, 5000)

    # ------------------------------------------------------------------ layout
    def _build_grid(self) -> None:
        central = QWidget(self)
        grid = QGridLayout(central)
        grid.setContentsMargins(2, 2, 2, 2)
        grid.setSpacing(2)
        grid.addWidget(self.slice_views["axial"], 0, 0)
        grid.addWidget(self.slice_views["sagittal"], 0, 1)
        grid.addWidget(self.slice_views["coronal"], 1, 0)
        grid.addWidget(self.view3d, 1, 1)
        for index in (0, 1):
            grid.setRowStretch(index, 1)
            grid.setColumnStretch(index, 1)
        self.setCentralWidget(central)

    def _dock(self, title: str, name: str, widget: QWidget) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
        return dock

    def _build_docks(self) -> None:
        self.display_dock = self._dock("Display", "display_dock", self.display_panel)
        self.tools_dock = self._dock("Tools", "tools_dock", self.tools_panel)
        self.volumes_dock = self._dock("Volumes", "volumes_dock", self.volumes)
        self.review_dock = self._dock("Review", "review_dock", self.review_panel)
        self.tabifyDockWidget(self.volumes_dock, self.review_dock)
        self.volumes_dock.raise_()
        # Display and Tools share one place as tabs; the volumes stay visible below them
        self.tabifyDockWidget(self.display_dock, self.tools_dock)
        self.display_dock.raise_()
        fit_tabbed_docks(self, [self.display_dock, self.tools_dock], self.volumes_dock)

    # ------------------------------------------------------------------ actions
    def _handlers(self) -> dict[str, Callable[..., object]]:
        display, edit, opener = self.state.display, self.edit, self.case_opener
        handlers: dict[str, Callable[..., object]] = {
            "open_folder": lambda: opener.ask_folder("Open case folder"),
            "open_files": opener.ask_files,
            "open_dicom": lambda: opener.ask_folder("Open DICOM folder"),
            "open_sample": opener.open_sample,
            "reopen_scheme": opener.reopen_with_scheme,
            "export": self.exporter.export,
            "report": self.reporter.ask_and_write,
            "review_next": self.review.next,
            "review_previous": self.review.previous,
            "review_mark": self.review.mark_reviewed,
            "quit": self.close,
            "undo": lambda: self.report(edit.undo()),
            "redo": lambda: self.report(edit.redo()),
            "close_polygon": edit.finish_polygon,
            "run_ai": self.segment.run,
            "tta": self.segment.set_tta,
            "fine_tune": self.open_retrain_dialog,
            "manage_models": self.open_models_dialog,
            "reset_views": lambda: [view.reset_view() for view in self.slice_views.values()],
            "neurological": lambda on: display.set_convention("neurological" if on else "radiological"),
            "show_labels": lambda on: display.update_overlay(show=on),
            "outline": lambda on: display.update_overlay(outline=on),
            "confidence": lambda on: display.update_confidence(show=on),
            "check_alignment": self.alignment.open,
            "reset_camera": self.view3d.reset_camera,
            "screenshot_3d": self.view3d.screenshot_button.click,
            "about": lambda: show_about(self),
        }
        for key in TOOLS:
            handlers[key] = lambda _on=True, k=key: self.choose_tool(k)
        for value, name in LABEL_NAMES.items():
            handlers[f"label_{name}"] = lambda _on=True, v=value: setattr(edit.settings, "label", v)
        for device in DEVICES:
            handlers[f"device_{device}"] = lambda _on=True, d=device: self.segment.set_device(d)
        for mode in RAW_MODES:
            handlers[f"raw_{mode}"] = lambda _on=True, m=mode: self.segment.set_raw_mode(m)
        for name in SEQUENCES:
            handlers[f"sequence_{name}"] = lambda _on=True, n=name: display.set_sequence(n)
        return handlers

    def _grey_out_absent_devices(self) -> None:
        """Segment ▸ Device: a device this computer lacks is disabled and says why."""
        for device in DEVICES:
            problem = self.segment.device_problems.get(device)
            action = self.actions[f"device_{device}"]
            action.setEnabled(problem is None)
            if problem is not None:
                action.setText(f"{action.text()} — {problem}")

    def _measure_in_background(self, request: MeasureRequest) -> None:
        """The review's lesion table and RANO as a job (the views stay responsive meanwhile)."""
        self._measure_job = start_job(
            MeasureRequest.run,
            request,
            title="Measuring lesions",
            on_result=lambda result: self.review.set_measurements(request, result),
            on_error=lambda exc: self.statusBar().showMessage(f"Measuring the lesions failed: {exc}", 10000),
        )

    def choose_tool(self, key: str) -> None:
        """Activate an editing tool and show its options (the Tools tab)."""
        self.edit.set_tool(key)
        if key != "navigate":
            self.tools_dock.show()
            self.tools_dock.raise_()

    def _follow_state(self) -> None:
        """Keep the checkable actions equal to the state they show."""
        actions, display, settings = self.actions, self.state.display, self.edit.settings

        def check(name: str, on: bool) -> None:
            # not with signals blocked: an exclusive group unchecks the others through them (and the
            # handlers of checkable actions only write the value the state already has)
            if actions[name].isChecked() != on:
                actions[name].setChecked(on)

        def display_changed(_what: str = "") -> None:
            check("neurological", display.convention == "neurological")
            check("show_labels", display.overlay.show)
            check("outline", display.overlay.outline)
            check("confidence", display.confidence.show)
            check(f"sequence_{display.sequence}", True)

        display.changed.connect(display_changed)
        display_changed()
        self.edit.tool_changed.connect(lambda key: check(key, True))
        check(self.edit.active, True)
        settings.events.label.connect(lambda value: check(f"label_{LABEL_NAMES[value]}", True))
        check(f"label_{LABEL_NAMES[settings.label]}", True)
        check(f"device_{self.segment.device}", True)
        check("tta", self.segment.tta)
        check(f"raw_{self.segment.raw_mode}", True)

    def open_retrain_dialog(self) -> QWidget:
        """Show the (modeless) retrain dialog; one per window."""
        from app.qt.retrain_dialog import RetrainDialog

        if self._retrain_dialog is None or not self._retrain_dialog.isVisible():
            self._retrain_dialog = RetrainDialog(parent=self)
        self._retrain_dialog.show()
        self._retrain_dialog.raise_()
        return self._retrain_dialog

    def open_models_dialog(self) -> None:
        """Show Manage models (modal)."""
        from app.qt.models_dialog import ModelsDialog

        ModelsDialog(parent=self).exec()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt override)
        super().paintEvent(event)
        if not self._painted:
            self._painted = True
            QTimer.singleShot(0, self.first_painted.emit)  # after the children of this paint pass

    # ------------------------------------------------------------------ drag and drop
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 (Qt override)
        if local_paths(event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 (Qt override)
        paths = local_paths(event.mimeData().urls())
        if paths:
            event.acceptProposedAction()
            self.case_opener.open_paths(paths)

    # ------------------------------------------------------------------ start, checks and closing
    def offer_recoveries_at_start(self) -> None:
        """After a crash: offer to open the first case with unsaved labels (the session decides)."""
        paths: list[Path] = self.session.recoveries_to_open()
        if paths:
            self.case_opener.open_paths(paths)

    def render_all_views(self) -> dict[str, bool]:
        """Render one frame of every view; returns view name -> whether it produced a non-empty image."""
        results: dict[str, bool] = {}
        for plane, view in self.slice_views.items():
            results[plane] = not view.grab().toImage().isNull()
        self.view3d.render_frame()
        results["3d"] = self.view3d.interactor.screenshot(return_img=True).size > 0
        return results

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt override)
        if not self.session.confirm_discard("Quit"):
            event.ignore()
            return
        if not stop_all_jobs():
            logger.warning("background work still running as the window closes")
        self.view3d.close_interactor()
        super().closeEvent(event)
