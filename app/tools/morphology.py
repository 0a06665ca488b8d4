"""Whole-volume clean-ups of one label (scipy.ndimage): remove small islands, fill holes, dilate, erode.

Each operation is one undo step and works inside the label's bounding box (plus the radius), so it
costs little on a full-size case.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from app.state.history import BBox
from app.state.label_layer import LabelLayer
from app.tools.base import PaintSettings, clip_box
from app.tools.events import plane_axis
from segmentation_core.labels import BACKGROUND, LABEL_NAMES, REGIONS


def ball(radius_mm: float, spacing: tuple[float, float, float]) -> np.ndarray:
    """Structuring element of the voxels whose centre lies within ``radius_mm`` of the centre voxel."""
    sp = np.asarray(spacing, dtype=np.float64)
    reach = np.floor(radius_mm / sp + 1e-9).astype(int)
    axes = np.ogrid[tuple(slice(-r, r + 1) for r in reach)]
    return sum((a * s) ** 2 for a, s in zip(axes, sp)) <= radius_mm**2 * (1 + 1e-9)


def _label_box(mask: np.ndarray, pad: np.ndarray) -> BBox | None:
    """Bounding box of ``mask`` grown by ``pad`` voxels per axis and clipped; None when empty."""
    where = np.nonzero(mask.any(axis=(1, 2)))[0], np.nonzero(mask.any(axis=(0, 2)))[0]
    if not where[0].size:
        return None
    third = np.nonzero(mask.any(axis=(0, 1)))[0]
    lo = np.array([where[0][0], where[1][0], third[0]]) - pad
    hi = np.array([where[0][-1], where[1][-1], third[-1]]) + pad + 1
    return clip_box(lo, hi, mask.shape)


def _ndimage():  # noqa: ANN202 - the scipy.ndimage module
    """scipy.ndimage, imported on first use so that importing the tools keeps the window's start fast."""
    from scipy import ndimage

    return ndimage


def _check_label(label: int) -> None:
    if label not in LABEL_NAMES:
        raise ValueError(f"label must be 1 (NCR), 2 (ED) or 3 (ET), got {label!r}")


def remove_small_islands(layer: LabelLayer, min_voxels: int, label: int | None = None) -> int:
    """Set to background every connected piece (26-connected) of ``label`` smaller than ``min_voxels``.

    With ``label=None`` the pieces are those of the whole tumour (any label). Returns voxels changed.
    """
    if label is not None:
        _check_label(label)
    labels = layer.data
    mask = labels == label if label is not None else np.isin(labels, list(REGIONS["WT"]))
    bbox = _label_box(mask, np.zeros(3, dtype=int))
    if bbox is None:
        return 0
    pieces, _count = _ndimage().label(mask[bbox], structure=np.ones((3, 3, 3), dtype=bool))
    sizes = np.bincount(pieces.ravel())
    small = sizes < min_voxels
    small[0] = False
    with layer.stroke("Remove small islands"):
        return layer.apply(bbox, small[pieces], BACKGROUND)


def fill_holes(
    layer: LabelLayer,
    label: int,
    settings: PaintSettings | None = None,
    images: Mapping[str, np.ndarray] | None = None,
    plane: str | None = None,
) -> int:
    """Give ``label`` to the voxels it encloses (that the paint-over rule allows); one undo step.

    Holes are enclosed in 3D, or with ``plane`` in each slice of that plane (a ring drawn on one
    slice encloses its inside there, though not in 3D).
    """
    _check_label(label)
    settings = settings if settings is not None else PaintSettings()
    mask = layer.data == label
    bbox = _label_box(mask, np.ones(3, dtype=int))
    if bbox is None:
        return 0
    if plane is None:
        filled = _ndimage().binary_fill_holes(mask[bbox])
    else:
        axis = plane_axis(plane)
        slices = np.moveaxis(mask[bbox], axis, 0)
        filled = np.moveaxis(np.stack([_ndimage().binary_fill_holes(s) for s in slices]), 0, axis)
    holes = filled & ~mask[bbox]
    holes &= settings.editable(layer.data[bbox], label, bbox, images)
    with layer.stroke("Fill holes"):
        return layer.apply(bbox, holes, label)


def dilate(
    layer: LabelLayer,
    label: int,
    radius_mm: float,
    settings: PaintSettings | None = None,
    images: Mapping[str, np.ndarray] | None = None,
) -> int:
    """Grow ``label`` by ``radius_mm`` (a ball honouring the spacing) where the settings allow."""
    _check_label(label)
    settings = settings if settings is not None else PaintSettings()
    element = ball(radius_mm, layer.spacing)
    mask = layer.data == label
    bbox = _label_box(mask, np.array(element.shape) // 2)
    if bbox is None:
        return 0
    grown = _ndimage().binary_dilation(mask[bbox], structure=element) & ~mask[bbox]
    grown &= settings.editable(layer.data[bbox], label, bbox, images)
    with layer.stroke("Dilate"):
        return layer.apply(bbox, grown, label)


def erode(
    layer: LabelLayer,
    label: int,
    radius_mm: float,
    settings: PaintSettings | None = None,
    images: Mapping[str, np.ndarray] | None = None,
) -> int:
    """Shrink ``label`` by ``radius_mm``; the voxels it gives up become background where the settings
    allow erasing (the intensity limit, and "only one label" for another label, keep voxels)."""
    _check_label(label)
    settings = settings if settings is not None else PaintSettings()
    element = ball(radius_mm, layer.spacing)
    mask = layer.data == label
    bbox = _label_box(mask, np.array(element.shape) // 2)
    if bbox is None:
        return 0
    lost = mask[bbox] & ~_ndimage().binary_erosion(mask[bbox], structure=element)
    lost &= settings.editable(layer.data[bbox], BACKGROUND, bbox, images)
    with layer.stroke("Erode"):
        return layer.apply(bbox, lost, BACKGROUND)
