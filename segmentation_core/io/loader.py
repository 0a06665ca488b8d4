"""``load_case``: every supported form of a case -> one canonical-orientation Case on one grid."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path

from segmentation_core.io.assemble import REFERENCE, assemble_case
from segmentation_core.io.errors import CaseLoadError
from segmentation_core.io.msd import msd_label_path, split_msd
from segmentation_core.io.naming import discover_case, has_dicom, parse_name, scan_folder, split_suffix
from segmentation_core.io.nifti import RawImage, is_nifti
from segmentation_core.io.readers import read_image, source_format
from segmentation_core.io.steps import ProgressCallback, Steps
from segmentation_core.types import SEQUENCES, CancelToken, Case

log = logging.getLogger(__name__)


def load_case(
    source: Path | str | Mapping[str, Path | str],
    *,
    scheme: str | None = None,
    dicom_roles: dict[str, str] | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> Case:
    """Load a case from a folder (BraTS naming or DICOM), an MSD 4-D file or a role -> file mapping.

    Channels are float32 on the reference (T1) grid in canonical RAS+ orientation; labels (when the
    case has a segmentation) hold internal values with ``LabelMap.scheme`` naming the file's scheme.
    ``scheme`` overrides label-scheme detection; ``dicom_roles`` maps a sequence name to the DICOM
    series (SeriesInstanceUID, SeriesNumber or SeriesDescription) to use for it. ``progress`` is
    called with a Progress before each file (or series) is read; ``cancel`` is checked at the same
    points (CancelledError). Raises CaseLoadError (naming the file, the problem and the remedy) on
    any bad input; nothing is returned half-loaded.
    """
    steps = Steps(progress, cancel)
    case = _load(source, scheme, dicom_roles, steps)
    steps.finish(f"loaded {case.case_id}")
    return case


def _load(
    source: Path | str | Mapping[str, Path | str],
    scheme: str | None,
    dicom_roles: dict[str, str] | None,
    steps: Steps,
) -> Case:
    if isinstance(source, Mapping):
        return _load_mapping(source, scheme, steps)
    path = Path(source)
    if path.is_file():
        if not is_nifti(path):
            raise CaseLoadError(
                path,
                "a single file can only be an MSD 4-D NIfTI case",
                "give the case folder, or map each sequence to its file",
            )
        return _load_msd(path, scheme, steps)
    if path.is_dir():
        return _load_folder(path, scheme, dicom_roles, steps)
    raise CaseLoadError(path, "does not exist", "check the path of the case folder or file")


def _load_mapping(mapping: Mapping[str, Path | str], scheme: str | None, steps: Steps) -> Case:
    files = {str(role): Path(p) for role, p in mapping.items()}
    unknown = sorted(set(files) - set(SEQUENCES) - {"seg"})
    missing = [s for s in SEQUENCES if s not in files]
    if unknown or missing:
        problem = "; ".join(
            part
            for part in (
                f"unknown role(s) {unknown}" if unknown else "",
                f"missing sequence(s) {missing}" if missing else "",
            )
            if part
        )
        raise CaseLoadError(
            None,
            f"explicit case files: {problem}",
            f"map each of {list(SEQUENCES)} (and optionally 'seg') to a file",
        )
    parsed = parse_name(files[REFERENCE].name)
    case_id = parsed[0] if parsed else split_suffix(files[REFERENCE].name)[0]
    hint = "brats2023" if parsed and parsed[2] == "brats2023" else None
    fmt = source_format(files[REFERENCE])
    return _assemble_files(files, case_id, scheme, hint, fmt, steps)


def _load_folder(folder: Path, scheme: str | None, dicom_roles: dict[str, str] | None, steps: Steps) -> Case:
    entries = [p for p in folder.iterdir() if not p.name.startswith(".")]
    if not entries:
        raise CaseLoadError(
            folder, "the folder is empty", "choose the folder that holds the case's sequence files"
        )
    if scan_folder(folder) is None:
        if has_dicom(folder):
            from segmentation_core.io.dicom import load_dicom_case

            return load_dicom_case(folder, roles=dicom_roles, steps=steps)
        subfolders = sorted(p.name for p in entries if p.is_dir() and scan_folder(p) is not None)
        if subfolders:
            shown = ", ".join(subfolders[:5]) + (", ..." if len(subfolders) > 5 else "")
            raise CaseLoadError(
                folder,
                f"holds {len(subfolders)} case folder(s) ({shown}), not one case",
                "open one case folder (batch commands take the parent folder)",
            )
    found = discover_case(folder)
    hint = "brats2023" if found.naming == "brats2023" else None
    fmt = source_format(found.files[REFERENCE])
    return _assemble_files(found.files, found.case_id, scheme, hint, fmt, steps)


def _load_msd(path: Path, scheme: str | None, steps: Steps) -> Case:
    label_path = msd_label_path(path)
    steps.total = 2 if label_path else 1
    steps.step(f"reading {path.name}")
    images = split_msd(path)
    if label_path:
        steps.step(f"reading {label_path.name}")
    seg = read_image(label_path) if label_path else None
    files: dict[str, tuple[Path, ...]] = {role: (path,) for role in images}
    if label_path:
        files["seg"] = (label_path,)
    case_id = split_suffix(path.name)[0]
    return assemble_case(images, seg, case_id=case_id, scheme=scheme, hint="msd", files=files, fmt="msd")


def _assemble_files(
    files: dict[str, Path], case_id: str, scheme: str | None, hint: str | None, fmt: str, steps: Steps
) -> Case:
    images: dict[str, RawImage] = {}
    sources: dict[str, tuple[Path, ...]] = {}
    steps.total = len(files)
    for role, path in files.items():
        steps.step(f"reading {role}: {path.name}")
        if path.is_dir():  # one DICOM series per folder
            from segmentation_core.io.dicom import read_series_folder

            images[role], sources[role] = read_series_folder(path)
        else:
            images[role], sources[role] = read_image(path), (path,)
    seg = images.pop("seg", None)
    return assemble_case(images, seg, case_id=case_id, scheme=scheme, hint=hint, files=sources, fmt=fmt)
