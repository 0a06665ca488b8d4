"""The one way this project writes files: staged beside the target, then committed together.

Every output of one result (a label map, its sidecar, its probabilities...) is first written to a
temporary file in the target's folder (``.<pid>-<token>.partial.<name>``, so writers that look at the
suffix still see ``.nii.gz``). Only when every file is written and flushed does :meth:`Commit.commit`
record a journal (``.<pid>-<token>.commit.json``) listing the renames, do them, and delete the journal.
A process killed before the journal leaves only temporaries, which :func:`clean_folder` removes; a
process killed during the renames leaves the journal, and :func:`clean_folder` completes it. Either
way every target is complete-old or complete-new, and a group of files is all-old or all-new once the
folder has been cleaned (every commit cleans its folders first).

New files get the mode the umask gives (like ``open``); a replaced file keeps its mode. Files listed as
``protected`` (the images a case was read from) are never written over, and existing files are only
replaced with ``overwrite=True``.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import secrets
import stat
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

log = logging.getLogger(__name__)

PARTIAL = ".partial."
JOURNAL_SUFFIX = ".commit.json"
#: Temporaries of a live process are left alone unless they are older than this (seconds).
STALE_AFTER_S = 24 * 3600


class WriteError(OSError):
    """Writing a file failed; the one-line message starts with the file's name."""

    def __init__(self, code: int, problem: str, path: Path | str) -> None:
        super().__init__(code, problem, str(path))

    def __str__(self) -> str:
        return f"{self.filename}: {self.strerror}"


class OverwriteError(WriteError, FileExistsError):
    """A target exists (or is a file a case was read from) and may not be written over."""


def _token() -> str:
    return f"{os.getpid()}-{secrets.token_hex(4)}"


def _owner_alive(name: str) -> bool:
    """True when the process whose pid starts a temporary's name (``.<pid>-...``) still runs."""
    try:
        pid = int(name[1:].split("-", 1)[0])
    except ValueError:
        return False
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def clean_folder(folder: Path | str) -> list[str]:
    """Finish interrupted commits and remove temporaries of dead processes in ``folder``.

    Returns one line per thing done (for a log or a message). Never raises for a folder that cannot
    be read.
    """
    folder = Path(folder)
    done: list[str] = []
    try:
        entries = [e for e in os.scandir(folder) if e.name.startswith(".")]
    except OSError:
        return done
    for entry in entries:
        if entry.name.endswith(JOURNAL_SUFFIX) and not _owner_alive(entry.name):
            done.extend(_roll_forward(Path(entry.path)))
    for entry in entries:
        if PARTIAL not in entry.name or not os.path.lexists(entry.path):
            continue
        try:
            age = time.time() - entry.stat(follow_symlinks=False).st_mtime
        except OSError:
            continue
        if not _owner_alive(entry.name) or age > STALE_AFTER_S:
            with contextlib.suppress(OSError):
                os.unlink(entry.path)
                done.append(f"removed the unfinished temporary file {entry.path}")
    for line in done:
        log.info("%s", line)
    return done


def _roll_forward(journal: Path) -> list[str]:
    try:
        renames = json.loads(journal.read_text(encoding="utf-8"))["renames"]
    except (OSError, ValueError, KeyError, TypeError):
        renames = []  # a journal is written atomically; an unreadable one was never complete
    done = []
    for tmp, final in renames:
        if os.path.lexists(tmp):
            try:
                os.replace(tmp, final)
                done.append(f"completed the interrupted write of {final}")
            except OSError as exc:
                log.warning("cannot complete the interrupted write of %s: %s", final, exc)
    _fsync_dir(journal.parent)
    journal.unlink(missing_ok=True)
    return done


