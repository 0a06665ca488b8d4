"""Fixtures shared by every test folder."""

from __future__ import annotations

import faulthandler
import gc
import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
REAL_DATA_DIR = (REPO_ROOT / ".." / "shared" / "data" / "real").resolve()
VALIDATION_CASES = ("Brats18_2013_20_1", "Brats18_CBICA_AME_1", "Brats18_TCIA10_628_1")


@pytest.fixture(scope="session")
def real_data_dir() -> Path:
    """The folder of real BraTS 2018 cases; tests that need it skip when it is absent."""
    if not REAL_DATA_DIR.is_dir():
        pytest.skip(f"real BraTS cases not available: {REAL_DATA_DIR} does not exist")
    return REAL_DATA_DIR


@pytest.fixture(scope="session")
def real_case_dir(real_data_dir: Path) -> Path:
    """One real case folder (a validation case, so nothing here is ever trained on)."""
    path = real_data_dir / "Brats18_CBICA_AME_1"
    if not path.is_dir():
        pytest.skip(f"real case missing: {path}")
    return path


_RUN_FOLDERS: list[str] = []
_FAULT_FD: list[int] = []


def pytest_configure(config: pytest.Config) -> None:
    # A crash prints the crashing thread's stack alone, to the real stderr (pytest's own handler,
    # switched off in pyproject.toml, printed every thread, and CI's log kept only the first ones).
    _FAULT_FD.append(os.dup(sys.stderr.fileno()))
    faulthandler.enable(file=_FAULT_FD[0], all_threads=False)
    # Never touch the user's registry, recovery files or Qt settings: each test run gets its own.
    for variable, prefix in (
        ("BRATS_VIEWER_DATA_DIR", "brats-viewer-data-"),
        ("XDG_CONFIG_HOME", "brats-viewer-config-"),
    ):
        _RUN_FOLDERS.append(tempfile.mkdtemp(prefix=prefix))
        os.environ[variable] = _RUN_FOLDERS[-1]
    # Widgets that need no GL run anywhere; without an X display they use Qt's offscreen platform.
    if not os.environ.get("DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def pytest_unconfigure(config: pytest.Config) -> None:
    for folder in _RUN_FOLDERS:  # a thousand runs left a thousand of these in /tmp
        shutil.rmtree(folder, ignore_errors=True)
    faulthandler.disable()
    for fd in _FAULT_FD:
        os.close(fd)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("DISPLAY"):
        return
    skip_gui = pytest.mark.skip(
        reason="needs an X display with OpenGL (run under xvfb-run; see scripts/test.sh)"
    )
    for item in items:
        if item.get_closest_marker("gui") is not None:
            item.add_marker(skip_gui)


@pytest.fixture(autouse=True)
def _isolated_user_data(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test gets its own user data folder (registry, recovery files) and Qt settings, so nothing
    leaks between tests (an export folder remembered by one test was offered in the next), and a modal
    message box fails the test instead of hanging it."""
    monkeypatch.setenv("BRATS_VIEWER_DATA_DIR", str(tmp_path_factory.mktemp("user-data")))
    core = sys.modules.get("PySide6.QtCore")
    if core is not None:  # Qt reads XDG_CONFIG_HOME once per process: point QSettings() itself
        folder = str(tmp_path_factory.mktemp("qt-settings"))
        for fmt in (core.QSettings.Format.NativeFormat, core.QSettings.Format.IniFormat):
            core.QSettings.setPath(fmt, core.QSettings.Scope.UserScope, folder)
    widgets = sys.modules.get("PySide6.QtWidgets")
    if widgets is None:
        return

    def refuse(parent: object, title: str = "", text: str = "", *args: object, **kwargs: object) -> None:
        raise AssertionError(f"unexpected modal dialog in a test: {title!r}: {text!r}")

    for name in ("question", "critical", "warning", "information"):
        monkeypatch.setattr(widgets.QMessageBox, name, refuse)


@pytest.fixture(autouse=True)
def _garbage_collected_on_the_main_thread(request: pytest.FixtureRequest):  # noqa: ANN202
    """As in the app (app.qt.garbage_collector): once there is a QApplication, cyclic garbage is collected
    on the main thread only, never in a job's thread. After a Qt test, its closed widgets are deleted and
    all its garbage collected before the next test starts; after any other test, the collector's usual
    threshold check runs (no event loop may run its timer)."""
    if not {"qtbot", "qapp"} & set(request.fixturenames):
        yield
        qt_app = sys.modules["PySide6.QtCore"].QCoreApplication.instance() if not gc.isenabled() else None
        if qt_app is not None:
            from app.qt.garbage_collector import collect_on_gui_thread

            collect_on_gui_thread(qt_app).check()
        return
    from PySide6.QtCore import QCoreApplication, QEvent

    from app.qt.garbage_collector import collect_on_gui_thread

    collect_on_gui_thread(request.getfixturevalue("qapp"))
    yield
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    gc.collect()
