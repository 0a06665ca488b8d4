"""``brats-viewer``: start the desktop viewer, its self-test, or (``--no-gui``) the headless CLI."""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import sys
import time
import traceback
from pathlib import Path

logger = logging.getLogger(__name__)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="brats-viewer", description="Brain-tumour MRI viewer with AI segmentation."
    )
    parser.add_argument(
        "--self-test",
        action="store_true",
        help="open the window and a case (default: the bundled sample), render every view, check the 3D view "
        "shows the label surfaces, print OK and exit, non-zero on failure (default: off)",
    )
    parser.add_argument(
        "case",
        nargs="*",
        type=Path,
        help="case to open: a folder, an MSD 4-D file or four image files (default: the bundled sample case)",
    )
    parser.add_argument("--empty", action="store_true", help="start without opening a case (default: off)")
    parser.add_argument(
        "--screenshot", metavar="PNG", help="with --self-test: save a picture of the window (default: none)"
    )
    parser.add_argument(
        "--no-gui",
        nargs=argparse.REMAINDER,
        metavar="CLI-ARGS",
        help="run the headless brats-seg command line instead of the window, e.g. --no-gui info CASE "
        "(default: off; alone, it segments the sample case into ./brats-output)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages (default: info)")
    return parser


DEFAULT_HEADLESS_OUTPUT = "brats-output"


def run_headless(cli_args: list[str]) -> int:
    """The ``--no-gui`` path: the same commands as ``brats-seg``.

    Without arguments it does the main job headless: segment the bundled sample case with the
    bundled model into ./brats-output.
    """
    import resources
    from app.headless import main as cli_main

    if not cli_args:
        cli_args = ["predict", str(resources.sample_case_dir()), "-o", DEFAULT_HEADLESS_OUTPUT]
        print(
            f"segmenting the sample case into ./{DEFAULT_HEADLESS_OUTPUT} (brats-viewer --no-gui --help for more)"
        )
    return cli_main(cli_args)


CASE_LOAD_TIMEOUT_S = 120


def initial_case(args: argparse.Namespace) -> list[Path]:
    """What to open at start: the paths given, else the bundled sample case (unless --empty)."""
    import resources

    if args.empty:
        return []
    if args.case:
        return list(args.case)
    sample = resources.sample_case_dir()
    return [sample] if sample.is_dir() else []


#: How many pixels of the 3D view must change when the label surfaces are hidden.
MIN_LABEL_PIXELS_3D = 200


def wait_until(done, timeout_s: float = CASE_LOAD_TIMEOUT_S) -> bool:  # noqa: ANN001 (a callable)
    """Process events until ``done()`` is true or the time is up; returns ``done()``.

    Deferred deletions run too, as in the application's event loop: ``processEvents`` alone never runs
    them, so a widget Qt dropped with ``deleteLater`` stayed on screen (a spare Display/Tools tab bar that
    Qt's dock layout discards without hiding it was drawn over the Volumes title in the screenshot).
    """
    from PySide6.QtCore import QEvent
    from PySide6.QtWidgets import QApplication

    def pump() -> None:
        QApplication.processEvents()
        QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)

    deadline = time.monotonic() + timeout_s
    while not done() and time.monotonic() < deadline:
        pump()
        time.sleep(0.01)
    pump()
    return bool(done())


def label_pixels_in_3d(window) -> int:  # noqa: ANN001 (MainWindow)
    """How many pixels of the 3D view the label surfaces cover (rendered with and without them)."""
    import numpy as np

    view = window.view3d
    actors = [view.interactor.actors[f"label{label}"] for label in view.scene.surfaces]
    visible = [actor.GetVisibility() for actor in actors]
    view.render_frame()
    shown = view.interactor.screenshot(return_img=True)
    for actor in actors:
        actor.SetVisibility(False)
    view.render_frame()
    hidden = view.interactor.screenshot(return_img=True)
    for actor, on in zip(actors, visible):
        actor.SetVisibility(on)
    view.render_frame()
    return int(np.count_nonzero(np.any(shown != hidden, axis=-1)))


