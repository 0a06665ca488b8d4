"""DICOM folders: group files by series, sort slices along the normal, identify T1/T1ce/T2/FLAIR.

A series is identified from its tags (SeriesDescription, ProtocolName, SequenceName, contrast agent,
then TR/TE/TI timing). A series that cannot be identified is listed, never guessed; ``roles`` (sequence
name -> SeriesInstanceUID, SeriesNumber or SeriesDescription) overrides identification.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pydicom
from pydicom.errors import InvalidDicomError

from segmentation_core.io.assemble import assemble_case
from segmentation_core.io.dicom_identify import identify
from segmentation_core.io.errors import CaseLoadError
from segmentation_core.io.naming import is_dicom_file
from segmentation_core.io.nifti import RawImage
from segmentation_core.io.steps import Steps
from segmentation_core.types import SEQUENCES, Case

log = logging.getLogger(__name__)
_LPS_TO_RAS = np.diag([-1.0, -1.0, 1.0, 1.0])
#: Relative deviation of a slice step from the median step that counts as a gap / inconsistent spacing.
SPACING_TOLERANCE = 0.01


@dataclass
class DicomSeries:
    """One series of a DICOM folder: its header (first file), its files and what it was identified as."""

    uid: str
    number: int | None
    description: str
    header: pydicom.Dataset
    files: list[Path] = field(default_factory=list)
    headers: list[pydicom.Dataset] = field(default_factory=list)
    role: str | None = None
    reason: str = ""

    @property
    def label(self) -> str:
        return f"series {self.number if self.number is not None else '?'} {self.description!r} ({self.uid})"


def scan_dicom_folder(folder: Path) -> list[DicomSeries]:
    """All image series under ``folder`` (recursive), grouped by SeriesInstanceUID, files unsorted."""
    series: dict[str, DicomSeries] = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith(".")):
        if not is_dicom_file(path):
            continue
        try:
            ds = pydicom.dcmread(path, stop_before_pixels=True)
        except (InvalidDicomError, OSError, EOFError, ValueError) as exc:
            raise CaseLoadError(
                path,
                f"not a readable DICOM file ({exc})",
                "remove it from the folder or re-export the series",
            ) from exc
        if "ImagePositionPatient" not in ds or "SeriesInstanceUID" not in ds:
            log.debug("skipping non-image DICOM file %s", path)
            continue
        uid = str(ds.SeriesInstanceUID)
        if uid not in series:
            number = ds.get("SeriesNumber")
            series[uid] = DicomSeries(uid, int(number) if number not in (None, "") else None, _text(ds), ds)
        series[uid].files.append(path)
        series[uid].headers.append(ds)
    if not series:
        raise CaseLoadError(
            folder, "holds no DICOM image series", "choose the folder that holds the MR series"
        )
    for s in series.values():
        s.role, s.reason = identify(s.header)
    return sorted(series.values(), key=lambda s: (s.number is None, s.number or 0, s.uid))


def _text(ds: pydicom.Dataset) -> str:
    return str(ds.get("SeriesDescription", "") or ds.get("ProtocolName", "") or "").strip()


def assign_roles(
    series: list[DicomSeries], roles: dict[str, str] | None, folder: Path
) -> dict[str, DicomSeries]:
    """Pick one series per sequence (explicit ``roles`` first); raises listing every series when unsure."""
    chosen: dict[str, DicomSeries] = {}
    for role, key in (roles or {}).items():
        if role not in SEQUENCES:
            raise CaseLoadError(
                folder, f"unknown sequence {role!r} in the DICOM roles", f"use {list(SEQUENCES)}"
            )
        matches = [s for s in series if key in (s.uid, str(s.number), s.description)]
        if len(matches) != 1:
            raise CaseLoadError(
                folder,
                f"{len(matches)} series match {key!r} given for {role}; series found: {_listing(series)}",
                "name each sequence's series by SeriesInstanceUID, SeriesNumber or SeriesDescription",
            )
        chosen[role] = matches[0]
    taken = {s.uid for s in chosen.values()}
    for role in SEQUENCES:
        if role in chosen:
            continue
        candidates = [s for s in series if s.role == role and s.uid not in taken]
        if len(candidates) > 1:
            raise CaseLoadError(
                folder,
                f"{len(candidates)} series look like {role}: {'; '.join(c.label for c in candidates)}",
                f"choose one explicitly (dicom_roles={{'{role}': '<SeriesInstanceUID or number>'}})",
            )
        if candidates:
            chosen[role] = candidates[0]
    missing = [r for r in SEQUENCES if r not in chosen]
    if missing:
        raise CaseLoadError(
            folder,
            f"could not identify the {', '.join(missing)} series; series found: {_listing(series)}",
            "say which series is which (dicom_roles / --dicom-role t1ce=<SeriesNumber>)",
        )
    return chosen


def _listing(series: list[DicomSeries]) -> str:
    return "; ".join(f"{s.label} -> {s.role or 'unidentified'} ({s.reason})" for s in series)


def sort_slices(series: DicomSeries) -> tuple[list[pydicom.Dataset], np.ndarray]:
    """Headers sorted along the slice normal and the series' RAS affine; rejects gaps and bad spacing."""
    headers = series.headers or [pydicom.dcmread(p, stop_before_pixels=True) for p in series.files]
    first = series.files[0]
    if any(int(h.get("NumberOfFrames", 1) or 1) > 1 for h in headers):
        raise CaseLoadError(
            first, "multi-frame (enhanced) DICOM is not supported", "export as classic single-frame"
        )
    if len(headers) < 2:
        raise CaseLoadError(
            first,
            f"{series.label} has a single slice (a 2-D image), a 3-D volume is needed",
            "export the whole series, not one slice",
        )
    for tag in ("ImageOrientationPatient", "PixelSpacing", "Rows", "Columns"):
        lacking = next((p for h, p in zip(headers, series.files) if tag not in h), None)
        if lacking is not None:
            raise CaseLoadError(
                lacking,
                f"{series.label} has no {tag}, so its geometry is unknown",
                "export the series from the scanner or PACS with its full header",
            )
    try:
        return _sorted_geometry(series, headers)
    except CaseLoadError:
        raise
    except (ValueError, TypeError, IndexError) as exc:
        raise CaseLoadError(
            series.files[0], f"{series.label} has a malformed geometry tag ({exc})", "re-export the series"
        ) from exc


