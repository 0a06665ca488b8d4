"""Finding a case's files by name: BraTS 2018-2021 (``_t1``...), BraTS 2023 (``-t1n``...), MSD, DICOM."""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

from segmentation_core.io.errors import CaseLoadError
from segmentation_core.types import SEQUENCES

IMAGE_SUFFIXES = (".nii.gz", ".nii", ".nrrd", ".nhdr", ".mha", ".mhd")
#: File-name tag -> (role, naming convention).
TAGS: dict[str, tuple[str, str]] = {
    "t1": ("t1", "brats2018"),
    "t1ce": ("t1ce", "brats2018"),
    "t2": ("t2", "brats2018"),
    "flair": ("flair", "brats2018"),
    "t1n": ("t1", "brats2023"),
    "t1c": ("t1ce", "brats2023"),
    "t2w": ("t2", "brats2023"),
    "t2f": ("flair", "brats2023"),
    "seg": ("seg", ""),
}
_NAME = re.compile(r"^(?P<id>.+?)[_-](?P<tag>" + "|".join(sorted(TAGS, key=len, reverse=True)) + r")$", re.I)
_EXAMPLE = {
    "brats2018": "<id>_t1.nii.gz, <id>_t1ce.nii.gz, <id>_t2.nii.gz, <id>_flair.nii.gz",
    "brats2023": "<id>-t1n.nii.gz, <id>-t1c.nii.gz, <id>-t2w.nii.gz, <id>-t2f.nii.gz",
}
MSD_IMAGE_DIRS = ("imagesTr", "imagesTs")


@dataclass(frozen=True)
class CaseFiles:
    """The files of one case found by naming: ``files`` maps role (a SEQUENCES name or "seg") to a path."""

    case_id: str
    files: dict[str, Path]
    naming: str


def split_suffix(name: str) -> tuple[str, str]:
    """(stem, suffix) for a known image suffix, or (name, "") when it has none of them."""
    lower = name.lower()
    for suffix in IMAGE_SUFFIXES:
        if lower.endswith(suffix):
            return name[: -len(suffix)], name[len(name) - len(suffix) :]
    return name, ""


def parse_name(name: str) -> tuple[str, str, str] | None:
    """(case id, role, naming) for a BraTS-style image file name, else None."""
    stem, suffix = split_suffix(name)
    match = _NAME.match(stem) if suffix else None
    if match is None:
        return None
    role, naming = TAGS[match["tag"].lower()]
    return match["id"], role, naming


def scan_folder(folder: Path) -> CaseFiles | None:
    """The BraTS-named image files in ``folder`` (None when there are none); raises on duplicates."""
    found: dict[str, list[Path]] = {}
    ids: set[str] = set()
    namings: set[str] = set()
    for path in sorted(folder.iterdir()):
        parsed = parse_name(path.name) if not path.is_dir() else None
        if parsed is None:
            continue
        if not is_regular_file(path):
            raise CaseLoadError(
                path,
                "is not a regular file (a named pipe, device or broken link); it cannot be read as an image",
                "replace it with the image file itself",
            )
        case_id, role, naming = parsed
        found.setdefault(role, []).append(path)
        ids.add(case_id)
        if naming:
            namings.add(naming)
    if not found:
        return None
    duplicates = {role: paths for role, paths in found.items() if len(paths) > 1}
    if duplicates:
        listing = "; ".join(
            f"{role}: {', '.join(p.name for p in paths)}" for role, paths in duplicates.items()
        )
        raise CaseLoadError(
            folder,
            f"more than one file for the same sequence ({listing})",
            "keep exactly one file per sequence in a case folder (one case per folder)",
        )
    naming = namings.pop() if len(namings) == 1 else ("mixed" if namings else "brats2018")
    case_id = ids.pop() if len(ids) == 1 else folder.name
    return CaseFiles(case_id, {role: paths[0] for role, paths in found.items()}, naming)


def discover_case(folder: Path) -> CaseFiles:
    """All four sequences (and the optional seg) of the case in ``folder``; raises naming what is missing."""
    found = scan_folder(folder)
    if found is None:
        raise CaseLoadError(
            folder,
            "no BraTS-named image files found",
            f"name the files like {_EXAMPLE['brats2018']} (or BraTS 2023: {_EXAMPLE['brats2023']}), "
            "or pass the four files explicitly",
        )
    missing = [s for s in SEQUENCES if s not in found.files]
    if missing:
        naming = found.naming if found.naming in _EXAMPLE else "brats2018"
        raise CaseLoadError(
            folder,
            f"missing sequence(s) {', '.join(missing)} (found: {', '.join(sorted(found.files))})",
            f"a case needs all four sequences named like {_EXAMPLE[naming]}",
        )
    return found