def check_label_surfaces(window) -> str | None:  # noqa: ANN001 (MainWindow)
    """None when the 3D view shows a surface for every label present; else what is wrong."""
    import numpy as np

    labels = window.state.labels
    if labels is None or not labels.data.any():
        return None
    view = window.view3d
    present = {int(v) for v in np.unique(labels.data) if v}
    if not wait_until(lambda: view.surfaces_ready and set(view.scene.surfaces) >= present):
        return f"the 3D view has surfaces for labels {sorted(view.scene.surfaces)}, not {sorted(present)}"
    pixels = label_pixels_in_3d(window)
    if pixels < MIN_LABEL_PIXELS_3D:
        return f"the label surfaces cover {pixels} pixels of the 3D view (at least {MIN_LABEL_PIXELS_3D} expected)"
    print(f"3D view: surfaces of labels {sorted(present)} cover {pixels} pixels", flush=True)
    return None


def run_self_test(window, screenshot: str | None, case: list[Path]) -> int:  # noqa: ANN001 (MainWindow)
    """Open ``case``, render every view, check the 3D label surfaces (and save a screenshot when asked)."""
    painted: list[bool] = []
    window.first_painted.connect(lambda: painted.append(True))
    window.show()
    if not wait_until(lambda: bool(painted)):
        print("FAILED: the window was never painted", file=sys.stderr)
        return 1
    print("window painted", flush=True)
    if case:
        handle = window.case_opener.open_paths(case)
        if handle is not None:
            wait_until(lambda: not handle.running)
        if window.state.case is None:
            print(f"FAILED: could not open {', '.join(map(str, case))}", file=sys.stderr)
            return 1
        print(f"opened {window.state.case.case_id}", flush=True)
    results = window.render_all_views()
    failed = sorted(name for name, ok in results.items() if not ok)
    if failed:
        print(f"FAILED: views rendered nothing: {', '.join(failed)}", file=sys.stderr)
        return 1
    problem = check_label_surfaces(window) if case else None
    if problem:
        print(f"FAILED: {problem}", file=sys.stderr)
        return 1
    if screenshot and not window.grab().save(screenshot):
        print(f"FAILED: could not write screenshot {screenshot}", file=sys.stderr)
        return 1
    print("OK")
    return 0


def isolate_settings() -> Path:
    """Point QSettings and the data folder at a fresh temporary folder.

    The self-test must not touch the user's recent cases, and must neither stop at nor discard the
    user's autosave recovery files ("Recover unsaved labels?" would wait for an answer that never comes).
    """
    import tempfile

    from PySide6.QtCore import QSettings

    from segmentation_core.registry.paths import DATA_DIR_ENV

    folder = Path(tempfile.mkdtemp(prefix="brats-viewer-self-test-"))
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(folder))
    os.environ[DATA_DIR_ENV] = str(folder / "data")
    return folder


def _show_startup_error(exc: BaseException) -> None:
    """Show a start-up failure in a dialog (and on stderr), never a silent exit."""
    text = "".join(traceback.format_exception(exc))
    print(f"brats-viewer could not start:\n{text}", file=sys.stderr)
    from PySide6.QtWidgets import QApplication, QMessageBox

    if QApplication.instance() is not None:
        QMessageBox.critical(None, "BraTS Viewer could not start", f"{exc}\n\n{text}")


def run_gui(self_test: bool, screenshot: str | None = None, case: list[Path] | None = None) -> int:
    from PySide6.QtWidgets import QApplication

    from app.display import display_problem

    if QApplication.instance() is None and (problem := display_problem()):
        print(f"brats-viewer: {problem}", file=sys.stderr)
        return 3
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("BraTS Viewer")
    app.setOrganizationName("brats-viewer")
    settings_folder = isolate_settings() if self_test else None
    try:
        from app.qt.main_window import MainWindow

        window = MainWindow()
    except Exception as exc:  # start-up failure: report it, do not vanish
        if self_test:
            print(f"FAILED: {exc!r}", file=sys.stderr)
            traceback.print_exc()
        else:
            _show_startup_error(exc)
        return 1
    if self_test:
        try:
            return run_self_test(window, screenshot, case or [])
        except Exception as exc:
            print(f"FAILED: {exc!r}", file=sys.stderr)
            traceback.print_exc()
            return 1
        finally:
            window.close()
            if settings_folder is not None:
                shutil.rmtree(settings_folder, ignore_errors=True)
    window.show()
    window.offer_recoveries_at_start()
    if case and window.state.case is None:
        window.case_opener.open_paths(case)
    return app.exec()


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO, format="%(levelname)s %(name)s: %(message)s"
    )
    if args.no_gui is not None:
        return run_headless(args.no_gui)
    return run_gui(args.self_test, args.screenshot, initial_case(args))


if __name__ == "__main__":
    sys.exit(main())
