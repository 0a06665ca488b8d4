"""``brats-seg``: the headless command line (info, predict, evaluate, train).

Every module in this package that defines ``register(subparsers)`` is one sub-command; its parser
sets ``func`` to a callable taking the parsed arguments and returning the exit code.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import pkgutil
import sys
from collections.abc import Callable, Sequence

from segmentation_core import __version__

Register = Callable[[argparse._SubParsersAction], None]


def build_parser(extra: Sequence[Register] = ()) -> argparse.ArgumentParser:
    """The parser of every sub-command here, plus those ``extra`` registers (layers above add theirs)."""
    parser = argparse.ArgumentParser(
        prog="brats-seg",
        description="Brain-tumour MRI segmentation (BraTS sub-regions) from the command line.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="log debug messages (default: warnings only)"
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module_info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(subparsers)
    for register in extra:
        register(subparsers)
    return parser


def one_line(exc: BaseException) -> str:
    """An error as one line: its message with line breaks folded (its type when it has none)."""
    return " ".join(str(exc).split()) or type(exc).__name__


def printable_streams() -> None:
    """Never fail to print a file name: undecodable characters are escaped, whatever the locale."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")


def main(argv: list[str] | None = None, extra: Sequence[Register] = ()) -> int:
    printable_streams()
    args = build_parser(extra).parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING, format="%(levelname)s %(message)s"
    )
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except (OSError, ValueError) as exc:
        print(f"error: {one_line(exc)}", file=sys.stderr)
        return 2
    except MemoryError:
        print("error: out of memory; close other programs or process a smaller input", file=sys.stderr)
        return 2
    except Exception as exc:  # never a traceback: one line, the details with -v
        logging.getLogger(__name__).debug("unexpected error", exc_info=True)
        print(
            f"error: unexpected {type(exc).__name__}: {one_line(exc)} (run with -v for details)",
            file=sys.stderr,
        )
        return 2


if __name__ == "__main__":
    sys.exit(main())