def same_file(a: Path | str, b: Path | str) -> bool:
    """True when both name one file (hard links and symbolic links included)."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.abspath(a) == os.path.abspath(b)


def write_error(path: Path, exc: OSError) -> WriteError:
    """``exc`` as an error whose one-line message names ``path`` (full disk, permission denied...)."""
    if isinstance(exc, WriteError):
        return exc
    reason = exc.strerror or str(exc)
    remedy = {
        errno.ENOSPC: "free some disk space or choose another folder",
        errno.EDQUOT: "free some disk space or choose another folder",
        errno.EACCES: "choose a folder you may write to",
        errno.EROFS: "choose a folder you may write to",
        errno.EPERM: "choose a folder you may write to",
    }.get(exc.errno or 0, "check the folder and try again")
    return WriteError(exc.errno or 0, f"cannot write ({reason}); {remedy}", path)


class Commit:
    """Files written as a group: stage each with :meth:`stage`, then :meth:`commit` (or abandon).

    Use as a context manager: the group is committed when the block ends normally and every
    temporary is removed when it raises.
    """

    def __init__(self, *, overwrite: bool = True, protected: Iterable[Path | str] = ()) -> None:
        self.overwrite = overwrite
        self.protected = [Path(p) for p in protected]
        self._staged: list[tuple[Path, Path]] = []
        self._token = _token()
        self._done = False

    def check_target(self, final: Path) -> None:
        """Raise OverwriteError when ``final`` may not be written (protected, or exists without overwrite)."""
        for source in self.protected:
            if same_file(final, source):
                raise OverwriteError(
                    errno.EEXIST,
                    "is a file the open case was read from; it is never written over — choose another name",
                    final,
                )
        if final.is_dir():
            raise WriteError(errno.EISDIR, "is a folder; choose a file name", final)
        if os.path.lexists(final) and not self.overwrite:
            raise OverwriteError(
                errno.EEXIST, "already exists; choose another name or allow overwriting", final
            )

    def stage(self, final: Path | str) -> Path:
        """A new empty temporary file for ``final`` (same folder, same name ending) to write into."""
        final = Path(final)
        self.check_target(final)
        if any(same_file(final, f) for _, f in self._staged):
            raise ValueError(f"{final}: staged twice in one commit")
        if not final.parent.is_dir():
            raise WriteError(
                errno.ENOENT, f"the folder {final.parent} does not exist; create it first", final
            )
        if not self._staged or final.parent not in {f.parent for _, f in self._staged}:
            clean_folder(final.parent)
        tmp = final.with_name(f".{self._token}{PARTIAL}{final.name}")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # the umask applies
        except OSError as exc:
            raise write_error(final, exc) from exc
        os.close(fd)
        with contextlib.suppress(OSError):
            mode = stat.S_IMODE(os.stat(final).st_mode)
            os.chmod(tmp, mode)  # a replaced file keeps its mode
        self._staged.append((tmp, final))
        return tmp

    def commit(self) -> list[Path]:
        """Flush every staged file, then rename them all into place (journalled); returns the targets."""
        if self._done:
            raise RuntimeError("this commit is finished")
        self._done = True
        if not self._staged:
            return []
        try:
            for tmp, final in self._staged:
                self.check_target(final)  # a file may have appeared meanwhile
                _fsync_file(tmp)
        except OverwriteError:
            self.abandon()
            raise
        except OSError as exc:
            self.abandon()
            raise write_error(self._staged_final(exc), exc) from exc
        folder = self._staged[0][1].parent
        journal = folder / f".{self._token}{JOURNAL_SUFFIX}"
        if len(self._staged) > 1:
            self._write_journal(journal)
        for tmp, final in self._staged:
            os.replace(tmp, final)
        for parent in {f.parent for _, f in self._staged}:
            _fsync_dir(parent)
        journal.unlink(missing_ok=True)
        return [final for _, final in self._staged]

    def _staged_final(self, exc: OSError) -> Path:
        name = str(getattr(exc, "filename", "") or "")
        return next((f for t, f in self._staged if str(t) == name), self._staged[0][1])

    def _write_journal(self, journal: Path) -> None:
        tmp = journal.with_name(f".{self._token}{PARTIAL}journal")
        data = {"renames": [[str(t.absolute()), str(f.absolute())] for t, f in self._staged]}
        try:
            with open(tmp, "w", encoding="utf-8") as fh:
                json.dump(data, fh)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, journal)
            _fsync_dir(journal.parent)
        except OSError as exc:
            Path(tmp).unlink(missing_ok=True)
            self.abandon()
            raise write_error(self._staged[0][1], exc) from exc

    def abandon(self) -> None:
        """Remove every staged temporary; targets stay as they were."""
        self._done = True
        for tmp, _ in self._staged:
            Path(tmp).unlink(missing_ok=True)

    def __enter__(self) -> Commit:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.abandon()


@contextlib.contextmanager
def atomic_path(
    final: Path | str, *, overwrite: bool = True, protected: Iterable[Path | str] = ()
) -> Iterator[Path]:
    """A temporary path to write ``final`` into; it replaces ``final`` when the block ends normally."""
    with Commit(overwrite=overwrite, protected=protected) as commit:
        yield commit.stage(final)


def write_bytes(final: Path | str, write: Callable[[BinaryIO], Any] | bytes, **options: Any) -> Path:
    """Write ``final`` atomically from bytes or a callable writing to a binary file object."""
    final = Path(final)
    with atomic_path(final, **options) as tmp:
        try:
            with open(tmp, "wb") as fh:
                if isinstance(write, (bytes, bytearray, memoryview)):
                    fh.write(write)
                else:
                    write(fh)
        except OSError as exc:
            raise write_error(final, exc) from exc
    return final


def write_text(final: Path | str, text: str, **options: Any) -> Path:
    """Write ``text`` (UTF-8) to ``final`` atomically."""
    return write_bytes(final, text.encode("utf-8"), **options)


def write_json(final: Path | str, data: Any, **options: Any) -> Path:
    """Write ``data`` as indented JSON to ``final`` atomically."""
    return write_text(final, json.dumps(data, indent=2, sort_keys=True), **options)
