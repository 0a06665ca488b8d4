"""Label files for evaluation: find them in folders, pair predictions with references by case name.

A case's name is its file name without the image suffix and without a trailing ``_seg``/``-seg``
(also ``pred``, ``prediction``, ``label(s)``, ``mask``, ``segmentation``); a file named only that
(``seg.nii.gz``) takes its folder's name. In a folder (searched recursively) every image file is a
label file except the sequences of BraTS naming (``<id>_t1``, ``<id>-t2f``...), so BraTS case folders
yield their ``_seg`` files.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from segmentation_core.io import CaseLoadError, read_label_file
from segmentation_core.io.naming import IMAGE_SUFFIXES, parse_name, split_suffix
from segmentation_core.types import LabelMap

_LABEL_TAGS = ("segmentation", "prediction", "labels", "label", "mask", "pred", "seg")
_TAGGED = re.compile(r"^(?:(?P<id>.*?)[_.-])?(?P<tag>" + "|".join(_LABEL_TAGS) + r")$", re.I)


@dataclass(frozen=True)
class Pairing:
    """Prediction/reference files matched by case name, and the files left without a partner."""

    pairs: dict[str, tuple[Path, Path]]
    unpaired_predictions: dict[str, Path]
    unpaired_references: dict[str, Path]


def case_name(path: Path) -> str:
    """The case a label file belongs to (see the module docstring)."""
    stem, _ = split_suffix(path.name)
    match = _TAGGED.match(stem)
    if match is None:
        return stem
    return match["id"] or path.parent.name


def find_label_files(path: Path | str) -> dict[str, Path]:
    """``{case name: label file}`` for a file or a folder (searched recursively).

    Raises CaseLoadError for a missing path, a folder without label files or two files of one case.
    """
    path = Path(path)
    if path.is_file():
        if not split_suffix(path.name)[1]:
            raise CaseLoadError(path, "not a label image file", f"use one of {', '.join(IMAGE_SUFFIXES)}")
        return {case_name(path): path}
    if not path.is_dir():
        raise CaseLoadError(path, "no such file or folder", "check the path")
    images = sorted(
        p for p in path.rglob("*") if p.is_file() and split_suffix(p.name)[1] and not _hidden_below(p, path)
    )
    chosen = [p for p in images if _is_label_name(p.name)]
    if not chosen:
        raise CaseLoadError(
            path,
            "holds no label files",
            "give a label file or a folder of them (e.g. <case>_seg.nii.gz or <case>.nii.gz)",
        )
    found: dict[str, Path] = {}
    for file in chosen:
        name = case_name(file)
        if name in found:
            raise CaseLoadError(
                file, f"case {name!r} has two label files here (also {found[name]})", "keep one per case"
            )
        found[name] = file
    return found


def pair_label_files(pred: Path | str, ref: Path | str) -> Pairing:
    """Predictions and references paired by case name; two single files always form one pair."""
    pred, ref = Path(pred), Path(ref)
    predictions, references = find_label_files(pred), find_label_files(ref)
    if pred.is_file() and ref.is_file():
        return Pairing({next(iter(references)): (pred, ref)}, {}, {})
    names = sorted(predictions.keys() & references.keys())
    return Pairing(
        {n: (predictions[n], references[n]) for n in names},
        {n: p for n, p in sorted(predictions.items()) if n not in references},
        {n: p for n, p in sorted(references.items()) if n not in predictions},
    )


def read_pair(
    pred: Path, ref: Path, *, pred_scheme: str | None = None, ref_scheme: str | None = None
) -> tuple[LabelMap, LabelMap]:
    """Both label maps as internal labels; raises CaseLoadError when they are not on one voxel grid."""
    prediction = read_label_file(pred, scheme=pred_scheme)
    reference = read_label_file(ref, scheme=ref_scheme)
    if not prediction.volume.same_grid(reference.volume):
        a, b = prediction.volume, reference.volume
        raise CaseLoadError(
            pred,
            f"prediction and reference {ref} are on different voxel grids "
            f"(shape {a.shape} vs {b.shape}, spacing {_rounded(a.spacing)} vs {_rounded(b.spacing)}, "
            f"origin {_rounded(a.affine[:3, 3])} vs {_rounded(b.affine[:3, 3])})",
            "resample the prediction onto the reference grid (or predict on the reference case) first",
        )
    return prediction, reference


def _hidden_below(file: Path, folder: Path) -> bool:
    """True when a part of ``file``'s path below the searched ``folder`` is hidden (starts with a dot)."""
    return any(part.startswith(".") for part in file.relative_to(folder).parts)


def _is_label_name(name: str) -> bool:
    """False for the image sequences of BraTS naming (``<id>_t1.nii.gz``, ``<id>-t2f.nii.gz``...)."""
    parsed = parse_name(name)
    return parsed is None or parsed[1] == "seg"


def _rounded(values: Iterable[float]) -> list[float]:
    return [round(float(v), 3) for v in values]
