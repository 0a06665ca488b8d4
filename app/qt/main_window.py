"""The main window: three slice views and a 3D view in a 2x2 grid, menus and a status bar."""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import QGridLayout, QLabel, QMainWindow, QMenu, QWidget

from app.qt.about import show_about
from app.qt.view3d import View3D

logger = logging.getLogger(__name__)

MENU_TITLES = ("&File", "&Edit", "&Segment", "&Retrain", "&View", "&Help")
PLANES = ("axial", "sagittal", "coronal")


class MainWindow(QMainWindow):
    """Top-level window. Widgets only: state, tools and jobs live in their own layers."""

    def __init__(self) -> None:
        super().__init__()
        self.setWindowTitle("BraTS Viewer")
        self.resize(1400, 1000)
        self.menus: dict[str, QMenu] = {}
        self.slice_views: dict[str, QWidget] = {plane: self._placeholder_view(plane) for plane in PLANES}
        self.view3d = View3D(self)
        self._build_grid()
        self._build_menus()
        self.statusBar().showMessage("No case open: File ▸ Open case…")

    def _placeholder_view(self, plane: str) -> QWidget:
        label = QLabel(f"{plane.capitalize()}\n(no case open)", self)
        label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        label.setStyleSheet("background: black; color: #888;")
        label.setObjectName(f"view_{plane}")
        label.setMinimumSize(200, 200)
        return label

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

    def _build_menus(self) -> None:
        bar = self.menuBar()
        for title in MENU_TITLES:
            self.menus[title.replace("&", "")] = bar.addMenu(title)
        quit_action = QAction("&Quit", self, shortcut=QKeySequence.StandardKey.Quit, triggered=self.close)
        self.menus["File"].addAction(quit_action)
        about = QAction("&About BraTS Viewer", self, triggered=lambda: show_about(self))
        self.menus["Help"].addAction(about)

    def render_all_views(self) -> dict[str, bool]:
        """Render one frame of every view; returns view name -> whether it produced a non-empty image."""
        results: dict[str, bool] = {}
        for plane, view in self.slice_views.items():
            results[plane] = not view.grab().toImage().isNull()
        self.view3d.render_frame()
        results["3d"] = self.view3d.interactor.screenshot(return_img=True).size > 0
        return results

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt override)
        self.view3d.close_interactor()
        super().closeEvent(event)
