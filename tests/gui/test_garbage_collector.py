"""Cyclic garbage is collected on the GUI thread only, never in a job's thread."""

from __future__ import annotations

import gc
import threading

import pytest

pytestmark = pytest.mark.gui


class Cycle:
    """Half of a reference cycle that records the thread it is destroyed on."""

    destroyed_on: list[int] = []

    def __init__(self) -> None:
        self.other: Cycle | None = None

    def __del__(self) -> None:
        Cycle.destroyed_on.append(threading.get_ident())


def make_cycle() -> None:
    first, second = Cycle(), Cycle()
    first.other, second.other = second, first


def test_a_cycle_left_by_a_worker_thread_is_destroyed_on_the_gui_thread(qtbot, qapp) -> None:
    from app.qt.garbage_collector import collect_on_gui_thread

    collector = collect_on_gui_thread(qapp)
    assert collect_on_gui_thread(qapp) is collector  # one per application
    assert not gc.isenabled()
    gc.collect()
    Cycle.destroyed_on.clear()

    kept: list[list[int]] = []

    def allocate() -> None:  # far past the first threshold: the interpreter would collect here
        make_cycle()
        kept.extend([index] for index in range(10 * gc.get_threshold()[0]))

    worker = threading.Thread(target=allocate)
    worker.start()
    worker.join()
    assert Cycle.destroyed_on == []
    assert gc.get_count()[0] > gc.get_threshold()[0]
    qtbot.waitUntil(lambda: len(Cycle.destroyed_on) == 2, timeout=5000)  # the GUI timer's check
    assert Cycle.destroyed_on == [threading.get_ident()] * 2


def test_stop_gives_collection_back_to_the_interpreter(qapp) -> None:
    from app.qt.garbage_collector import GuiThreadGarbageCollector

    collector = GuiThreadGarbageCollector(None)
    try:
        assert not gc.isenabled() and collector.timer.isActive()
        collector.stop()
        assert gc.isenabled() and not collector.timer.isActive()
    finally:
        collector.deleteLater()
        gc.disable()  # the application's own collector (installed by the test fixture) stays in charge


def test_the_main_window_installs_it(qtbot) -> None:
    from PySide6.QtWidgets import QApplication

    from app.qt.garbage_collector import GuiThreadGarbageCollector
    from app.qt.main_window import MainWindow

    window = MainWindow()
    qtbot.addWidget(window)
    collectors = QApplication.instance().findChildren(GuiThreadGarbageCollector)
    assert len(collectors) == 1 and collectors[0].timer.isActive() and not gc.isenabled()


@pytest.mark.parametrize(
    ("counts", "old_generation", "collected"),
    [
        ((700, 50, 50), 1000, None),  # nothing past the first threshold: no collection at all
        ((701, 10, 50), 1000, 0),
        ((701, 11, 10), 1000, 1),
        ((701, 11, 11), 1250, 1),  # the old generation grew by a quarter only: no full collection yet
        ((701, 11, 11), 1251, 2),
    ],
)
def test_it_collects_the_generations_the_interpreter_would(
    qapp, monkeypatch, counts, old_generation, collected
) -> None:
    from app.qt.garbage_collector import GuiThreadGarbageCollector

    collector = GuiThreadGarbageCollector(None)
    try:
        collector.thresholds, collector.long_lived = (700, 10, 10), 1000
        calls: list[int] = []
        monkeypatch.setattr(gc, "get_count", lambda: counts)
        monkeypatch.setattr(gc, "get_objects", lambda generation=None: [None] * old_generation)
        monkeypatch.setattr(gc, "collect", lambda generation=2: calls.append(generation) or 0)
        collector.check()
        assert calls == ([] if collected is None else [collected])
        assert collector.long_lived == (old_generation if collected == 2 else 1000)
    finally:
        collector.timer.stop()
        collector.deleteLater()


def test_the_first_full_collection_is_not_held_back(qapp, monkeypatch) -> None:
    """As in the interpreter, nothing is known of the old generation before the first full collection."""
    from app.qt.garbage_collector import GuiThreadGarbageCollector

    collector = GuiThreadGarbageCollector(None)
    try:
        collector.thresholds = (700, 10, 10)
        calls: list[int] = []
        monkeypatch.setattr(gc, "get_count", lambda: (701, 11, 11))
        monkeypatch.setattr(gc, "get_objects", lambda generation=None: [None] * 5)
        monkeypatch.setattr(gc, "collect", lambda generation=2: calls.append(generation) or 0)
        collector.check()
        assert calls == [2] and collector.long_lived == 5
    finally:
        collector.timer.stop()
        collector.deleteLater()
