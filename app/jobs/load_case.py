"""Loading a case as a job: a frozen request and a generator that yields the core loader's progress."""

from __future__ import annotations

from collections.abc import Generator, Sequence
from dataclasses import dataclass
from pathlib import Path

from app.jobs.background import yield_progress
from segmentation_core.io import CaseLoadError
from segmentation_core.io.naming import parse_name
from segmentation_core.types import CancelToken, Case, Progress


@dataclass(frozen=True)
class LoadCaseRequest:
    """A case folder (BraTS naming or DICOM), an MSD 4-D file, or role -> file pairs."""

    source: Path | tuple[tuple[str, Path], ...]
    scheme: str | None = None

    @property
    def label(self) -> str:
        """A short name for progress dialogs and the recent-cases menu."""
        if isinstance(self.source, Path):
            return self.source.name
        return Path(dict(self.source).get("t1", self.source[0][1])).parent.name

    @classmethod
    def from_paths(cls, paths: Sequence[Path | str]) -> LoadCaseRequest:
        """A folder, one MSD file, or several image files whose BraTS-style names say their sequence.

        Raises CaseLoadError naming a file whose name does not say which sequence it holds.
        """
        files = [Path(p) for p in paths]
        if not files:
            raise CaseLoadError(None, "no files were given", "choose a case folder or its image files")
        if len(files) == 1:
            return cls(files[0])
        roles: dict[str, Path] = {}
        for path in files:
            parsed = parse_name(path.name)
            if parsed is None:
                raise CaseLoadError(
                    path,
                    "the file name does not say which sequence it holds",
                    "name the files <case>_t1, _t1ce, _t2, _flair (and _seg), or open the case folder",
                )
            role = parsed[1]
            if role in roles:
                raise CaseLoadError(
                    path, f"a second {role} file (the first is {roles[role].name})", "choose one"
                )
            roles[role] = path
        return cls(tuple(sorted(roles.items())))


def run_load_case(request: LoadCaseRequest, cancel: CancelToken) -> Generator[Progress, None, Case]:
    """Load the case in a helper thread, yielding the loader's Progress as it arrives; returns the Case.

    Raises CaseLoadError for bad input and CancelledError when ``cancel`` is set between files.
    """
    from segmentation_core.io import load_case  # nibabel and SimpleITK load in the worker, not at start-up

    source = request.source if isinstance(request.source, Path) else dict(request.source)
    return (yield from yield_progress(load_case, cancel, source, scheme=request.scheme))
