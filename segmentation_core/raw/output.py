"""Writing a prepared study: model-ready images, brain masks, transforms (ITK .tfm and JSON), all or nothing."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import nibabel as nib
import numpy as np

from segmentation_core import __version__
from segmentation_core.raw.pipeline import PreparedStudy
from segmentation_core.registry.atomic import replace_dir, staging_dir
from segmentation_core.types import SEQUENCES

SUMMARY = "preprocessing.json"


def written_files(prepared: PreparedStudy) -> list[str]:
    """The names ``write_prepared`` writes (BraTS 2018 naming, so the folder opens as a case)."""
    case_id = prepared.study.case_id
    names = [f"{case_id}_{name}.nii.gz" for name in SEQUENCES]
    names += [f"{case_id}_brainmask.nii.gz", f"{case_id}_brainmask_native.nii.gz", SUMMARY]
    names += [
        f"transforms/{name}_to_{prepared.study.reference}.tfm"
        for name in SEQUENCES
        if name != prepared.study.reference
    ]
    return names


def write_prepared(prepared: PreparedStudy, folder: Path, *, overwrite: bool = False) -> Path:
    """Write ``prepared`` into ``folder`` (staged beside it and renamed into place: whole or not at all).

    Refuses an existing non-empty ``folder`` unless ``overwrite``; never writes into the input folder.
    """
    folder = Path(folder).absolute()
    sources = {p.parent.resolve() for p in prepared.study.all_files()}
    if folder.resolve() in sources:
        raise FileExistsError(
            f"{folder}: this is the folder the study was read from; choose another output folder"
        )
    if folder.exists() and any(folder.iterdir()) and not overwrite:
        raise FileExistsError(f"{folder}: the folder exists and is not empty; pass --overwrite to replace it")
    if prepared.skipped:
        raise ValueError(f"{prepared.study.case_id}: the study is BraTS-like, there is nothing to preprocess")
    staged = staging_dir(folder.parent, folder.name)
    try:
        _write(prepared, staged)
        replace_dir(staged, folder)
    finally:
        shutil.rmtree(staged, ignore_errors=True)
    return folder


def _write(prepared: PreparedStudy, folder: Path) -> None:
    import SimpleITK as sitk

    from segmentation_core.io.export import sha256

    study, case = prepared.study, prepared.model_case
    assert prepared.brain_mask is not None and prepared.brain_mask_native is not None
    for name in SEQUENCES:
        _save(
            case.channels[name].array.astype(np.float32),
            case.affine,
            folder / f"{study.case_id}_{name}.nii.gz",
        )
    _save(prepared.brain_mask.astype(np.uint8), case.affine, folder / f"{study.case_id}_brainmask.nii.gz")
    native = study.reference_volume
    _save(
        prepared.brain_mask_native.astype(np.uint8),
        native.affine,
        folder / f"{study.case_id}_brainmask_native.nii.gz",
    )
    (folder / "transforms").mkdir()
    for name, transform in prepared.transforms.items():
        if name != study.reference:
            sitk.WriteTransform(
                transform.to_itk(), str(folder / "transforms" / f"{name}_to_{study.reference}.tfm")
            )
    summary = {
        "case_id": study.case_id,
        "reference": study.reference,
        "detected": prepared.detection.describe(),
        "model_grid": {
            "shape": list(case.shape),
            "affine_ras": np.round(case.affine, 6).tolist(),
            "spacing_mm": list(case.spacing),
            "orientation": "RAS",
        },
        "normalisation": "z-score over the brain (non-zero voxels), zero outside the brain mask",
        "transforms": {name: t.to_json() for name, t in prepared.transforms.items()},
        "transform_files": "transforms/<sequence>_to_<reference>.tfm: ITK (LPS), fixed = reference, moving = sequence",
        "warnings": prepared.warnings,
        "timings_s": {k: round(v, 3) for k, v in prepared.timings.items()},
        "steps_from_cache": prepared.cached,
        "source_files": [
            {"role": role, "path": str(p), "sha256": sha256(p)}
            for role, paths in sorted(study.files.items())
            for p in paths
            if p.is_file()
        ],
        "written_by": f"brats-viewer {__version__}",
        "time": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    (folder / SUMMARY).write_text(json.dumps(summary, indent=2), encoding="utf-8")


def _save(array: np.ndarray, affine: np.ndarray, path: Path) -> None:
    image = nib.Nifti1Image(array, affine)
    image.set_sform(affine, code=1)
    image.set_qform(affine, code=1)
    nib.save(image, path)
