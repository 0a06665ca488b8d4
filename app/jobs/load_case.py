"""Loading a case as a job: a frozen request and a generator that yields the core loader's progress.

A label file that cannot be used does not keep the images from opening: they open without labels and
the case's warnings say why. Label values that fit no scheme the loader can detect raise
``LabelSchemeUnclear`` instead, so that the window can ask which scheme the file follows.

A raw study (files named as a scanner names them, or DICOM series; thick oblique slices, skull on,
sequences on their own grids) opens on its reference sequence's native grid as an ``OpenedStudy``
(``segmentation_core.raw.native``); a folder of such files that is already BraTS-like opens as a case.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Generator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from app.jobs.background import yield_progress
from segmentation_core.io import CaseLoadError
from segmentation_core.io.naming import parse_name
from segmentation_core.types import CancelToken, Case, Progress

if TYPE_CHECKING:
    from segmentation_core.raw.native import OpenedStudy

#: How a folder that may be a raw study opens: detect it, always as one, or never (the case loader).
RawMode = Literal["auto", "raw", "brats"]


@dataclass(frozen=True)
class LoadCaseRequest:
    """A case folder (BraTS naming or DICOM), an MSD 4-D file, or role -> file pairs."""

    source: Path | tuple[tuple[str, Path], ...]
    scheme: str | None = None
    #: False: open the images only, leaving the case's label file aside.
    labels: bool = True
    #: "auto": a raw study is detected; "raw": open one on its reference grid even when BraTS-like;
    #: "brats": never treat the input as a raw study.
    raw: RawMode = "auto"
    #: The sequence whose native grid a raw study opens on.
    reference: str = "t1ce"

    @property
    def label(self) -> str:
        """A short name for progress dialogs and the recent-cases menu."""
        if isinstance(self.source, Path):
            return self.source.name
        return Path(dict(self.source).get("t1", self.source[0][1])).parent.name

    @classmethod
    def from_paths(cls, paths: Sequence[Path | str]) -> LoadCaseRequest:
        """A folder, one MSD file, or several image files whose names say their sequence (BraTS-style
        names, or scanner-style names such as ``T1_AX_POST_GAD.nii.gz``).

        Raises CaseLoadError naming a file whose name does not say which sequence it holds.
        """
        files = [Path(p) for p in paths]
        if not files:
            raise CaseLoadError(None, "no files were given", "choose a case folder or its image files")
        if len(files) == 1:
            return cls(files[0])
        from segmentation_core.raw.identify import identify_name

        roles: dict[str, Path] = {}
        for path in files:
            parsed = parse_name(path.name)
            role = parsed[1] if parsed is not None else identify_name(path.name)
            if role is None:
                raise CaseLoadError(
                    path,
                    "the file name does not say which sequence it holds",
                    "name the files <case>_t1, _t1ce, _t2, _flair (and _seg), or open the case folder",
                )
            if role in roles:
                raise CaseLoadError(
                    path, f"a second {role} file (the first is {roles[role].name})", "choose one"
                )
            roles[role] = path
        return cls(tuple(sorted(roles.items())))


class LabelSchemeUnclear(CaseLoadError):
    """The label file's values fit no scheme that could be detected: the user should say which it is."""


def label_file(request: LoadCaseRequest) -> Path | None:
    """The label file the request would read (a folder's ``_seg``, an MSD case's labelsTr file), or None."""
    from segmentation_core.io.msd import msd_label_path
    from segmentation_core.io.naming import scan_folder

    if not isinstance(request.source, Path):
        return dict(request.source).get("seg")
    if request.source.is_file():
        return msd_label_path(request.source)
    found = scan_folder(request.source) if request.source.is_dir() else None
    return None if found is None else found.files.get("seg")


def images_only(request: LoadCaseRequest) -> LoadCaseRequest | None:
    """The request without its label file (None where the images cannot be read without it: MSD)."""
    from segmentation_core.io.naming import scan_folder

    if isinstance(request.source, Path):
        found = scan_folder(request.source) if request.source.is_dir() else None
        if found is None:
            return None
        files = found.files
    else:
        files = dict(request.source)
    return LoadCaseRequest(tuple(sorted((r, Path(p)) for r, p in files.items() if r != "seg")), labels=False)


