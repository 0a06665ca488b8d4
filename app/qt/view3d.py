"""The 3D view: label surfaces, the slice planes at the cursor, orientation axes (R/A/S), an optional
translucent brain surface for context and optional volume rendering.

A pyvistaqt ``QtInteractor`` (the only OpenGL in the app), closed with its window. It is created just
after the window's first paint (pyvista takes about a second to import), or earlier when something needs
it; until then a placeholder says the view is starting. Surfaces are
computed by a job in a worker thread, at most once per ``SURFACE_THROTTLE_MS`` while labels change
(a newer request waits for the running one and then supersedes it); actors change on the GUI thread only.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QColor, QPainter, QPaintEvent
from PySide6.QtOpenGLWidgets import QOpenGLWidget
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QHBoxLayout,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.jobs.runner import JobHandle, start_job
from app.state.viewer_state import ViewerState

if TYPE_CHECKING:
    from app.qt.lazy_interactor import LazyInteractor
    from app.render.scene3d import Scene3D

logger = logging.getLogger(__name__)
SURFACE_THROTTLE_MS = 250
VOLUME_THROTTLE_MS = 300
#: 3D frames wait at least this long, and at least twice the last frame's render time, so a slow
#: (software) OpenGL never takes more than a third of the GUI thread while the cursor moves.
MIN_RENDER_INTERVAL_MS = 50
#: The slice planes span the whole field of view; zoom in past them onto the head.
CAMERA_ZOOM = 1.4


class StartingPlaceholder(QOpenGLWidget):
    """Black, with a note, until the interactor replaces it.

    An OpenGL widget, so that the window composes OpenGL from its first show: adding the first OpenGL
    widget to a window already on screen makes Qt rebuild its compositor, which crashes on some drivers.
    """

    def paintGL(self) -> None:  # noqa: N802 (Qt override)
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor("black"))
        painter.setPen(QColor("#aaaaaa"))
        painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "Starting the 3D view…")
        painter.end()


class View3D(QWidget):
    """Hosts the VTK render window; call :meth:`close_interactor` before the window goes away."""

    def __init__(self, state: ViewerState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self._interactor: LazyInteractor | None = None
        self._scene: Scene3D | None = None
        self._creation_scheduled = False
        self.surface_job: JobHandle | None = None
        self.brain_job: JobHandle | None = None
        self._brain_generation = -1  # the case generation whose brain surface is shown
        self._surfaces_pending = False
        self._camera_pending = False
        self._case_generation = 0
        self._closed = False
        self._surface_timer = self._timer(SURFACE_THROTTLE_MS, self._start_surfaces)
        self._volume_timer = self._timer(VOLUME_THROTTLE_MS, self._update_volume)
        self._render_timer = self._timer(MIN_RENDER_INTERVAL_MS, self.render_frame)
        self.last_render_s = 0.0
        self._build(QVBoxLayout(self))
        state.case_changed.connect(self._on_case)
        state.labels_changed.connect(self._on_labels)
        state.cursor.changed.connect(self._on_cursor)
        state.display.changed.connect(self._on_display)

    def _timer(self, interval_ms: int, slot) -> QTimer:  # noqa: ANN001 (a callable)
        timer = QTimer(self)
        timer.setSingleShot(True)
        timer.setInterval(interval_ms)
        timer.timeout.connect(slot)
        return timer

    def _build(self, layout: QVBoxLayout) -> None:
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        self.placeholder = StartingPlaceholder(self)
        layout.addWidget(self.placeholder, 1)
        bar = QHBoxLayout()
        self.reset_button = QPushButton("Reset camera", self)
        self.reset_button.clicked.connect(self.reset_camera)
        self.screenshot_button = QPushButton("Screenshot…", self)
        self.screenshot_button.clicked.connect(self._ask_screenshot)
        self.volume_box = QCheckBox("Volume rendering", self)
        self.volume_box.setToolTip("Volume-render the active sequence (every 2nd voxel)")
        self.volume_box.toggled.connect(lambda _on: self._update_volume())
        self.brain_box = QCheckBox("Brain surface", self)
        self.brain_box.setToolTip(
            "A translucent brain surface for context (from the brain mask, else from the images)"
        )
        self.brain_box.toggled.connect(lambda _on: self._update_brain())
        for widget in (self.reset_button, self.screenshot_button, self.brain_box, self.volume_box):
            bar.addWidget(widget)
        bar.addStretch(1)
        layout.addLayout(bar)

    # ------------------------------------------------------------------ the interactor, created late
    @property
    def interactor(self) -> LazyInteractor:
        """The VTK interactor, created now if the first paint has not created it yet."""
        if self._interactor is None:
            if self._closed:
                raise RuntimeError("the 3D view has been closed")
            self._create_interactor()
        assert self._interactor is not None
        return self._interactor

    @property
    def scene(self) -> Scene3D:
        """The actors of the 3D view (creates the interactor when needed)."""
        if self._scene is None:
            from app.render.scene3d import Scene3D

            self._scene = Scene3D(self.interactor)
        return self._scene

    @property
    def interactor_created(self) -> bool:
        return self._interactor is not None

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt override)
        """After the first paint of the window, create the interactor (the window is already on screen)."""
        super().paintEvent(event)
        if self._interactor is None and not self._creation_scheduled and not self._closed:
            self._creation_scheduled = True
            QTimer.singleShot(0, self._create_if_open)

    def _create_if_open(self) -> None:
        if self._interactor is None and not self._closed:
            self._create_interactor()

    def _create_interactor(self) -> None:
        from app.qt.lazy_interactor import LazyInteractor

        # every scene change schedules its own render: pyvistaqt's 5 Hz re-render timer would only burn a
        # core on software OpenGL (and slow the AI process) while nothing changes
        interactor = LazyInteractor(self, auto_update=False)
        interactor.set_background("black")
        interactor.ren_win.SetMultiSamples(0)  # MSAA doubles frame time on software OpenGL
        interactor.enable_anti_aliasing("fxaa")
        interactor.add_text("3D", position="upper_left", font_size=10, color="white", name="title")
        # the world is RAS+ millimetres: the axes say which way is right, anterior and superior
        interactor.add_axes(
            xlabel="R",
            ylabel="A",
            zlabel="S",
            color="white",  # the labels (black by default: unseen on the black background)
            line_width=2,
            interactive=False,
            viewport=(0, 0, 0.22, 0.22),
        )
        self._interactor = interactor
        layout = self.layout()
        layout.replaceWidget(self.placeholder, interactor)
        layout.setStretchFactor(interactor, 1)
        self.placeholder.hide()
        self.placeholder.deleteLater()
        interactor.show()
        if self.state.case is not None:
            self._on_case(self.state.case)

    # ------------------------------------------------------------------ state -> scene
    def _on_case(self, case: object) -> None:
        self._case_generation += 1
        if self._interactor is None:
            return  # shown when the interactor is created
        self.scene.clear()
        if case is None:
            self.schedule_render()
            return
        self._on_cursor(self.state.cursor.position)
        self._update_volume()
        self._update_brain()
        self._camera_pending = True
        self.reset_camera()
        self._start_surfaces()

    def _on_labels(self, _bbox: tuple) -> None:
        if not self._surface_timer.isActive():
            self._surface_timer.start()

    def _on_cursor(self, voxel: tuple) -> None:
        case = self.state.case
        if case is not None and self._interactor is not None:
            self.scene.set_planes(case.affine, case.shape, voxel)
            self.schedule_render()

    def _on_display(self, what: str) -> None:
        if self._interactor is None:
            return
        if what == "overlay":
            self.scene.apply_overlay(self.state.display.overlay)
            self.schedule_render()
        elif what in ("sequence", "window_level", "images") and self.volume_box.isChecked():
            self._volume_timer.start()

    def _start_surfaces(self) -> None:
        labels, case = self.state.labels, self.state.case
        if labels is None or case is None or self._closed or self._interactor is None:
            return
        from app.render.surfaces import SurfaceRequest, run_surfaces

        if self.surface_job is not None and self.surface_job.running:
            self._surfaces_pending = True
            return
        self._surfaces_pending = False
        generation = self._case_generation
        request = SurfaceRequest(labels.data.copy(), case.affine)
        self.surface_job = start_job(
            run_surfaces,
            request,
            title="3D surfaces",
            on_result=lambda meshes: self._show_surfaces(meshes, generation),
            on_error=lambda exc: logger.warning("3D surfaces failed: %s", exc),
            on_finished=self._surfaces_finished,
        )

    def _show_surfaces(self, meshes: dict, generation: int) -> None:
        if generation != self._case_generation or self._closed:
            return  # computed for a case that is no longer open
        self.scene.set_surfaces(meshes, self.state.display.overlay)
        if self._camera_pending and meshes:
            self._camera_pending = False
            self.reset_camera()
        self.schedule_render()

    def _surfaces_finished(self) -> None:
        if self._surfaces_pending:
            self._start_surfaces()

    def _update_volume(self) -> None:
        case = self.state.case
        if self._closed or self._interactor is None:
            return
        if case is None or not self.volume_box.isChecked():
            self.scene.set_volume(None)
        else:
            self.scene.set_volume(self.state.image(), case.affine, self.state.display.window_level())
        self.schedule_render()

    def _update_brain(self) -> None:
        """Show the brain surface when asked (computed once per case, in a worker), else hide it."""
        case = self.state.case
        if self._closed or self._interactor is None:
            return
        if case is None or not self.brain_box.isChecked():
            self.scene.set_brain(None)
            self._brain_generation = -1
            self.schedule_render()
            return
        if self._brain_generation == self._case_generation:
            return
        if self.brain_job is not None and self.brain_job.running:
            self.brain_job.cancel()
        from app.render.brain_surface import BrainSurfaceRequest, run_brain_surface

        generation = self._case_generation
        images = {name: volume.array for name, volume in case.channels.items()}
        request = BrainSurfaceRequest(images, case.affine, case.reference)
        self.brain_job = start_job(
            run_brain_surface,
            request,
            title="Brain surface",
            on_result=lambda mesh: self._show_brain(mesh, generation),
            on_error=lambda exc: logger.warning("brain surface failed: %s", exc),
        )

    def _show_brain(self, mesh: object, generation: int) -> None:
        if generation != self._case_generation or self._closed or not self.brain_box.isChecked():
            return
        self._brain_generation = generation
        self.scene.set_brain(mesh)  # type: ignore[arg-type]
        self.schedule_render()

    @property
    def brain_ready(self) -> bool:
        """True when the brain surface is shown, or not wanted."""
        return not self.brain_box.isChecked() or self._brain_generation == self._case_generation

    # ------------------------------------------------------------------ actions
    @property
    def surfaces_ready(self) -> bool:
        """True when no surface computation is running or waiting."""
        idle = self.surface_job is None or not self.surface_job.running
        return idle and not self._surfaces_pending and not self._surface_timer.isActive()

    def reset_camera(self) -> None:
        """Fit the camera to what is shown (surfaces, else the slice planes), seen from front-left-above."""
        self.interactor.view_isometric(render=False)
        self.interactor.reset_camera(render=False)
        self.interactor.renderer.GetActiveCamera().Zoom(CAMERA_ZOOM)  # not .camera: it may render
        self.schedule_render()

    @property
    def render_pending(self) -> bool:
        """True while a scheduled frame has not been drawn yet."""
        return self._render_timer.isActive()

    def schedule_render(self) -> None:
        """Render once, soon: changes until then are drawn together (see MIN_RENDER_INTERVAL_MS)."""
        if not self._closed and not self._render_timer.isActive():
            self._render_timer.start(max(MIN_RENDER_INTERVAL_MS, round(2000 * self.last_render_s)))

    def save_screenshot(self, path: Path | str) -> Path:
        """Write the 3D view to a PNG file."""
        path = Path(path)
        self.render_frame()
        self.interactor.screenshot(str(path))
        return path

    def _ask_screenshot(self) -> None:
        name, _ = QFileDialog.getSaveFileName(self, "Save 3D screenshot", "3d-view.png", "PNG images (*.png)")
        if name:
            self.save_screenshot(name)

    def render_frame(self) -> None:
        """Render one frame now (and remember how long it took)."""
        if not self._closed:
            start = time.perf_counter()
            self.interactor.render()
            self.last_render_s = time.perf_counter() - start

    def close_interactor(self) -> None:
        """Stop pending work and release the VTK render window and its GL context (idempotent)."""
        self._closed = True
        for timer in (self._surface_timer, self._volume_timer, self._render_timer):
            timer.stop()
        for job in (self.surface_job, self.brain_job):
            if job is not None and job.running:
                job.cancel()
        if self._interactor is not None:
            self._interactor.close()
