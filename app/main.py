"""``brats-viewer``: start the desktop viewer, its self-test, or (``--no-gui``) the headless CLI."""

from __future__ import annotations

import argparse
import logging
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
        help="open the window, render one frame of every view, print OK and exit (non-zero on failure)",
    )
    parser.add_argument(
        "case",
        nargs="*",
        type=Path,
        help="case to open: a folder, an MSD 4-D file or four image files (default: the bundled sample case)",
    )
    parser.add_argument("--empty", action="store_true", help="start without opening a case")
    parser.add_argument("--screenshot", metavar="PNG", help="with --self-test: save a picture of the window")
    parser.add_argument(
        "--no-gui",
        nargs=argparse.REMAINDER,
        metavar="CLI-ARGS",
        help="run the headless brats-seg command line instead of the window (e.g. --no-gui info CASE)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
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


def wait_for_job(handle) -> None:  # noqa: ANN001 (app.jobs.runner.JobHandle)
    """Process events until a job has finished (self-test only; the GUI never blocks like this)."""
    from PySide6.QtWidgets import QApplication

    deadline = time.monotonic() + CASE_LOAD_TIMEOUT_S
    while handle.running and time.monotonic() < deadline:
        QApplication.processEvents()
        time.sleep(0.01)
    QApplication.processEvents()


def run_self_test(window, screenshot: str | None, case: list[Path]) -> int:  # noqa: ANN001 (MainWindow)
    """Render every view once (and save a screenshot when asked); print OK, or why it failed."""
    from PySide6.QtWidgets import QApplication

    painted: list[bool] = []
    window.first_painted.connect(lambda: painted.append(True))
    window.show()
    deadline = time.monotonic() + CASE_LOAD_TIMEOUT_S
    while not painted and time.monotonic() < deadline:
        QApplication.processEvents()
        time.sleep(0.001)
    if not painted:
        print("FAILED: the window was never painted", file=sys.stderr)
        return 1
    print("window painted", flush=True)
    if case:
        handle = window.case_opener.open_paths(case)
        if handle is not None:
            wait_for_job(handle)
        if window.state.case is None:
            print(f"FAILED: could not open {', '.join(map(str, case))}", file=sys.stderr)
            return 1
    results = window.render_all_views()
    failed = sorted(name for name, ok in results.items() if not ok)
    if failed:
        print(f"FAILED: views rendered nothing: {', '.join(failed)}", file=sys.stderr)
        return 1
    if screenshot and not window.grab().save(screenshot):
        print(f"FAILED: could not write screenshot {screenshot}", file=sys.stderr)
        return 1
    print("OK")
    return 0


def _show_startup_error(exc: BaseException) -> None:
    """Show a start-up failure in a dialog (and on stderr), never a silent exit."""
    text = "".join(traceback.format_exception(exc))
    print(f"brats-viewer could not start:\n{text}", file=sys.stderr)
    from PySide6.QtWidgets import QApplication, QMessageBox

    if QApplication.instance() is not None:
        QMessageBox.critical(None, "BraTS Viewer could not start", f"{exc}\n\n{text}")


def run_gui(self_test: bool, screenshot: str | None = None, case: list[Path] | None = None) -> int:
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("BraTS Viewer")
    app.setOrganizationName("brats-viewer")
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
    window.show()
    window.segmentation.offer_recoveries_at_start()
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
    return run_gui(
        args.self_test, args.screenshot, initial_case(args) if not args.self_test or args.case else []
    )


if __name__ == "__main__":
    sys.exit(main())
