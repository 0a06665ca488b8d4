"""Export a label map as NIfTI in exactly the source grid, atomically, verified, with a JSON sidecar."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np

from segmentation_core import __version__
from segmentation_core.atomic import Commit, same_file, write_error
from segmentation_core.io.errors import CaseLoadError
from segmentation_core.io.naming import split_suffix
from segmentation_core.io.nifti import is_nifti, load_nifti_header
from segmentation_core.io.orientation import to_source_orientation
from segmentation_core.labels import convert, get_scheme
from segmentation_core.types import Case


class ExportError(OSError):
    """Writing or verifying an exported file failed; the previous file (if any) is untouched."""


def sidecar_path(path: Path) -> Path:
    """``seg.nii.gz`` -> ``seg.json`` (same folder)."""
    return path.with_name(split_suffix(path.name)[0] + ".json")


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def probabilities_path(path: Path) -> Path:
    """``seg.nii.gz`` -> ``seg_probabilities.nii.gz`` (same folder)."""
    return path.with_name(split_suffix(path.name)[0] + "_probabilities.nii.gz")


def dicom_seg_path(path: Path) -> Path:
    """``seg.nii.gz`` -> ``seg.dcm`` (same folder)."""
    return path.with_name(split_suffix(path.name)[0] + ".dcm")


def export_targets(path: Path, *, probabilities: bool = False, dicom_seg: bool = False) -> list[Path]:
    """Every file an export to ``path`` writes: the label map, its sidecar, and the optional extras."""
    targets = [path, sidecar_path(path)]
    if probabilities:
        targets.append(probabilities_path(path))
    if dicom_seg:
        targets.append(dicom_seg_path(path))
    return targets


def conflicts(case: Case, targets: list[Path]) -> tuple[list[Path], list[Path]]:
    """(targets that are files the case was read from, other targets that already exist)."""
    sources = source_paths(case)
    protected = [t for t in targets if any(same_file(t, s) for s in sources)]
    existing = [t for t in targets if t not in protected and os.path.lexists(t)]
    return protected, existing


def source_paths(case: Case) -> list[Path]:
    """Every file the case was read from (never written over)."""
    return [p for paths in case.source_files.values() for p in paths]


def write_label_map(
    labels: np.ndarray,
    case: Case,
    path: Path | str,
    *,
    scheme: str = "brats",
    model_version: str | None = None,
    extra: dict[str, Any] | None = None,
    probabilities: np.ndarray | None = None,
    dicom_seg: Path | str | None = None,
    overwrite: bool = False,
) -> Path:
    """Write internal-scheme ``labels`` (on the case's canonical grid) as a uint8 NIfTI in ``scheme``.

    The file has exactly the source grid (shape, affine, sform/qform codes of the reference file). A
    JSON sidecar ``<name>.json`` records the scheme, source files with SHA-256, model version, the case's
    warnings and time. ``probabilities`` (WT/TC/ET, ``(3, *case.shape)``) adds
    ``<name>_probabilities.nii.gz``; ``dicom_seg`` adds a DICOM-SEG file there. Every file is written to
    a temporary file, the label map read back and compared, and then all are committed together (see
    ``segmentation_core.atomic``). Files the case was read from are never written over
    (OverwriteError); other existing files only with ``overwrite=True``.
    """
    path = Path(path)
    if not path.name.lower().endswith((".nii", ".nii.gz")):
        raise ValueError(f"{path}: label maps are exported as NIfTI; use a .nii.gz or .nii file name")
    if not path.parent.is_dir():
        raise FileNotFoundError(
            f"{path}: the folder {path.parent} does not exist; create it or choose another"
        )
    labels = np.asarray(labels)
    if labels.shape != case.shape:
        raise ValueError(f"label array shape {labels.shape} does not match the case grid {case.shape}")
    get_scheme(scheme)
    data = to_source_orientation(convert(labels, "internal", scheme), case).astype(np.uint8, copy=False)
    image = _image_like_source(data, case)
    files = {"sidecar": sidecar_path(path)}
    if probabilities is not None:
        files["probabilities"] = probabilities_path(path)
    if dicom_seg is not None:
        files["dicom_seg"] = Path(dicom_seg)
    with Commit(overwrite=overwrite, protected=source_paths(case)) as commit:
        for target in (path, *files.values()):
            commit.check_target(target)
        tmp = commit.stage(path)
        _save_nifti(image, tmp, path)
        _verify(image, tmp, path)
        if probabilities is not None:
            _save_nifti(_probability_image(probabilities, case), commit.stage(files["probabilities"]), path)
        if dicom_seg is not None:
            from segmentation_core.io.dicom_seg import save_dicom_seg

            save_dicom_seg(labels, case, commit.stage(files["dicom_seg"]), model_version=model_version)
        written = {key: target.name for key, target in files.items() if key != "sidecar"}
        sidecar = _sidecar(case, path, scheme, model_version, {**written, **(extra or {})})
        text = json.dumps(sidecar, indent=2)
        _write_staged(commit.stage(files["sidecar"]), text.encode("utf-8"), files["sidecar"])
    return path


def _save_nifti(image: nib.Nifti1Image, tmp: Path, final: Path) -> None:
    try:
        nib.save(image, tmp)
    except OSError as exc:
        raise write_error(final, exc) from exc


def _write_staged(tmp: Path, data: bytes, final: Path) -> None:
    try:
        tmp.write_bytes(data)
    except OSError as exc:
        raise write_error(final, exc) from exc


def _probability_image(probabilities: np.ndarray, case: Case) -> nib.Nifti1Image:
    """(3, X, Y, Z) probabilities on the case grid -> 4-D float32 (X, Y, Z, 3) in the source layout."""
    probabilities = np.asarray(probabilities)
    if probabilities.shape != (3, *case.shape):
        raise ValueError(f"probabilities of shape {probabilities.shape} do not match (3, {case.shape})")
    if not np.isfinite(probabilities).all():
        raise ValueError("the probabilities hold NaN or infinite values; the model output is not usable")
    data = to_source_orientation(np.moveaxis(probabilities.astype(np.float32), 0, -1), case)
    affine = case.source_affine if case.source_affine is not None else case.affine
    image = nib.Nifti1Image(data, affine)
    image.header.set_intent("vector", name="WT TC ET")
    return image


def _image_like_source(data: np.ndarray, case: Case) -> nib.Nifti1Image:
    affine = case.source_affine if case.source_affine is not None else case.affine
    image = nib.Nifti1Image(data, affine)
    image.set_data_dtype(np.uint8)
    reference = _reference_file(case)
    if reference is not None and is_nifti(reference) and reference.is_file():
        try:
            header = load_nifti_header(reference).header
        except CaseLoadError:
            header = None
        if header is not None:
            image.set_sform(header.get_sform(), code=int(header["sform_code"]))
            image.set_qform(header.get_qform(), code=int(header["qform_code"]))
            image.header.set_xyzt_units(*header.get_xyzt_units())
            return image
    image.set_sform(affine, code=1)
    image.set_qform(affine, code=1)
    return image


def _reference_file(case: Case) -> Path | None:
    files = case.source_files.get(case.reference, ())
    return files[0] if len(files) == 1 else None


def _verify(expected: nib.Nifti1Image, written: Path, final: Path) -> None:
    back = nib.load(written)
    problems = []
    if back.shape != expected.shape:
        problems.append(f"shape {back.shape} != {expected.shape}")
    if not np.allclose(back.affine, expected.affine, atol=1e-5):
        problems.append("affine differs")
    for key in ("sform_code", "qform_code"):
        if int(back.header[key]) != int(expected.header[key]):
            problems.append(f"{key} {int(back.header[key])} != {int(expected.header[key])}")
    if not problems and not np.array_equal(np.asanyarray(back.dataobj), np.asanyarray(expected.dataobj)):
        problems.append("voxel values differ")
    if problems:
        raise ExportError(
            f"{final}: the written file did not read back identically ({'; '.join(problems)}); "
            "nothing was replaced — check the disk and try again"
        )


def _sidecar(
    case: Case, path: Path, scheme: str, model_version: str | None, extra: dict[str, Any] | None
) -> dict[str, Any]:
    sources = []
    digests: dict[Path, str] = {}  # an MSD file serves four roles: hash it once
    for role, paths in case.source_files.items():
        for source in paths:
            if source.is_file():
                digest = digests[source] = digests.get(source) or sha256(source)
                sources.append({"role": role, "path": str(source), "sha256": digest})
    return {
        "file": path.name,
        "case_id": case.case_id,
        "label_scheme": scheme,
        "label_scheme_description": get_scheme(scheme).description,
        "source_files": sources,
        "source_format": case.source_format,
        "model_version": model_version,
        "warnings": list(case.warnings),
        "written_by": f"brats-viewer {__version__}",
        "time": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        **(extra or {}),
    }
