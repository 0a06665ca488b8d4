"""From region probabilities to labels, and the clean-up BraTS winners apply.

The clean-up (all volumes in mm^3, so they mean the same at any voxel size; 0 switches a step off):

1. tumour (WT) components smaller than ``min_component_mm3`` are removed;
2. tumour-core (TC) components smaller than ``min_core_component_mm3`` become edema, and enhancing
   (ET) components smaller than it become necrosis (tiny specks are noise, not lesions);
3. tumour components whose core (TC) is smaller than ``min_component_core_fraction`` of the largest core
   of any component are removed; the component with the largest core always stays, and so does every
   component within ``keep_component_within_mm`` of it (edema next to the tumour that the prediction
   split off). A glioma's edema surrounds its core, so an island of edema alone, away from the tumour,
   is a false positive (a FLAIR hyperintensity of another cause). A prediction without any core (e.g. a
   non-enhancing tumour seen as edema) is left as it is. nnU-Net decides its "keep the largest
   component" step by cross-validation in the same way;
4. when all ET together is smaller than ``min_et_mm3``, it is relabelled necrosis (NCR): a tumour with
   almost no enhancement most likely has none, and BraTS scores a false ET on a case without ET as
   Dice 0.

Settings 3 and 4 are chosen by cross-validation (``segmentation_core.training.crossval_report``)
and stored in the bundle's ``model.json`` under ``postprocessing``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np
from scipy import ndimage

from segmentation_core.labels import BACKGROUND, ED, ET, NCR
from segmentation_core.types import CleanUp

_CONNECTIVITY = np.ones((3, 3, 3), bool)  # 26-connected components


@dataclass(frozen=True)
class Postprocessing:
    """Clean-up settings (see the module docstring); volumes in mm^3, 0 switches a step off."""

    min_component_mm3: float = 100.0
    min_et_mm3: float = 200.0
    min_core_component_mm3: float = 0.0
    min_component_core_fraction: float = 0.0
    keep_component_within_mm: float = 0.0

    def to_json(self) -> dict[str, float]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> Postprocessing:
        """Settings from a bundle's ``postprocessing`` entry (missing keys keep their defaults).

        Raises ValueError on unknown keys or values that are not non-negative numbers.
        """
        if not data:
            return cls()
        if not isinstance(data, dict):
            raise ValueError(f"postprocessing must be an object, got {type(data).__name__}")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown postprocessing settings {unknown}; known: {sorted(known)}")
        values = {}
        for key, value in data.items():
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
                raise ValueError(f"postprocessing {key} must be a number >= 0, got {value!r}")
            values[key] = float(value)
        return cls(**values)


OFF = Postprocessing(0.0, 0.0, 0.0, 0.0, 0.0)


def bundle_postprocessing(bundle: Any) -> Postprocessing:
    """The clean-up a model bundle asks for (its ``postprocessing`` entry), naming its file on error."""
    try:
        return Postprocessing.from_json(getattr(bundle, "postprocessing", None))
    except ValueError as exc:
        where = (
            f"{bundle.folder}/model.json" if getattr(bundle, "folder", None) else f"bundle {bundle.name!r}"
        )
        raise ValueError(f"{where}: {exc}") from exc


def regions_to_labels(probabilities: np.ndarray, threshold: float = 0.5) -> np.ndarray:
    """(3, X, Y, Z) WT/TC/ET probabilities -> uint8 internal labels with ET ⊂ TC ⊂ WT enforced."""
    wt = probabilities[0] > threshold
    tc = (probabilities[1] > threshold) & wt
    et = (probabilities[2] > threshold) & tc
    labels = np.zeros(wt.shape, dtype=np.uint8)
    labels[wt] = ED
    labels[tc] = NCR
    labels[et] = ET
    return labels


def _relabel_small_components(mask: np.ndarray, min_voxels: float) -> np.ndarray:
    """Boolean mask of the components of ``mask`` smaller than ``min_voxels``."""
    components, count = ndimage.label(mask, structure=_CONNECTIVITY)
    if count == 0:
        return np.zeros(mask.shape, bool)
    sizes = np.bincount(components.ravel())
    small = np.flatnonzero(sizes < min_voxels)
    small = small[small != 0]
    return np.isin(components, small) if small.size else np.zeros(mask.shape, bool)


def remove_small_components(labels: np.ndarray, min_voxels: float) -> np.ndarray:
    """Zero every tumour component (26-connected, any label) smaller than ``min_voxels``; in place."""
    if min_voxels > 0:
        labels[_relabel_small_components(labels != BACKGROUND, min_voxels)] = BACKGROUND
    return labels


def remove_small_core_components(labels: np.ndarray, min_voxels: float) -> np.ndarray:
    """TC components smaller than ``min_voxels`` -> ED, then ET components smaller -> NCR; in place.

    Keeps ET ⊂ TC ⊂ WT: a removed core speck stays tumour (edema), a removed enhancing speck stays core.
    """
    if min_voxels > 0:
        labels[_relabel_small_components((labels == NCR) | (labels == ET), min_voxels)] = ED
        labels[_relabel_small_components(labels == ET, min_voxels)] = NCR
    return labels


def remove_coreless_components(
    labels: np.ndarray,
    min_fraction: float,
    keep_within_mm: float = 0.0,
    spacing: tuple[float, float, float] = (1.0, 1.0, 1.0),
) -> np.ndarray:
    """Zero every tumour component whose core (NCR or ET) is below ``min_fraction`` of the largest
    component core, unless it lies within ``keep_within_mm`` of that component; in place.

    The component with the largest core stays; without any core, everything stays.
    """
    if min_fraction <= 0:
        return labels
    components, count = ndimage.label(labels != BACKGROUND, structure=_CONNECTIVITY)
    if count < 2:
        return labels
    core = (labels == NCR) | (labels == ET)
    core_voxels = np.bincount(components[core], minlength=count + 1)
    core_voxels[0] = 0
    largest = int(np.argmax(core_voxels))
    if core_voxels[largest] == 0:
        return labels
    weak = np.flatnonzero(core_voxels < min_fraction * core_voxels[largest])
    weak = weak[(weak != 0) & (weak != largest)]
    if weak.size and keep_within_mm > 0:
        weak = np.setdiff1d(weak, _components_near(components, largest, keep_within_mm, spacing))
    if weak.size:
        labels[np.isin(components, weak)] = BACKGROUND
    return labels


def _components_near(
    components: np.ndarray, number: int, reach_mm: float, spacing: tuple[float, float, float]
) -> np.ndarray:
    """Numbers of the components with a voxel within ``reach_mm`` of component ``number``."""
    box = ndimage.find_objects((components > 0).astype(np.int8))[0]  # every component lies inside
    inside = components[box]
    distance = ndimage.distance_transform_edt(inside != number, sampling=spacing)
    return np.unique(inside[(distance <= reach_mm) & (inside > 0)])


def small_et_to_ncr(labels: np.ndarray, min_voxels: float) -> np.ndarray:
    """Relabel all ET as NCR when there are fewer than ``min_voxels`` ET voxels; in place."""
    et = labels == ET
    if min_voxels > 0 and 0 < int(et.sum()) < min_voxels:
        labels[et] = NCR
    return labels


def clean_up(
    labels: np.ndarray, spacing: tuple[float, float, float], settings: Postprocessing
) -> tuple[np.ndarray, CleanUp]:
    """``postprocess`` on a copy of ``labels``, and what it removed (for the user and the sidecar)."""
    cleaned = postprocess(labels.copy(), spacing, settings)
    removed = (labels != BACKGROUND) & (cleaned == BACKGROUND)
    if not removed.any():
        return cleaned, CleanUp()
    _, islands = ndimage.label(removed, structure=_CONNECTIVITY)
    return cleaned, CleanUp(islands, float(np.count_nonzero(removed)) * float(np.prod(spacing)) / 1000.0)


def postprocess(
    labels: np.ndarray, spacing: tuple[float, float, float], settings: Postprocessing
) -> np.ndarray:
    """Apply ``settings`` to an internal label map with voxel ``spacing`` (mm); in place."""
    voxel_mm3 = float(np.prod(spacing))
    remove_small_components(labels, settings.min_component_mm3 / voxel_mm3)
    remove_small_core_components(labels, settings.min_core_component_mm3 / voxel_mm3)
    remove_coreless_components(
        labels, settings.min_component_core_fraction, settings.keep_component_within_mm, spacing
    )
    return small_et_to_ncr(labels, settings.min_et_mm3 / voxel_mm3)
