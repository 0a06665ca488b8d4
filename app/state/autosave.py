"""Crash recovery: the label map is saved every few edits to a recovery file, offered at the next start.

Files live in ``<user data>/recovery`` (platformdirs, or ``$BRATS_VIEWER_DATA_DIR``), one per case,
named by a hash of the case's identity. Each write goes to a temporary file in the same folder that
then replaces the old one (``os.replace``), so a crash mid-write never leaves a broken file. Writes
run on a background thread from a copy of the labels; :meth:`Autosaver.wait` waits for them.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from app.state.label_layer import LabelLayer, check_labels

log = logging.getLogger(__name__)

SUFFIX = ".recovery.npz"
DEFAULT_EVERY = 5


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
            with np.load(self.path, allow_pickle=False) as data:
                labels = data["labels"]
        except (OSError, ValueError, KeyError) as exc:
            raise ValueError(f"recovery file {self.path} cannot be read ({exc}); discard it") from exc
        labels = check_labels(labels, f"recovery file {self.path}")
        if labels.shape != self.shape:
            raise ValueError(f"recovery file {self.path} holds shape {labels.shape}, expected {self.shape}")
        return labels.astype(np.uint8, copy=False)

    def discard(self) -> None:
        self.path.unlink(missing_ok=True)


def read_recovery(path: Path) -> Recovery:
    """The description of one recovery file; ValueError when it is not a readable recovery file."""
    try:
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(str(data["meta"]))
    except (OSError, ValueError, KeyError) as exc:
        raise ValueError(f"{path} is not a readable recovery file ({exc})") from exc
    return Recovery(
        path=path,
        case_id=str(meta["case_id"]),
        sources=tuple(meta["sources"]),
        shape=tuple(meta["shape"]),
        saved_at=float(meta["saved_at"]),
        edits=int(meta["edits"]),
    )


def find_recoveries(folder: Path | None = None) -> list[Recovery]:
    """Recovery files left by earlier sessions, newest first; unreadable ones are logged and skipped."""
    folder = folder or recovery_dir()
    found = []
    for path in sorted(folder.glob(f"*{SUFFIX}")) if folder.is_dir() else ():
        try:
            found.append(read_recovery(path))
        except ValueError as exc:
            log.warning("skipping %s", exc)
    return sorted(found, key=lambda r: r.saved_at, reverse=True)


def recovery_for(
    case_id: str, sources: Sequence[str | Path] = (), folder: Path | None = None
) -> Recovery | None:
    """The recovery file of one case (when opening it), or None when there is none or it is unreadable."""
    path = (folder or recovery_dir()) / f"{case_key(case_id, sources)}{SUFFIX}"
    if not path.is_file():
        return None
    try:
        return read_recovery(path)
    except ValueError as exc:
        log.warning("ignoring %s", exc)
        return None


class Autosaver:
    """Writes ``layer`` to the case's recovery file after every ``every`` edits (strokes, undos, redos)."""

    def __init__(
        self,
        layer: LabelLayer,
        case_id: str,
        sources: Sequence[str | Path] = (),
        every: int = DEFAULT_EVERY,
        folder: Path | None = None,
    ) -> None:
        if every < 1:
            raise ValueError(f"autosave interval must be at least 1 edit, got {every}")
        self.layer = layer
        self.case_id = case_id
        self.sources = tuple(str(s) for s in sources)
        self.every = every
        self.folder = folder or recovery_dir()
        self.path = self.folder / f"{case_key(case_id, sources)}{SUFFIX}"
        self.edits = 0
        self._pending: Future[Path] | None = None
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="autosave")
        layer.stepped.connect(self._on_step)

    def _on_step(self, _name: str) -> None:
        self.edits += 1
        if self.edits % self.every == 0:
            self.save_now()

    def save_now(self) -> Future[Path]:
        """Start writing the current labels (a copy) in the background; returns the write's future."""
        meta = {
            "case_id": self.case_id,
            "sources": list(self.sources),
            "shape": list(self.layer.shape),
            "saved_at": time.time(),
            "edits": self.edits,
        }
        self._pending = self._executor.submit(self._write, self.layer.data.copy(), json.dumps(meta))
        return self._pending

    def _write(self, labels: np.ndarray, meta: str) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        handle, tmp = tempfile.mkstemp(dir=self.folder, suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as out:
                np.savez_compressed(out, labels=labels, meta=np.array(meta))
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            log.exception("autosave to %s failed", self.path)
            raise
        return self.path

    def wait(self) -> None:
        """Block until the last write has finished (re-raising its error, if any)."""
        if self._pending is not None:
            self._pending.result()

    def discard(self) -> None:
        """Delete the recovery file (after a successful export, or when the user closes without saving)."""
        if self._pending is not None:
            self._pending.exception()  # wait for a write in flight; its error was logged
        self.path.unlink(missing_ok=True)

    def close(self) -> None:
        """Stop following the layer and finish pending writes (the recovery file stays)."""
        self.layer.stepped.disconnect(self._on_step)
        self._executor.shutdown(wait=True)