def _sorted_geometry(
    series: DicomSeries, headers: list[pydicom.Dataset]
) -> tuple[list[pydicom.Dataset], np.ndarray]:
    iop = np.asarray(headers[0].ImageOrientationPatient, dtype=np.float64)
    for h, p in zip(headers, series.files):
        if not np.allclose(np.asarray(h.ImageOrientationPatient, dtype=np.float64), iop, atol=1e-4):
            raise CaseLoadError(
                p, f"slice orientation differs from the rest of {series.label}", "re-export the series"
            )
    row, col = iop[:3], iop[3:]
    normal = np.cross(row, col)
    positions = np.array([np.asarray(h.ImagePositionPatient, dtype=np.float64) for h in headers])
    order = np.argsort(positions @ normal, kind="stable")
    headers = [headers[i] for i in order]
    series.files = [series.files[i] for i in order]
    series.headers = headers
    positions = positions[order]
    steps = np.diff(positions @ normal)
    step = float(np.median(steps))
    if step <= 1e-6 or np.any(steps <= 1e-6):
        i = int(np.argmax(steps <= 1e-6))
        raise CaseLoadError(
            series.files[i + 1],
            f"two slices of {series.label} share one position (duplicates, or several echoes/time points)",
            "remove the duplicate files or split the series",
        )
    bad = np.flatnonzero(np.abs(steps - step) > SPACING_TOLERANCE * step)
    if bad.size:
        i = int(bad[0])
        raise CaseLoadError(
            series.files[i + 1],
            f"{series.label}: slice spacing is inconsistent ({steps[i]:.3f} mm before this slice, "
            f"{step:.3f} mm elsewhere) — a slice is missing or the series mixes stacks",
            "re-export the complete series",
        )
    spacing = [float(v) for v in headers[0].PixelSpacing]
    lps = np.eye(4)
    lps[:3, 0] = row * spacing[1]
    lps[:3, 1] = col * spacing[0]
    lps[:3, 2] = (positions[-1] - positions[0]) / (len(positions) - 1)
    lps[:3, 3] = positions[0]
    return headers, _LPS_TO_RAS @ lps


