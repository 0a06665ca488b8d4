"""A pyvistaqt ``QtInteractor`` that repaints the GL widget without re-rendering the scene.

Imported only when the 3D view is created: pyvista and pyvistaqt take about a second to import.
"""

from __future__ import annotations

from pyvistaqt import QtInteractor


class LazyInteractor(QtInteractor):
    """A QtInteractor whose paint only re-blits VTK's last frame unless a render is due.

    pyvistaqt renders the scene on every ``paintGL``; Qt repaints the GL widget whenever any widget
    of the window repaints, so each crosshair move in a slice view would cost a full 3D render
    (hundreds of ms on software OpenGL). Scene changes here always call ``render()`` explicitly,
    and VTK's own renders (camera interaction) are blitted by the paint that follows them.
    """

    _render_due = True

    def initializeGL(self) -> None:  # noqa: N802 (Qt override)
        self._render_due = True
        super().initializeGL()

    def resizeGL(self, w: int, h: int) -> None:  # noqa: N802 (Qt override)
        self._render_due = True
        super().resizeGL(w, h)

    def Render(self) -> None:  # noqa: N802 (VTK adapter API)
        self._render_due = True
        super().Render()

    def paintGL(self) -> None:  # noqa: N802 (Qt override)
        if self._render_due:
            self._render_due = False
            super().paintGL()
            return
        self._in_paint = True  # the base class then skips its render and only blits
        try:
            super().paintGL()
        finally:
            self._in_paint = False