def is_regular_file(path: Path) -> bool:
    """True for a regular file (following links); False for pipes, devices, sockets, folders, missing."""
    try:
        return stat.S_ISREG(path.stat().st_mode)
    except OSError:
        return False


def is_dicom_file(path: Path) -> bool:
    """True for a regular file with the DICOM preamble magic (or a .dcm name); never opens a pipe."""
    if not is_regular_file(path):
        return False
    if path.suffix.lower() == ".dcm":
        return True
    try:
        with path.open("rb") as fh:
            fh.seek(128)
            return fh.read(4) == b"DICM"
    except OSError:
        return False


_NOT_DICOM_SUFFIXES = (*IMAGE_SUFFIXES, ".json", ".txt", ".md", ".csv", ".raw", ".zraw", ".gz", ".zip")


def has_dicom(folder: Path) -> bool:
    """True when ``folder`` (or a folder below it) holds a DICOM file; stops at the first one found."""
    for dirpath, _, filenames in os.walk(folder):
        for name in filenames:
            if not name.startswith(".") and not name.lower().endswith(_NOT_DICOM_SUFFIXES):
                if is_dicom_file(Path(dirpath) / name):
                    return True
    return False


def _study_and_series(folder: Path, samples: int = 5) -> tuple[set[str | None], set[str | None]]:
    """StudyInstanceUIDs and SeriesInstanceUIDs of a few DICOM files spread over ``folder``."""
    import pydicom

    files = [p for p in sorted(folder.iterdir()) if is_dicom_file(p)]
    picked = files[:: max(1, len(files) // samples)][:samples] + files[-1:]
    studies: set[str | None] = set()
    series: set[str | None] = set()
    for path in picked:
        try:
            ds = pydicom.dcmread(
                path, stop_before_pixels=True, specific_tags=["StudyInstanceUID", "SeriesInstanceUID"]
            )
        except Exception:  # an unreadable file is reported when the case is loaded
            studies.add(None)
            continue
        studies.add(str(ds.get("StudyInstanceUID", "")) or None)
        series.add(str(ds.get("SeriesInstanceUID", "")) or None)
    return studies, series


def _dicom_cases(folders: list[Path]) -> list[Path]:
    """DICOM case folders: sibling folders each holding one series of the same study form one case
    (their parent); a folder holding several series is a case of its own."""
    by_parent: dict[Path, list[Path]] = {}
    for folder in folders:
        by_parent.setdefault(folder.parent, []).append(folder)
    cases: list[Path] = []
    for parent, children in by_parent.items():
        one_study = False
        if len(children) > 1 and not any(is_dicom_file(p) for p in parent.iterdir()):
            found = [_study_and_series(c) for c in children]
            studies = set().union(*(st for st, _ in found))
            one_study = len(studies) == 1 and None not in studies and all(len(se) == 1 for _, se in found)
        if one_study:
            cases.append(parent)
        else:
            cases.extend(children)
    return cases


def find_cases(folder: Path | str) -> list[Path]:
    """Every case under ``folder``: BraTS-named case folders, MSD 4-D files and DICOM folders, sorted.

    Raises CaseLoadError when ``folder`` is missing or holds no case at all.
    """
    root = Path(folder)
    if not root.is_dir():
        raise CaseLoadError(root, "is not a folder", "give the folder that holds the case folders")
    cases: list[Path] = []
    dicom_folders: list[Path] = []
    incomplete: list[tuple[Path, list[str]]] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        here = Path(dirpath)
        names = sorted(filenames)
        if here.name in MSD_IMAGE_DIRS:
            cases.extend(
                here / n for n in names if n.lower().endswith((".nii", ".nii.gz")) and not n.startswith(".")
            )
            dirnames.clear()
            continue
        roles = {parsed[1] for n in names if (parsed := parse_name(n)) is not None}
        if all(s in roles for s in SEQUENCES):
            cases.append(here)
            dirnames.clear()
        elif roles - {"seg"}:
            incomplete.append((here, [s for s in SEQUENCES if s not in roles]))
        elif names and any(is_dicom_file(here / n) for n in names[:5]):
            dicom_folders.append(here)
            dirnames.clear()
    cases.extend(_dicom_cases(dicom_folders))
    cases.sort()
    if not cases and incomplete:
        folder, missing = incomplete[0]
        more = f" (and {len(incomplete) - 1} more incomplete folder(s))" if len(incomplete) > 1 else ""
        raise CaseLoadError(
            folder,
            f"no complete case found: this folder lacks the {', '.join(missing)} sequence(s){more}",
            f"a case needs all four sequences named like {_EXAMPLE['brats2018']}",
        )
    if not cases:
        raise CaseLoadError(
            root,
            "no cases found (no BraTS-named case folders, MSD imagesTr/imagesTs files or DICOM folders)",
            f"put each case in its own folder with files named like {_EXAMPLE['brats2018']}",
        )
    return cases
