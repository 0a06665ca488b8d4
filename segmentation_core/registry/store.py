"""The model registry: numbered versions of the model, one of them active.

Layout under ``models_dir()``::

    registry.json          versions, active version, activation history, validation set
    versions/<n>/          bundle of version n (n >= 2); version 1 is the bundled default, never copied

Every change is staged and renamed into place, and ``registry.json`` is rewritten atomically last,
so a failed operation leaves the registry as it was. Changes hold ``.registry.lock`` (a file lock), so
the viewer, a retrain child and the CLI never interleave their read-modify-write of ``registry.json``.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import logging
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from filelock import FileLock, Timeout

from segmentation_core.registry import paths
from segmentation_core.registry.atomic import staging_dir, write_json
from segmentation_core.registry.bundle_check import bundle_files, check_bundle
from segmentation_core.registry.errors import RegistryError

log = logging.getLogger(__name__)
FORMAT = 1
DEFAULT_VERSION = 1
#: How long a change waits for another process's change to the registry (seconds).
LOCK_TIMEOUT_S = 60.0
#: Staging folders older than this (seconds) belong to a process that died mid-change.
STALE_STAGING_S = 3600.0


@dataclass(frozen=True)
class ModelVersion:
    """One registered version: where its bundle is and what is known about it."""

    number: int
    path: Path
    created: str
    source: str
    base_version: int | None = None
    data_size: int | None = None
    note: str = ""
    #: Evaluation on the fixed validation set (see ``registry.evaluation``), or None when not yet run.
    evaluation: dict[str, Any] | None = None
    card: dict[str, Any] = field(default_factory=dict)

    @property
    def read_only(self) -> bool:
        return self.number == DEFAULT_VERSION

    def mean_metric(self, region: str, metric: str) -> float | None:
        """Mean of ``metric`` ("dice", "hd95") for ``region`` over the validation cases, if evaluated."""
        if not self.evaluation:
            return None
        value = self.evaluation.get("mean", {}).get(region, {}).get(metric)
        return None if value is None else float(value)


F = TypeVar("F", bound=Callable[..., Any])


def _locked(method: F) -> F:
    """Run a registry method while holding the registry's file lock."""

    @functools.wraps(method)
    def wrapper(self: ModelRegistry, *args: Any, **kwargs: Any) -> Any:
        with self._changing():
            return method(self, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _shape_problem(state: dict[str, Any]) -> str:
    """What is wrong with the structure of a registry.json (empty when nothing is)."""
    versions = state.get("versions")
    if not isinstance(versions, dict) or not versions:
        return "'versions' is not a non-empty object"
    if not all(isinstance(k, str) and k.isdigit() and isinstance(v, dict) for k, v in versions.items()):
        return "'versions' must map version numbers to objects"
    for key in ("active", "last_version"):
        if not isinstance(state.get(key), int) or isinstance(state.get(key), bool):
            return f"{key!r} is not a version number"
    if str(state["active"]) not in versions:
        return f"the active version {state['active']} is not among the versions"
    history = state.get("history")
    if not isinstance(history, list) or not all(isinstance(v, int) for v in history):
        return "'history' is not a list of version numbers"
    cases = state.get("validation_cases")
    if cases is not None and not (isinstance(cases, list) and all(isinstance(c, str) for c in cases)):
        return "'validation_cases' is not a list of paths"
    return ""


def _read_card(bundle: Path) -> dict[str, Any]:
    from segmentation_core.models.spec import ModelSpec

    try:
        return json.loads(ModelSpec.load(bundle).to_json_text())
    except ValueError:  # BundleError: not readable as a model description
        return {}


class ModelRegistry:
    """Versions 1..N of the model in the user's data folder; version 1 is the bundled default."""

    def __init__(self, root: Path | None = None, default_bundle: Path | None = None) -> None:
        self.dir = paths.models_dir(root)
        self.default_bundle = Path(default_bundle) if default_bundle else paths.default_bundle_dir()
        self._file = self.dir / "registry.json"
        self._versions_dir = self.dir / "versions"
        self._lock = FileLock(self.dir / ".registry.lock", timeout=LOCK_TIMEOUT_S)

    @contextmanager
    def _changing(self) -> Iterator[None]:
        """Hold the registry's file lock (re-entrant within this object) for one read-modify-write."""
        self.dir.mkdir(parents=True, exist_ok=True)
        try:
            with self._lock:
                self._heal()
                yield
        except Timeout:
            raise RegistryError(
                f"another program has been changing the model registry in {self.dir} for "
                f"{LOCK_TIMEOUT_S:.0f} s; try again when it has finished"
            ) from None

    # ----------------------------------------------------------------- state file
    def _load(self) -> dict[str, Any]:
        if not self._file.is_file():
            return {
                "format": FORMAT,
                "active": DEFAULT_VERSION,
                "history": [DEFAULT_VERSION],
                "last_version": DEFAULT_VERSION,
                "validation_cases": None,
                "versions": {str(DEFAULT_VERSION): {"created": "", "source": "bundled"}},
            }
        try:
            state = json.loads(self._file.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise RegistryError(
                f"{self._file}: the model registry file is damaged ({exc}); "
                "move it away to start a fresh registry (stored versions stay in versions/)"
            ) from exc
        if not isinstance(state, dict) or state.get("format") != FORMAT:
            found = state.get("format") if isinstance(state, dict) else type(state).__name__
            raise RegistryError(
                f"{self._file}: registry format {found!r} is not supported "
                f"(expected {FORMAT}); update brats-viewer, or move the file away to start a fresh registry"
            )
        problem = _shape_problem(state)
        if problem:
            raise RegistryError(
                f"{self._file}: the model registry file is damaged ({problem}); "
                "move it away to start a fresh registry (stored versions stay in versions/)"
            )
        return state

    def _save(self, state: dict[str, Any]) -> None:
        write_json(self._file, state)

    def _heal(self) -> None:
        """Repair what a process killed mid-change left behind (called holding the lock).

        A version folder missing from registry.json (killed between the rename and the save) is
        adopted when it holds a loadable bundle, else set aside as ``.orphan-<n>-<time>``; a version
        folder moved to ``.deleted-<n>`` by an unfinished delete goes back (or away, when the delete
        was saved); staging folders older than an hour are removed.
        """
        try:
            state = self._load()
        except RegistryError:
            return  # a damaged registry.json is reported by the change itself
        changed = False
        for trash in self.dir.glob(".deleted-*"):
            number = trash.name.removeprefix(".deleted-")
            folder = self._versions_dir / number
            if number in state["versions"] and not folder.exists():
                self._versions_dir.mkdir(parents=True, exist_ok=True)
                trash.rename(folder)
                log.warning("restored model version %s from an interrupted delete", number)
            else:
                shutil.rmtree(trash, ignore_errors=True)
        for folder in sorted(self._versions_dir.iterdir()) if self._versions_dir.is_dir() else ():
            if not folder.name.isdigit() or folder.name in state["versions"]:
                continue
            changed |= self._adopt_or_set_aside(state, folder)
        for staged in [*self.dir.glob(".register-*"), *self.dir.glob(".import-*")]:
            if time.time() - staged.stat().st_mtime > STALE_STAGING_S:
                shutil.rmtree(staged, ignore_errors=True)
        if changed:
            self._save(state)

    def _adopt_or_set_aside(self, state: dict[str, Any], folder: Path) -> bool:
        number = int(folder.name)
        try:
            if number <= DEFAULT_VERSION:
                raise RegistryError(f"{folder}: version {number} is reserved for the bundled model")
            check_bundle(folder)
        except RegistryError as exc:
            aside = self.dir / f".orphan-{number}-{int(time.time())}"
            folder.rename(aside)
            log.warning("set aside %s, which was not in the registry (%s), as %s", folder, exc, aside.name)
            return False
        created = dt.datetime.fromtimestamp(folder.stat().st_mtime, dt.UTC).isoformat(timespec="seconds")
        card = _read_card(folder)
        found = card.get("training")
        training: dict[str, Any] = found if isinstance(found, dict) else {}
        state["versions"][str(number)] = {
            "created": created,
            "source": "recovered",
            "base_version": None,
            "data_size": training.get("n_cases"),
            "note": "adopted: its registration was interrupted",
        }
        state["last_version"] = max(int(state["last_version"]), number)
        log.warning("adopted model version %d, whose registration was interrupted", number)
        return True

    def _entry(self, state: dict[str, Any], number: int) -> dict[str, Any]:
        entry = state["versions"].get(str(number))
        if entry is None:
            known = ", ".join(sorted(state["versions"], key=int))
            raise RegistryError(f"model version {number} does not exist (known versions: {known})")
        return entry

    def bundle_path(self, number: int) -> Path:
        """Folder of the bundle of version ``number`` (the bundled default for version 1)."""
        return self.default_bundle if number == DEFAULT_VERSION else self._versions_dir / str(number)

    def _version(self, number: int, entry: dict[str, Any]) -> ModelVersion:
        path = self.bundle_path(number)
        return ModelVersion(
            number=number,
            path=path,
            created=entry.get("created", ""),
            source=entry.get("source", ""),
            base_version=entry.get("base_version"),
            data_size=entry.get("data_size"),
            note=entry.get("note", ""),
            evaluation=entry.get("evaluation"),
            card=_read_card(path),
        )

    # ----------------------------------------------------------------- queries
    def versions(self) -> list[ModelVersion]:
        """All versions, oldest first."""
        state = self._load()
        return [
            self._version(int(n), e) for n, e in sorted(state["versions"].items(), key=lambda i: int(i[0]))
        ]

    def version(self, number: int) -> ModelVersion:
        state = self._load()
        return self._version(number, self._entry(state, number))

    @property
    def active_version(self) -> int:
        return int(self._load()["active"])

    def active(self) -> ModelVersion:
        return self.version(self.active_version)

    def active_bundle_path(self) -> Path:
        """Bundle folder of the active version (what Segment loads)."""
        return self.bundle_path(self.active_version)

    def history(self) -> list[int]:
        """Versions in the order they were activated (the last one is active)."""
        return [int(v) for v in self._load()["history"]]

    # ----------------------------------------------------------------- changes
    @_locked
    def register(
        self,
        bundle_dir: Path,
        *,
        base_version: int | None,
        data_size: int | None = None,
        source: str = "trained",
        note: str = "",
        validation_cases: list[Path] | None = None,
    ) -> ModelVersion:
        """Copy a checked bundle in as version N+1 (not activated).

        ``validation_cases`` (the cases the run held out) become the fixed validation set when the
        user has not chosen one yet.
        """
        bundle_dir = Path(bundle_dir)
        check_bundle(bundle_dir)
        state = self._load()
        staged = staging_dir(self.dir, "register")
        try:
            for path in bundle_files(bundle_dir):
                shutil.copy2(path, staged / path.name)
            return self._commit_staged(staged, state, base_version, data_size, source, note, validation_cases)
        finally:
            shutil.rmtree(staged, ignore_errors=True)

    def _commit_staged(
        self,
        staged: Path,
        state: dict[str, Any],
        base_version: int | None,
        data_size: int | None,
        source: str,
        note: str,
        validation_cases: list[Path] | None,
    ) -> ModelVersion:
        """Rename a staged, checked bundle to the next version folder and record it."""
        number = int(state["last_version"]) + 1
        final = self._versions_dir / str(number)
        if final.exists():
            raise RegistryError(f"{final} already exists but is not in the registry; move it away and retry")
        self._versions_dir.mkdir(parents=True, exist_ok=True)
        _stamp_version(staged / "model.json", number)  # the bundle says which version it is (status bar)
        staged.rename(final)
        entry = {"created": _now(), "source": source, "base_version": base_version, "data_size": data_size}
        if note:
            entry["note"] = note
        state["versions"][str(number)] = entry
        state["last_version"] = number
        if state.get("validation_cases") is None and validation_cases:
            state["validation_cases"] = [str(Path(p)) for p in validation_cases]
        try:
            self._save(state)
        except OSError:
            shutil.rmtree(final, ignore_errors=True)
            raise
        log.info("registered model version %d (%s)", number, source)
        return self._version(number, entry)

    @_locked
    def activate(self, number: int) -> None:
        """Make ``number`` the version that Segment uses."""
        state = self._load()
        self._entry(state, number)
        check_bundle(self.bundle_path(number))
        if int(state["active"]) == number:
            return
        state["active"] = number
        state["history"].append(number)
        self._save(state)

    @_locked
    def roll_back(self) -> int:
        """Re-activate the version that was active before the current one; returns it."""
        state = self._load()
        history = [int(v) for v in state["history"]]
        active = int(state["active"])
        while history and history[-1] == active:
            history.pop()
        history = [v for v in history if str(v) in state["versions"]]
        previous = history[-1] if history else DEFAULT_VERSION
        if previous == active:
            raise RegistryError(
                f"version {active} is the only version ever activated; nothing to roll back to"
            )
        check_bundle(self.bundle_path(previous))
        state["history"] = history or [previous]
        state["active"] = previous
        self._save(state)
        return previous

    @_locked
    def delete(self, number: int, *, switch_to: int | None = None) -> None:
        """Delete a stored version; the active one only together with activating ``switch_to``."""
        if number == DEFAULT_VERSION:
            raise RegistryError(
                "version 1 is the bundled default model; it is read-only and cannot be deleted"
            )
        state = self._load()
        self._entry(state, number)
        if int(state["active"]) == number:
            if switch_to is None or switch_to == number:
                raise RegistryError(
                    f"version {number} is the active model; activate another version first "
                    "(or delete it with a version to switch to)"
                )
            self._entry(state, switch_to)
            check_bundle(self.bundle_path(switch_to))
            state["active"] = switch_to
            state["history"].append(switch_to)
        del state["versions"][str(number)]
        state["history"] = [v for v in state["history"] if int(v) != number]
        folder = self.bundle_path(number)
        trash = self.dir / f".deleted-{number}"
        shutil.rmtree(trash, ignore_errors=True)
        if folder.exists():
            folder.rename(trash)
        try:
            self._save(state)
        except OSError:
            if trash.exists():
                trash.rename(folder)
            raise
        shutil.rmtree(trash, ignore_errors=True)

    # ----------------------------------------------------------------- validation set
    def validation_cases(self) -> list[Path] | None:
        """The fixed validation cases every version is evaluated on, or None when not chosen yet."""
        cases = self._load().get("validation_cases")
        return None if cases is None else [Path(p) for p in cases]

    @_locked
    def set_validation_cases(self, cases: list[Path]) -> None:
        """Fix the validation set (evaluations made on another set are dropped)."""
        if not cases:
            raise RegistryError("the validation set needs at least one case with reference labels")
        state = self._load()
        state["validation_cases"] = [str(Path(p)) for p in cases]
        for entry in state["versions"].values():
            entry.pop("evaluation", None)
        self._save(state)

    @_locked
    def record_evaluation(self, number: int, evaluation: dict[str, Any]) -> None:
        """Store the evaluation of version ``number`` on the validation set."""
        state = self._load()
        self._entry(state, number)["evaluation"] = evaluation
        self._save(state)

    @_locked
    def import_staged(self, staged: Path, source: str, note: str = "") -> ModelVersion:
        """Register an already staged and checked bundle folder inside ``self.dir`` (used by import)."""
        card = _read_card(staged)
        data_size = (
            card.get("training", {}).get("n_cases") if isinstance(card.get("training"), dict) else None
        )
        return self._commit_staged(staged, self._load(), None, data_size, source, note, None)


def _stamp_version(model_json: Path, number: int) -> None:
    """Write the registry's version number into a staged bundle's model.json."""
    data = json.loads(model_json.read_text(encoding="utf-8"))
    data["version"] = str(number)
    model_json.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
