"""The training library: cases with corrected labels, saved by the viewer's "add to my training set".

Each case becomes a BraTS 2018-named folder ``<library>/<id>/<id>_{t1,t1ce,t2,flair,seg}.nii.gz`` that
``load_case``/``find_cases`` read back and ``brats-seg train --data <library>`` trains on.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import nibabel as nib
import numpy as np

from segmentation_core.io import write_label_map
from segmentation_core.io.nifti import is_nifti
from segmentation_core.io.orientation import to_source_orientation
from segmentation_core.io.safe_paths import safe_name
from segmentation_core.registry import paths
from segmentation_core.registry.atomic import replace_dir, staging_dir
from segmentation_core.types import SEQUENCES, Case


def training_library_dir(root: Path | None = None) -> Path:
    """Folder of the training library (created on first use)."""
    return paths.training_library_dir(root)


def safe_case_id(case_id: str) -> str:
    """A file-name-safe case id (``"case"`` when empty)."""
    return safe_name(case_id)


def _write_channel(case: Case, role: str, folder: Path, stem: str) -> None:
    """Copy the source NIfTI byte for byte when it is on the source grid, else write it in that grid."""
    affine = case.source_affine if case.source_affine is not None else case.affine
    shape = case.source_shape if case.source_shape is not None else case.shape
    sources = case.source_files.get(role, ())
    if len(sources) == 1 and is_nifti(sources[0]) and sources[0].is_file():
        image = nib.load(sources[0])
        if tuple(image.shape) == tuple(shape) and np.allclose(image.affine, affine, atol=1e-4):
            suffix = ".nii.gz" if sources[0].name.lower().endswith(".gz") else ".nii"
            shutil.copyfile(sources[0], folder / f"{stem}_{role}{suffix}")
            return
    data = to_source_orientation(np.asarray(case.channels[role].array, dtype=np.float32), case)
    image = nib.Nifti1Image(data, affine)
    image.set_sform(affine, code=1)
    image.set_qform(affine, code=1)
    nib.save(image, folder / f"{stem}_{role}.nii.gz")


def add_to_training_library(
    case: Case,
    labels: np.ndarray,
    *,
    library: Path | None = None,
    case_id: str | None = None,
    model_version: str | None = None,
) -> Path:
    """Save the case's four sequences and its corrected ``labels`` (internal scheme) to the library.

    A case already in the library under the same id is replaced as a whole. Returns the case folder.
    """
    missing = [role for role in SEQUENCES if role not in case.channels]
    if missing:
        raise ValueError(
            f"case {case.case_id or '(unnamed)'} lacks {', '.join(missing)}; "
            "training cases need all four sequences"
        )
    labels = np.asarray(labels)
    if not labels.any():
        raise ValueError(
            f"case {case.case_id or '(unnamed)'}: the label map is empty; "
            "segment and correct the tumour before adding the case to the training set"
        )
    library = Path(library) if library is not None else training_library_dir()
    name = safe_case_id(case_id or case.case_id)
    staged = staging_dir(library, f"add-{name}")
    try:
        for role in SEQUENCES:
            _write_channel(case, role, staged, name)
        write_label_map(
            labels,
            case,
            staged / f"{name}_seg.nii.gz",
            scheme="brats",
            model_version=model_version,
            extra={"purpose": "training library"},
        )
        final = library / name
        replace_dir(staged, final)
    finally:
        shutil.rmtree(staged, ignore_errors=True)
    return final


def library_cases(library: Path | None = None) -> list[Path]:
    """Case folders in the library (empty when it does not exist yet)."""
    library = Path(library) if library is not None else training_library_dir()
    if not library.is_dir():
        return []
    return sorted(p for p in library.iterdir() if p.is_dir() and not p.name.startswith("."))