def raw_study_source(request: LoadCaseRequest) -> Path | dict[str, Path] | None:
    """What to read as a raw study (a folder, or role -> file), or None when the case loader reads it.

    BraTS-named cases, MSD files and explicit files with a label file go to the case loader; folders
    (or one subfolder) whose file names identify the sequences, DICOM folders, and files named as a
    scanner names them are raw-study candidates.
    """
    from segmentation_core.io.naming import has_dicom, scan_folder
    from segmentation_core.raw.native import study_folder

    if not isinstance(request.source, Path):
        files = dict(request.source)
        if "seg" in files or all(parse_name(p.name) is not None for p in files.values()):
            return None
        return files
    folder = request.source
    if not folder.is_dir() or scan_folder(folder) is not None:
        return None
    named = study_folder(folder)
    if named is not None:
        return named
    return folder if has_dicom(folder) else None


def as_case_request(request: LoadCaseRequest, source: Path | dict[str, Path]) -> LoadCaseRequest:
    """A raw-study candidate for the case loader (raw-study handling off): its files by role, or as is."""
    from segmentation_core.raw.native import named_files

    files = named_files(source) if isinstance(source, Path) else source
    if files is None:
        return request
    return dataclasses.replace(request, source=tuple(sorted(files.items())))


def run_load_case(
    request: LoadCaseRequest, cancel: CancelToken
) -> Generator[Progress, None, Case | OpenedStudy]:
    """Load the case, yielding the loader's Progress; returns the Case (an OpenedStudy for a raw study).

    A label file that cannot be used is left aside (the Case's warnings say why); raises
    LabelSchemeUnclear when its values fit no detectable scheme, CaseLoadError for other bad input,
    RawStudyError for a raw study missing a sequence, and CancelledError when ``cancel`` is set between
    files.
    """
    source = raw_study_source(request)
    if source is not None and request.raw == "brats":
        request = as_case_request(request, source)
    elif source is not None:
        from segmentation_core.raw.native import open_study

        opened = yield from yield_progress(open_study, cancel, source, reference=request.reference)
        if request.raw == "raw" or not opened.detection.brats_like:
            return opened
        if isinstance(source, Mapping) or opened.case.source_format != "dicom":
            files = tuple(sorted((role, paths[0]) for role, paths in opened.case.source_files.items()))
            request = dataclasses.replace(request, source=files)
    plain = images_only(request) if not request.labels else request
    if plain is None:
        where = request.source if isinstance(request.source, Path) else dict(request.source).get("t1")
        raise CaseLoadError(where, "this case cannot be opened without its labels")
    try:
        return (yield from _load(plain, cancel))
    except CaseLoadError as exc:
        from segmentation_core.labels import LabelValueError

        seg = label_file(request) if request.labels else None
        if seg is None or exc.path is None or Path(exc.path).resolve() != Path(seg).resolve():
            raise
        if request.scheme is None and isinstance(exc.__cause__, LabelValueError):
            raise LabelSchemeUnclear(seg, exc.problem) from exc
        fallback = images_only(request)
        if fallback is None:
            raise
        note = f"the labels in {seg.name} were not loaded ({exc.problem}); the images opened without them"
    case = yield from _load(fallback, cancel)
    return dataclasses.replace(case, warnings=[*case.warnings, note])


def _load(request: LoadCaseRequest, cancel: CancelToken) -> Generator[Progress, None, Case]:
    """The core loader in a helper thread, yielding its Progress as it arrives; returns the Case."""
    from segmentation_core.io import load_case  # nibabel and SimpleITK load in the worker, not at start-up

    source = request.source if isinstance(request.source, Path) else dict(request.source)
    return (yield from yield_progress(load_case, cancel, source, scheme=request.scheme))
