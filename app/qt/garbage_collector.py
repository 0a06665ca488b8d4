"""Python's cyclic garbage collection, run on the GUI thread only.

Left to itself, the collector runs in whichever thread happens to allocate when a threshold is
crossed: often a job's worker thread. A cycle holding Qt or VTK objects (a closed window's widgets,
a finished job's signal emitter, a 3D plotter whose ``__del__`` closes its render window) is then
destroyed off the GUI thread, which Qt and VTK do not allow and which can crash the process. So the
automatic collector is switched off and the same three generations are collected from a GUI timer,
with the interpreter's own thresholds (the pattern pyqtgraph and calibre use).
"""

from __future__ import annotations

import gc
import logging

from PySide6.QtCore import QCoreApplication, QObject, QTimer

log = logging.getLogger(__name__)
#: How often the GUI thread looks at the allocation counts; a check is a few microseconds.
CHECK_INTERVAL_MS = 500


class GuiThreadGarbageCollector(QObject):
    """Collects garbage on a GUI timer, generation by generation, as the interpreter would."""

    def __init__(self, parent: QObject | None, interval_ms: int = CHECK_INTERVAL_MS) -> None:
        super().__init__(parent)
        self.thresholds = gc.get_threshold()
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.check)
        self.timer.start(interval_ms)
        gc.disable()

    def check(self) -> int:
        """Collect each generation whose allocation count passed its threshold; returns what was freed."""
        counts = gc.get_count()
        freed = 0
        for generation in range(3):
            if counts[generation] <= self.thresholds[generation]:
                break
            freed = gc.collect(generation)
        if freed:
            log.debug("collected %d objects on the GUI thread", freed)
        return freed

    def stop(self) -> None:
        """Give collection back to the interpreter (automatic, any thread)."""
        self.timer.stop()
        gc.enable()


def collect_on_gui_thread(app: QCoreApplication) -> GuiThreadGarbageCollector:
    """Install the collector on ``app`` (once; later calls return the same one)."""
    existing = app.findChild(GuiThreadGarbageCollector)
    if isinstance(existing, GuiThreadGarbageCollector):
        return existing
    collector = GuiThreadGarbageCollector(app)
    app.aboutToQuit.connect(collector.stop)
    return collector
