"""Crash recovery: the label map is saved to a recovery file within seconds of every edit.

Files live in ``<user data>/recovery`` (platformdirs, or ``$BRATS_VIEWER_DATA_DIR``), one per case,
named by a hash of the case's identity. Saving is debounced: a save starts once the edits pause for
``delay_s`` and at the latest ``max_delay_s`` after the first unsaved edit, so a kill at any moment
loses at most the last ``max_delay_s`` (2 s). Writes run on a background thread and go through
``segmentation_core.atomic`` (temporary file, then rename), so a kill mid-write leaves the previous
recovery file whole. A recovery file that cannot be read is set aside (renamed ``*.unreadable``) and
reported once; it never stops the viewer.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from app.state.label_layer import LabelLayer, check_labels
from segmentation_core.atomic import clean_folder, write_bytes

log = logging.getLogger(__name__)

SUFFIX = ".recovery.npz"
UNREADABLE = ".unreadable"
#: Seconds of quiet after an edit before the recovery file is written.
DEFAULT_DELAY_S = 0.5
#: The most seconds an edit waits to be saved, even while edits go on.
MAX_DELAY_S = 2.0


def recovery_dir(root: Path | None = None) -> Path:
    """Folder of the recovery files (inside the user's brats-viewer data folder)."""
    from segmentation_core.registry.paths import data_dir  # the registry package loads nibabel: defer it

    return (root or data_dir()) / "recovery"


def case_key(case_id: str, sources: Sequence[str | Path] = ()) -> str:
    """A file-name-safe key for one case: a hash of its id and its source files."""
    text = "\n".join([case_id, *sorted(str(Path(s).resolve()) for s in sources)])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Recovery:
    """One recovery file found at start-up."""

    path: Path
    case_id: str
    sources: tuple[str, ...]
    shape: tuple[int, int, int]
    saved_at: float
    edits: int

    def load(self) -> np.ndarray:
        """The saved label map (uint8 internal labels), checked against the recorded shape."""
        try:
            with open(self.path, "rb") as handle, np.load(handle, allow_pickle=False) as data:
                labels = data["labels"]  # our own handle: np.load leaks it when the archive is damaged
        except Exception as exc:  # BadZipFile, EOFError, zlib.error, KeyError...: a damaged file
            raise ValueError(
                f"recovery file {self.path} cannot be read ({_reason(exc)}); discard it"
            ) from exc
        labels = check_labels(labels, f"recovery file {self.path}")
        if labels.shape != self.shape:
            raise ValueError(f"recovery file {self.path} holds shape {labels.shape}, expected {self.shape}")
        return labels.astype(np.uint8, copy=False)

    def discard(self) -> None:
        self.path.unlink(missing_ok=True)


def _reason(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {' '.join(str(exc).split())}".rstrip(": ")


def read_recovery(path: Path) -> Recovery:
    """The description of one recovery file; ValueError when it is not a readable recovery file."""
    try:
        with open(path, "rb") as handle, np.load(handle, allow_pickle=False) as data:
            meta = json.loads(str(data["meta"]))
        shape = tuple(int(n) for n in meta["shape"])
        if len(shape) != 3:
            raise ValueError(f"shape {shape} is not 3-D")
        return Recovery(
            path=path,
            case_id=str(meta["case_id"]),
            sources=tuple(str(s) for s in meta["sources"]),
            shape=shape,
            saved_at=float(meta["saved_at"]),
            edits=int(meta["edits"]),
        )
    except Exception as exc:  # BadZipFile, EOFError, zlib.error, KeyError, TypeError...: a damaged file
        raise ValueError(f"{path} is not a readable recovery file ({_reason(exc)})") from exc


def set_aside(path: Path, problem: str) -> str:
    """Rename an unreadable recovery file out of the way (kept for inspection); the message to show."""
    target = path.with_name(f"{path.name}{UNREADABLE}-{time.strftime('%Y%m%d-%H%M%S')}")
    try:
        path.rename(target)
        message = f"{problem}; it was set aside as {target.name}"
    except OSError as exc:
        message = f"{problem}; it could not be set aside ({exc.strerror})"
    log.warning("%s", message)
    return message


@dataclass
class RecoveryScan:
    """Readable recovery files, newest first, and one message per unreadable file set aside."""

    recoveries: list[Recovery] = field(default_factory=list)
    set_aside: list[str] = field(default_factory=list)


def scan_recoveries(folder: Path | None = None) -> RecoveryScan:
    """Every recovery file in ``folder``; unreadable ones are set aside (and reported in the result)."""
    folder = folder or recovery_dir()
    scan = RecoveryScan()
    clean_folder(folder)  # temporaries of a killed save are not recovery files
    for path in (
        sorted(p for p in folder.glob(f"*{SUFFIX}") if not p.name.startswith(".")) if folder.is_dir() else ()
    ):
        try:
            scan.recoveries.append(read_recovery(path))
        except ValueError as exc:
            scan.set_aside.append(set_aside(path, str(exc)))
    scan.recoveries.sort(key=lambda r: r.saved_at, reverse=True)
    return scan


def find_recoveries(folder: Path | None = None) -> list[Recovery]:
    """Recovery files left by earlier sessions, newest first; unreadable ones are set aside."""
    return scan_recoveries(folder).recoveries


def recovery_for(
    case_id: str,
    sources: Sequence[str | Path] = (),
    folder: Path | None = None,
    on_problem: Callable[[str], None] | None = None,
) -> Recovery | None:
    """The recovery file of one case (when opening it), or None; an unreadable one is set aside."""
    path = (folder or recovery_dir()) / f"{case_key(case_id, sources)}{SUFFIX}"
    if not path.is_file():
        return None
    try:
        return read_recovery(path)
    except ValueError as exc:
        message = set_aside(path, str(exc))
        if on_problem is not None:
            on_problem(message)
        return None


class Autosaver:
    """Writes ``layer`` to the case's recovery file within ``max_delay_s`` of every edit (debounced)."""

    def __init__(
        self,
        layer: LabelLayer,
        case_id: str,
        sources: Sequence[str | Path] = (),
        *,
        delay_s: float = DEFAULT_DELAY_S,
        max_delay_s: float = MAX_DELAY_S,
        folder: Path | None = None,
    ) -> None:
        if not 0 <= delay_s <= max_delay_s:
            raise ValueError(f"autosave delays must satisfy 0 <= {delay_s} <= {max_delay_s}")
        self.layer = layer
        self.case_id = case_id
        self.sources = tuple(str(s) for s in sources)
        self.delay_s, self.max_delay_s = delay_s, max_delay_s
        self.folder = folder or recovery_dir()
        self.path = self.folder / f"{case_key(case_id, sources)}{SUFFIX}"
        self.edits = 0
        self._pending: Future[Path] | None = None
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="autosave")
        self._wake = threading.Condition()
        self._first_unsaved: float | None = None
        self._last_edit = 0.0
        self._closed = False
        self._timer = threading.Thread(target=self._debounce, name="autosave-timer", daemon=True)
        self._timer.start()
        layer.stepped.connect(self._on_step)

    def _on_step(self, _name: str) -> None:
        with self._wake:
            self.edits += 1
            now = time.monotonic()
            self._last_edit = now
            if self._first_unsaved is None:
                self._first_unsaved = now
            self._wake.notify()

    def _debounce(self) -> None:
        """Timer thread: start a save when edits pause for delay_s, or max_delay_s after the first."""
        while True:
            with self._wake:
                while not self._closed and self._first_unsaved is None:
                    self._wake.wait()
                if self._closed:
                    return
                first = self._first_unsaved
                if first is None:  # saved meanwhile (a flush)
                    continue
                due = min(self._last_edit + self.delay_s, first + self.max_delay_s)
                remaining = due - time.monotonic()
                if remaining > 0:
                    self._wake.wait(remaining)
                    continue
                self.save_now()

    @property
    def unsaved(self) -> bool:
        """True while an edit waits for its save to start."""
        with self._wake:
            return self._first_unsaved is not None

    def save_now(self) -> Future[Path]:
        """Start writing the current labels (a copy) in the background; returns the write's future."""
        with self._wake:
            self._first_unsaved = None
            meta = {
                "case_id": self.case_id,
                "sources": list(self.sources),
                "shape": list(self.layer.shape),
                "saved_at": time.time(),
                "edits": self.edits,
            }
            labels = self.layer.data.copy()
            self._pending = self._executor.submit(self._write, labels, json.dumps(meta))
            return self._pending

    def _write(self, labels: np.ndarray, meta: str) -> Path:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            write_bytes(self.path, lambda fh: np.savez_compressed(fh, labels=labels, meta=np.array(meta)))
        except BaseException:
            log.exception("autosave to %s failed", self.path)
            raise
        return self.path

    def flush(self) -> None:
        """Save now when an edit is waiting, and wait until the recovery file holds every edit."""
        if self.unsaved:
            self.save_now()
        self.wait()

    def wait(self) -> None:
        """Block until the last write started has finished (re-raising its error, if any)."""
        pending = self._pending
        if pending is not None:
            pending.result()

    def discard(self) -> None:
        """Delete the recovery file (after a successful export, or when the user closes without saving)."""
        with self._wake:
            self._first_unsaved = None
            pending = self._pending
        if pending is not None:
            pending.exception()  # wait for a write in flight; its error was logged
        self.path.unlink(missing_ok=True)

    def close(self) -> None:
        """Stop following the layer, save an edit still waiting, finish writes (the file stays)."""
        self.layer.stepped.disconnect(self._on_step)
        if self.unsaved:
            self.save_now()
        with self._wake:
            self._closed = True
            self._wake.notify()
        self._timer.join()
        self._executor.shutdown(wait=True)
