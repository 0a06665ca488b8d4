"""A raw study: each sequence on its own native grid, exactly as stored (no reorientation, no resampling)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from segmentation_core.io.errors import CaseLoadError
from segmentation_core.io.naming import IMAGE_SUFFIXES, has_dicom, split_suffix
from segmentation_core.io.nifti import RawImage
from segmentation_core.io.steps import ProgressCallback, Steps
from segmentation_core.io.validation import check_3d, check_finite
from segmentation_core.raw.errors import RawStudyError
from segmentation_core.raw.identify import identify_files
from segmentation_core.types import SEQUENCES, CancelToken, Volume

IDENTIFY = "sequence identification"


@dataclass(eq=False)
class RawStudy:
    """One patient's sequences, each a float32 Volume on its own grid (array axes as in the file)."""

    images: dict[str, Volume]
    reference: str
    case_id: str
    #: Files each sequence was read from (a DICOM series lists its slices).
    files: dict[str, tuple[Path, ...]] = field(default_factory=dict)
    source_format: str = "nifti"
    warnings: list[str] = field(default_factory=list)

    @property
    def reference_volume(self) -> Volume:
        return self.images[self.reference]

    def all_files(self) -> list[Path]:
        return [path for name in sorted(self.files) for path in self.files[name]]


def read_study(
    source: Path | str | Mapping[str, Path | str],
    *,
    reference: str = "t1ce",
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> RawStudy:
    """Read the four sequences of a study from a folder (named files or DICOM) or a role -> file mapping.

    Raises RawStudyError (step "sequence identification") when a sequence is missing or ambiguous, and
    CaseLoadError (naming the file) when a file cannot be read.
    """
    if reference not in SEQUENCES:
        raise RawStudyError(IDENTIFY, reference, f"unknown reference sequence, use one of {list(SEQUENCES)}")
    steps = Steps(progress, cancel)
    if isinstance(source, Mapping):
        files = {str(role): Path(path) for role, path in source.items()}
        case_id = _case_id(files, None)
        return _read_files(files, reference, case_id, [], steps)
    folder = Path(source)
    if not folder.is_dir():
        raise CaseLoadError(folder, "is not a folder", "give the folder holding the study's sequences")
    images = sorted(p for p in folder.iterdir() if p.is_file() and split_suffix(p.name)[1])
    if not images and has_dicom(folder):
        return _read_dicom(folder, reference, steps)
    found, unknown = identify_files(images)
    duplicates = {role: paths for role, paths in found.items() if len(paths) > 1}
    if duplicates:
        listing = "; ".join(f"{role}: {', '.join(p.name for p in ps)}" for role, ps in duplicates.items())
        raise RawStudyError(
            IDENTIFY,
            ", ".join(duplicates),
            f"several files in {folder} name the same sequence ({listing})",
            "keep one file per sequence, or pass the files explicitly",
        )
    files = {role: paths[0] for role, paths in found.items()}
    warnings = [f"ignored {p.name}: its name names no sequence" for p in unknown]
    return _read_files(files, reference, _case_id(files, folder), warnings, steps)


def _case_id(files: dict[str, Path], folder: Path | None) -> str:
    """The BraTS case id when every file carries the same one, else the folder's (or first file's) name."""
    from segmentation_core.io.naming import parse_name

    parsed = [parse_name(path.name) for path in files.values()]
    ids = {p[0] for p in parsed if p is not None}
    if len(ids) == 1 and None not in parsed:
        return ids.pop()
    if folder is None:
        return split_suffix(next(iter(files.values())).name)[0] if files else "study"
    return folder.name if folder.name.lower() not in {"raw", "input", "images"} else folder.parent.name


def _check_roles(roles: list[str], where: str) -> None:
    unknown = sorted(set(roles) - set(SEQUENCES))
    if unknown:
        raise RawStudyError(
            IDENTIFY, ", ".join(unknown), f"unknown sequence name(s) in {where}", f"use {list(SEQUENCES)}"
        )
    missing = [s for s in SEQUENCES if s not in roles]
    if missing:
        raise RawStudyError(
            IDENTIFY,
            ", ".join(missing),
            f"missing in {where} (found {', '.join(sorted(roles)) or 'nothing'})",
            "the model needs T1, T1c, T2 and FLAIR; name each file after its sequence or pass them explicitly",
        )


def _read_files(
    files: dict[str, Path], reference: str, case_id: str, warnings: list[str], steps: Steps
) -> RawStudy:
    from segmentation_core.io.readers import read_image

    where = str(next(iter(files.values())).parent) if files else "the input"
    _check_roles(list(files), where)
    steps.total = len(SEQUENCES)
    images: dict[str, Volume] = {}
    for role in SEQUENCES:
        steps.step(f"reading {role}: {files[role].name}")
        images[role] = _volume(read_image(files[role]))
    steps.finish(f"read {case_id}")
    return RawStudy(images, reference, case_id, {r: (p,) for r, p in files.items()}, "nifti", warnings)


def _read_dicom(folder: Path, reference: str, steps: Steps) -> RawStudy:
    from segmentation_core.io.dicom import assign_roles, check_same_patient, read_series, scan_dicom_folder

    series = scan_dicom_folder(folder)
    chosen = assign_roles(series, None, folder)
    check_same_patient(chosen, folder)
    steps.total = len(SEQUENCES)
    images: dict[str, Volume] = {}
    for role in SEQUENCES:
        steps.step(f"reading {role}: {chosen[role].label}")
        images[role] = _volume(read_series(chosen[role]))
    steps.finish(f"read {folder.name}")
    case_id = str(chosen[reference].header.get("PatientID", "") or folder.name)
    files = {role: tuple(s.files) for role, s in chosen.items()}
    return RawStudy(images, reference, case_id, files, "dicom", [])


def _volume(raw: RawImage) -> Volume:
    array = check_3d(raw.array, raw.path)
    check_finite(array, raw.path)
    return Volume(np.asarray(array, dtype=np.float32), raw.affine, raw.path)


def blank_sequences(study: RawStudy) -> dict[str, str]:
    """Sequence -> why it holds no image (blank or constant): nothing to co-register or segment."""
    problems: dict[str, str] = {}
    for name in SEQUENCES:
        array = study.images[name].array
        lo, hi = float(array.min()), float(array.max())
        if lo == hi:
            problems[name] = (
                "is blank (every voxel is 0)" if hi == 0 else f"is constant (every voxel is {hi:g})"
            )
    return problems


def check_not_blank(study: RawStudy) -> None:
    """Raise RawStudyError (step "co-registration") for the first blank or constant sequence."""
    for name, problem in blank_sequences(study).items():
        file = study.files.get(name, ())
        where = f"the {name} image ({file[0].name})" if len(file) == 1 else f"the {name} image"
        raise RawStudyError(
            "co-registration", name, f"{where} {problem}", "check that the file holds this sequence's image"
        )


def looks_like_study(folder: Path) -> bool:
    """True when ``folder`` holds image files naming all four sequences (one each), or DICOM series."""
    if not folder.is_dir():
        return False
    images = [p for p in folder.iterdir() if p.is_file() and p.name.lower().endswith(IMAGE_SUFFIXES)]
    found, _ = identify_files(images)
    return all(len(found.get(role, [])) == 1 for role in SEQUENCES)
