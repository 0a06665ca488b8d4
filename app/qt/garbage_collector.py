"""Python's cyclic garbage collection, run on the GUI thread only.

Left to itself, the collector runs in whichever thread happens to allocate when a threshold is
crossed: often a job's worker thread. A cycle holding Qt or VTK objects (a closed window's widgets,
a finished job's signal emitter, a 3D plotter whose ``__del__`` closes its render window) is then
destroyed off the GUI thread, which Qt and VTK do not allow and which can crash the process. So the
automatic collector is switched off and the same three generations are collected from a GUI timer,
with the interpreter's own thresholds (the pattern pyqtgraph and calibre use) and its rule that a full
collection waits until the old generation has grown by a quarter (it scans ~300k objects, ~100 ms).
"""

from __future__ import annotations

import gc
import logging

from PySide6.QtCore import QCoreApplication, QObject, QTimer

log = logging.getLogger(__name__)
#: How often the GUI thread looks at the allocation counts; a check is a few microseconds.
CHECK_INTERVAL_MS = 500


class GuiThreadGarbageCollector(QObject):
    """Collects garbage on a GUI timer, generation by generation, with the interpreter's own rules."""

    def __init__(self, parent: QObject | None, interval_ms: int = CHECK_INTERVAL_MS) -> None:
        super().__init__(parent)
        self.thresholds = gc.get_threshold()
        #: Objects in the oldest generation after the last full collection (the interpreter's
        #: "long-lived total": a full collection waits until a quarter as many again have arrived). It
        #: starts at 0, as in the interpreter, so the first full collection measures it: counting ~300k
        #: objects here would add ~10-30 ms to the window's start-up.
        self.long_lived = 0
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.check)
        self.timer.start(interval_ms)
        gc.disable()

    def check(self) -> int:
        """Collect the generations whose allocation counts passed their thresholds; returns what was freed."""
        counts = gc.get_count()
        if counts[0] <= self.thresholds[0]:
            return 0
        generation = 0
        if counts[1] > self.thresholds[1]:
            generation = 1
            if counts[2] > self.thresholds[2] and self._full_collection_due():
                generation = 2
        freed = gc.collect(generation)
        if generation == 2:
            self.long_lived = len(gc.get_objects(generation=2))
        if freed:
            log.debug("collected %d objects (generation %d) on the GUI thread", freed, generation)
        return freed

    def _full_collection_due(self) -> bool:
        """A full collection scans every object: only when the old generation grew by a quarter."""
        return len(gc.get_objects(generation=2)) - self.long_lived > self.long_lived / 4

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