def read_series(series: DicomSeries) -> RawImage:
    """The series as a volume indexed (column, row, slice), Fortran-ordered, with its RAS affine."""
    headers, affine = sort_slices(series)
    rows, cols = int(headers[0].Rows), int(headers[0].Columns)
    scaling = [_rescale(h) for h in headers]
    rescaled = any(scale != (1.0, 0.0) for scale in scaling)
    out: np.ndarray | None = None
    for k, path in enumerate(series.files):
        try:
            pixels = pydicom.dcmread(path).pixel_array
        except (InvalidDicomError, OSError, EOFError, ValueError, AttributeError, RuntimeError) as exc:
            raise CaseLoadError(
                path,
                f"the pixel data cannot be read ({exc})",
                "re-export the series uncompressed, or install a decoder for its transfer syntax (pylibjpeg)",
            ) from exc
        if pixels.shape != (rows, cols):
            raise CaseLoadError(path, f"slice size {pixels.shape} differs from {(rows, cols)}", "re-export")
        if out is None:
            dtype = np.float32 if rescaled else pixels.dtype
            out = np.empty((cols, rows, len(series.files)), dtype=dtype, order="F")
        slope, intercept = scaling[k]
        out[:, :, k] = (pixels * np.float32(slope) + np.float32(intercept)).T if rescaled else pixels.T
    assert out is not None
    return RawImage(out, affine, series.files[0])


def _rescale(ds: pydicom.Dataset) -> tuple[float, float]:
    return float(ds.get("RescaleSlope", 1) or 1), float(ds.get("RescaleIntercept", 0) or 0)


def read_series_folder(folder: Path) -> tuple[RawImage, tuple[Path, ...]]:
    """The one series in ``folder`` (for explicitly mapped sequences) and its files in slice order."""
    series = scan_dicom_folder(folder)
    if len(series) != 1:
        raise CaseLoadError(
            folder,
            f"holds {len(series)} series ({'; '.join(s.label for s in series)}), one was expected",
            "map the sequence to a folder with one series, or load the whole folder and name the roles",
        )
    raw = read_series(series[0])
    return raw, tuple(series[0].files)


def check_same_patient(chosen: dict[str, DicomSeries], folder: Path) -> None:
    """Refuse series of different patients; a different frame of reference is fine (resampled later)."""
    patients = {str(s.header.get("PatientID", "")) for s in chosen.values()}
    if len(patients) > 1:
        listing = "; ".join(
            f"{role}: {s.label} patient {s.header.get('PatientID', '')!r}" for role, s in chosen.items()
        )
        raise CaseLoadError(
            folder,
            f"the chosen series belong to {len(patients)} different patients ({listing})",
            "put one patient's series in the folder, or choose the series with dicom_roles",
        )


def load_dicom_case(folder: Path, roles: dict[str, str] | None = None, steps: Steps | None = None) -> Case:
    """A Case from a folder of DICOM series (see module docstring)."""
    steps = steps or Steps()
    series = scan_dicom_folder(folder)
    chosen = assign_roles(series, roles, folder)
    check_same_patient(chosen, folder)
    steps.total = len(chosen)
    images = {}
    for role, s in chosen.items():
        steps.step(f"reading {role}: {s.label}")
        images[role] = read_series(s)
    case = assemble_case(
        images,
        None,
        case_id=str(chosen["t1"].header.get("PatientID", "") or folder.name),
        scheme=None,
        hint=None,
        files={role: tuple(s.files) for role, s in chosen.items()},
        fmt="dicom",
    )
    used = {s.uid for s in chosen.values()}
    for s in series:
        if s.uid not in used:
            case.warnings.append(f"ignored {s.label}: {s.role or 'unidentified'} ({s.reason})")
    for role, s in chosen.items():
        log.info(
            "%s <- %s (%s)",
            role,
            s.label,
            s.reason if not roles or role not in roles else "chosen explicitly",
        )
    return case
