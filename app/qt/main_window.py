"""The main window: three slice views and a 3D view in a 2x2 grid, menus, display panel and status bar.

Each menu group lives in its own module (``case_opener`` for File, ``view_menu`` for View,
``retrain_menu`` for Retrain); this file only assembles them.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QKeySequence, QPaintEvent
from PySide6.QtWidgets import QDockWidget, QGridLayout, QMainWindow, QMenu, QWidget

from app.qt.about import show_about
from app.qt.case_opener import CaseOpener, local_paths
from app.qt.case_warnings import install_case_warnings
from app.qt.cursor_readout import CursorReadout
from app.qt.display_panel import DisplayPanel
from app.qt.retrain_menu import install_retrain_menu
from app.qt.segmentation_ui import SegmentationUI
from app.qt.slice_view import SliceView
from app.qt.view3d import View3D
from app.qt.view_menu import install_view_menu
from app.render.orientation import PLANES
from app.state.viewer_state import ViewerState

logger = logging.getLogger(__name__)

MENU_TITLES = ("&File", "&Edit", "&Segment", "&Retrain", "&View", "&Help")


class MainWindow(QMainWindow):
    """Top-level window. Widgets only: state, tools and jobs live in their own layers."""

    #: Emitted once, when the window and its child widgets have been painted for the first time.
    first_painted = Signal()

    def __init__(self, state: ViewerState | None = None) -> None:
        super().__init__()
        self._painted = False
        self.setWindowTitle("BraTS Viewer")
        self.resize(1400, 1000)
        self.setAcceptDrops(True)
        self.state = state or ViewerState()
        self.menus: dict[str, QMenu] = {}
        self.actions_by_name: dict[str, QAction] = {}
        self.slice_views: dict[str, SliceView] = {
            plane: SliceView(self.state, plane, self) for plane in PLANES
        }
        self.view3d = View3D(self.state, self)
        self.display_panel = DisplayPanel(self.state, self)
        self.display_panel.install_shortcuts(self)
        self.case_opener = CaseOpener(self, self.state)
        self.cursor_readout = CursorReadout(self.state, self)
        self._build_grid()
        self._build_dock()
        self._build_menus()
        self.segmentation = SegmentationUI(self)
        self.case_warnings = install_case_warnings(self, self.state)
        self.case_opener.before_open = lambda: self.segmentation.confirm_discard("Open another case")
        self.statusBar().addPermanentWidget(self.cursor_readout)
        self.statusBar().showMessage("No case open: File ▸ Open case folder… or File ▸ Open sample case")

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

    def _build_dock(self) -> None:
        self.display_dock = QDockWidget("Display", self)
        self.display_dock.setObjectName("display_dock")
        self.display_dock.setWidget(self.display_panel)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.display_dock)

    def _build_menus(self) -> None:
        bar = self.menuBar()
        for title in MENU_TITLES:
            self.menus[title.replace("&", "")] = bar.addMenu(title)
        self.actions_by_name.update(self.case_opener.install(self.menus["File"]))
        self.menus["File"].addSeparator()
        quit_action = QAction("&Quit", self, shortcut=QKeySequence.StandardKey.Quit, triggered=self.close)
        self.menus["File"].addAction(quit_action)
        self.actions_by_name.update(install_view_menu(self, self.menus["View"]))
        self.actions_by_name.update(install_retrain_menu(self, self.menus))
        about = QAction("&About BraTS Viewer", self, triggered=lambda: show_about(self))
        self.menus["Help"].addAction(about)

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

    # ------------------------------------------------------------------ checks and closing
    def render_all_views(self) -> dict[str, bool]:
        """Render one frame of every view; returns view name -> whether it produced a non-empty image."""
        results: dict[str, bool] = {}
        for plane, view in self.slice_views.items():
            results[plane] = not view.grab().toImage().isNull()
        self.view3d.render_frame()
        results["3d"] = self.view3d.interactor.screenshot(return_img=True).size > 0
        return results

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt override)
        if not self.segmentation.confirm_discard("Quit"):
            event.ignore()
            return
        if self.case_opener.job is not None and self.case_opener.job.running:
            self.case_opener.job.cancel()
        self.view3d.close_interactor()
        super().closeEvent(event)
