"""``load_case``: every supported form of a case -> one canonical-orientation Case on one grid."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from segmentation_core.io.errors import CaseLoadError
from segmentation_core.io.geometry import overlap_fraction, resample_to
from segmentation_core.io.label_io import labels_to_internal
from segmentation_core.io.msd import msd_label_path, split_msd
from segmentation_core.io.naming import discover_case, has_dicom, parse_name, scan_folder, split_suffix
from segmentation_core.io.nifti import RawImage, is_nifti
from segmentation_core.io.orientation import to_canonical
from segmentation_core.io.readers import read_image, source_format
from segmentation_core.io.safe_paths import safe_name
from segmentation_core.io.steps import ProgressCallback, Steps
from segmentation_core.io.validation import check_3d, check_finite
from segmentation_core.types import SEQUENCES, CancelToken, Case, LabelMap, Volume

log = logging.getLogger(__name__)
REFERENCE = "t1"


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
    files = {role: (path,) for role in images}
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


def assemble_case(
    images: dict[str, RawImage],
    seg: RawImage | None,
    *,
    case_id: str,
    scheme: str | None,
    hint: str | None,
    files: dict[str, tuple[Path, ...]],
    fmt: str,
) -> Case:
    """Validate, reorient and (when needed) resample raw images into a Case on the reference grid."""
    warnings: list[str] = list(dict.fromkeys(n for raw in (*images.values(), seg) if raw for n in raw.notes))
    ref_raw = images[REFERENCE]
    ref_array = check_3d(ref_raw.array, ref_raw.path)
    channels: dict[str, Volume] = {}
    for role in SEQUENCES:
        raw = images[role]
        array = check_3d(raw.array, raw.path)
        check_finite(array, raw.path)
        canon, affine = to_canonical(array, raw.affine, dtype=np.float32)
        volume = Volume(canon, affine, raw.path)
        if role != REFERENCE:
            volume = _onto_reference(volume, channels[REFERENCE], role, warnings, nearest=False)
        channels[role] = volume
    labels = None
    if seg is not None:
        internal, affine, name, notes = labels_to_internal(seg, scheme, hint)
        warnings.extend(notes)
        volume = _onto_reference(
            Volume(internal, affine, seg.path), channels[REFERENCE], "seg", warnings, nearest=True
        )
        labels = LabelMap(volume, name)
    for message in warnings:
        log.warning("%s: %s", case_id, message)
    return Case(
        channels=channels,
        reference=REFERENCE,
        labels=labels,
        case_id=safe_name(case_id),
        warnings=warnings,
        source_affine=ref_raw.affine.copy(),
        source_shape=tuple(int(s) for s in ref_array.shape),  # type: ignore[arg-type]
        source_files=files,
        source_format=fmt,
    )


def _onto_reference(
    volume: Volume, reference: Volume, role: str, warnings: list[str], *, nearest: bool
) -> Volume:
    if volume.same_grid(reference):
        return volume
    path = volume.source
    if overlap_fraction(volume, reference) <= 0.0:
        raise CaseLoadError(
            path,
            f"the {role} volume does not overlap the {REFERENCE} volume in space (grids "
            f"{volume.shape} @ {volume.orientation} and {reference.shape} @ {reference.orientation})",
            "check that all files belong to the same patient and study, or co-register them first",
        )
    warnings.append(
        f"{role} ({path.name if path else role}) was resampled onto the {REFERENCE} grid "
        f"({'nearest neighbour' if nearest else 'linear'}): its grid {volume.shape}, spacing "
        f"{tuple(round(s, 3) for s in volume.spacing)} differs from {reference.shape}, spacing "
        f"{tuple(round(s, 3) for s in reference.spacing)}"
    )
    return resample_to(volume, reference, nearest=nearest)
