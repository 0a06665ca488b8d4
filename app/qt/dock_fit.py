"""Right-hand panels without a gap in the middle: the tabbed panels on top take the height their active
tab needs, and the panel below them (Volumes) takes the rest, its spare room at the very bottom."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QDockWidget, QMainWindow

#: The dock's title bar and the tab bar, above the content's own height.
DOCK_CHROME_PX = 48


def fit_tabbed_docks(window: QMainWindow, tabbed: list[QDockWidget], below: QDockWidget) -> None:
    """Keep the visible one of ``tabbed`` as tall as its content (now and whenever a tab is shown)."""

    def fit(dock: QDockWidget | None = None) -> None:
        active = dock or next((d for d in tabbed if not d.visibleRegion().isEmpty()), tabbed[0])
        wanted = active.widget().sizeHint().height() + DOCK_CHROME_PX
        free = max(window.height() - wanted, below.widget().minimumSizeHint().height())
        window.resizeDocks([active, below], [wanted, free], Qt.Orientation.Vertical)

    for dock in tabbed:  # a tab raised by a click, a shortcut or code: fit it once it is shown
        dock.visibilityChanged.connect(
            lambda visible, d=dock: visible and QTimer.singleShot(0, lambda: fit(d))
        )
    QTimer.singleShot(0, fit)
