"""Export a label map as NIfTI in exactly the source grid, atomically, verified, with a JSON sidecar."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np

from segmentation_core import __version__
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


def write_label_map(
    labels: np.ndarray,
    case: Case,
    path: Path | str,
    *,
    scheme: str = "brats",
    model_version: str | None = None,
    extra: dict[str, Any] | None = None,
) -> Path:
    """Write internal-scheme ``labels`` (on the case's canonical grid) as a uint8 NIfTI in ``scheme``.

    The file has exactly the source grid (shape, affine, sform/qform codes of the reference file), is
    written to a temporary file beside ``path``, read back and compared, then renamed over ``path``.
    A JSON sidecar ``<name>.json`` records the scheme, source files with SHA-256, model version and time.
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
    _atomic_nifti(image, path)
    _atomic_text(sidecar_path(path), json.dumps(_sidecar(case, path, scheme, model_version, extra), indent=2))
    return path


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


def _atomic_nifti(image: nib.Nifti1Image, path: Path) -> None:
    suffix = ".nii.gz" if path.name.lower().endswith(".gz") else ".nii"
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        nib.save(image, tmp)
        _verify(image, tmp, path)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


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


def _atomic_text(path: Path, text: str) -> None:
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp_name, path)
    finally:
        Path(tmp_name).unlink(missing_ok=True)


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
        "written_by": f"brats-viewer {__version__}",
        "time": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        **(extra or {}),
    }
