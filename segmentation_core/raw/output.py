"""Writing a prepared study: model-ready images (BraTS names, so the folder opens as a case), brain masks,
transforms (ITK .tfm and JSON), committed together."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import TYPE_CHECKING

import nibabel as nib
import numpy as np

from segmentation_core import __version__
from segmentation_core.raw.pipeline import PreparedStudy
from segmentation_core.types import SEQUENCES

if TYPE_CHECKING:
    from segmentation_core.atomic import Commit

SUMMARY = "preprocessing.json"


def write_prepared(prepared: PreparedStudy, folder: Path, *, overwrite: bool = False) -> Path:
    """Write ``prepared`` into ``folder`` as one group (``segmentation_core.atomic``): all files or none.

    Existing files of the same names are only replaced with ``overwrite`` (other files in ``folder`` are
    left alone); the study's own folder and files are never written to.
    """
    from segmentation_core.atomic import Commit

    if prepared.skipped:
        raise ValueError(f"{prepared.study.case_id}: the study is BraTS-like, there is nothing to preprocess")
    folder = Path(folder).absolute()
    sources = prepared.study.all_files()
    if folder.resolve() in {p.parent.resolve() for p in sources}:
        raise FileExistsError(
            f"{folder}: this is the folder the study was read from; choose another output folder"
        )
    created = [d for d in (folder, folder / "transforms") if not d.exists()]
    for directory in created:
        directory.mkdir(parents=True)
    try:
        with Commit(overwrite=overwrite, protected=sources) as commit:
            _write(prepared, folder, commit)
    except BaseException:
        for directory in reversed(created):
            if directory.is_dir() and not any(directory.iterdir()):
                directory.rmdir()
        raise
    return folder


def _write(prepared: PreparedStudy, folder: Path, commit: Commit) -> None:
    import SimpleITK as sitk

    from segmentation_core.io.export import sha256

    study, case = prepared.study, prepared.model_case
    assert prepared.brain_mask is not None and prepared.brain_mask_native is not None
    for name in SEQUENCES:
        _save(
            case.channels[name].array.astype(np.float32),
            case.affine,
            commit.stage(folder / f"{study.case_id}_{name}.nii.gz"),
        )
    _save(
        prepared.brain_mask.astype(np.uint8),
        case.affine,
        commit.stage(folder / f"{study.case_id}_brainmask.nii.gz"),
    )
    native = study.reference_volume
    _save(
        prepared.brain_mask_native.astype(np.uint8),
        native.affine,
        commit.stage(folder / f"{study.case_id}_brainmask_native.nii.gz"),
    )
    for name, transform in prepared.transforms.items():
        if name != study.reference:
            target = commit.stage(folder / "transforms" / f"{name}_to_{study.reference}.tfm")
            sitk.WriteTransform(transform.to_itk(), str(target))
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
    commit.stage(folder / SUMMARY).write_text(json.dumps(summary, indent=2), encoding="utf-8")


def _save(array: np.ndarray, affine: np.ndarray, path: Path) -> None:
    image = nib.Nifti1Image(array, affine)
    image.set_sform(affine, code=1)
    image.set_qform(affine, code=1)
    nib.save(image, path)
