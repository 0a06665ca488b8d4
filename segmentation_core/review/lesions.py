"""The lesion table: connected tumour components (WT) and the enhancing lesions (ET) within them.

Each WT component (26-connected, as the post-processing counts them) gets its volume per region, its
centroid, its largest axial diameter with the perpendicular (on the axial slice where it is largest)
and its position against the brain's mid-sagittal plane. The case is multifocal when more than one
component reaches ``min_focus_cm3``; its laterality is left, right, crossing the midline, or bilateral.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import ndimage

from segmentation_core.labels import ET, LABEL_NAMES, REGIONS
from segmentation_core.review.diameters import Diameters, axial_axis, largest_slice, slice_diameters
from segmentation_core.review.midline import MidlinePlane
from segmentation_core.review.volumes import voxel_volume_cm3

#: Components at least this large count as separate foci (cm^3).
DEFAULT_MIN_FOCUS_CM3 = 0.5
#: A lesion crosses the midline when it reaches this far (mm) past the plane on both sides.
CROSSING_TOLERANCE_MM = 2.0
CONNECT_26 = np.ones((3, 3, 3), bool)


@dataclass(frozen=True)
class Component:
    """One connected component: its number (1 = largest), voxels, box and a voxel near its centre."""

    number: int
    voxels: int
    box: tuple[slice, slice, slice]
    mask: np.ndarray  # bool, shaped like ``box``
    centroid: tuple[float, float, float]
    target: tuple[int, int, int]


def components(mask: np.ndarray) -> list[Component]:
    """26-connected components of a 3-D bool mask, largest first (ties: first in the array)."""
    mask = np.asarray(mask, bool)
    crop = _bounding_box(mask)
    if crop is None:
        return []
    labelled, count = ndimage.label(mask[crop], CONNECT_26)
    sizes = np.bincount(labelled.ravel())[1:]
    order = np.argsort(-sizes, kind="stable")
    found = ndimage.find_objects(labelled)
    offset = np.array([s.start for s in crop])
    out = []
    for number, index in enumerate(order, start=1):
        local = found[index]
        sub = labelled[local] == index + 1
        coords = np.argwhere(sub)
        centre = coords.mean(axis=0)
        nearest = coords[int(np.argmin(((coords - centre) ** 2).sum(axis=1)))]
        start = offset + [s.start for s in local]
        box = tuple(slice(int(a), int(a) + n) for a, n in zip(start, sub.shape))
        out.append(
            Component(
                number,
                int(sizes[index]),
                box,  # type: ignore[arg-type]
                sub,
                tuple(float(v) for v in centre + start),  # type: ignore[arg-type]
                tuple(int(v) for v in nearest + start),  # type: ignore[arg-type]
            )
        )
    return out


def component_diameters(component: Component, affine: np.ndarray) -> Diameters:
    """Longest axial diameter and its perpendicular on the component's largest axial slice."""
    axis = axial_axis(affine)
    local = largest_slice(component.mask, axis)
    found = slice_diameters(component.mask, affine, axis, local)
    assert found is not None  # the largest slice is never empty
    start = np.array([s.start for s in component.box], float)

    def shift(points: tuple) -> tuple:
        return tuple(tuple(float(v) for v in np.asarray(p) + start) for p in points)

    return Diameters(
        axis,
        local + component.box[axis].start,
        shift(found.long),
        shift(found.short),
        found.long_mm,
        found.short_mm,
    )


@dataclass(frozen=True)
class Lesion:
    """A row of the lesion table (one WT component)."""

    number: int
    volumes_cm3: dict[str, float]
    centroid_voxel: tuple[float, float, float]
    centroid_mm: tuple[float, float, float]
    target: tuple[int, int, int]
    diameters: Diameters
    #: Signed distance of the centroid from the mid-sagittal plane (mm; positive: patient's right).
    midline_mm: float | None
    #: Smallest distance of any of its voxels from the plane (0 when it crosses), mm.
    nearest_midline_mm: float | None
    side: str | None
    #: Numbers of the enhancing lesions (ET components) inside it.
    enhancing: tuple[int, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "volumes_cm3": self.volumes_cm3,
            "centroid_voxel": list(self.centroid_voxel),
            "centroid_mm": list(self.centroid_mm),
            "target_voxel": list(self.target),
            "axial_slice": self.diameters.slice_index,
            "longest_axial_diameter_mm": self.diameters.long_mm,
            "perpendicular_diameter_mm": self.diameters.short_mm,
            "midline_distance_mm": self.midline_mm,
            "nearest_midline_mm": self.nearest_midline_mm,
            "side": self.side,
            "enhancing_lesions": list(self.enhancing),
        }


@dataclass(frozen=True)
class LesionTable:
    lesions: list[Lesion]
    min_focus_cm3: float
    midline: MidlinePlane | None

    @property
    def foci(self) -> int:
        """Number of components at least ``min_focus_cm3`` large."""
        return sum(1 for lesion in self.lesions if lesion.volumes_cm3["WT"] >= self.min_focus_cm3)

    @property
    def multifocal(self) -> bool:
        return self.foci > 1

    @property
    def laterality(self) -> str | None:
        """ "left", "right", "crossing" (a focus crosses the midline), "bilateral", "none" or None (no midline)."""
        if self.midline is None:
            return None
        sides = {lesion.side for lesion in self.lesions if lesion.volumes_cm3["WT"] >= self.min_focus_cm3}
        if not sides:
            return "none"
        if "crossing" in sides:
            return "crossing"
        return sides.pop() if len(sides) == 1 else "bilateral"

    def to_dict(self) -> dict[str, Any]:
        return {
            "lesions": [lesion.to_dict() for lesion in self.lesions],
            "min_focus_cm3": self.min_focus_cm3,
            "foci": self.foci,
            "multifocal": self.multifocal,
            "laterality": self.laterality,
            "midline": None if self.midline is None else self.midline.to_dict(),
        }


def lesion_table(
    labels: np.ndarray,
    affine: np.ndarray,
    midline: MidlinePlane | None = None,
    min_focus_cm3: float = DEFAULT_MIN_FOCUS_CM3,
    enhancing: list[Component] | None = None,
) -> LesionTable:
    """The lesion table of an internal label map on a grid with ``affine``.

    ``enhancing`` may pass the already computed ET components (numbering of the RANO lesions).
    """
    labels = np.asarray(labels)
    affine = np.asarray(affine, float)
    spacing = tuple(float(s) for s in np.linalg.norm(affine[:3, :3], axis=0))
    voxel_cm3 = voxel_volume_cm3(spacing)  # type: ignore[arg-type]
    enhancing = components(labels == ET) if enhancing is None else enhancing
    rows = []
    for component in components(labels != 0):
        values = labels[component.box][component.mask]
        per_label = np.bincount(values, minlength=ET + 1)[: ET + 1].astype(np.int64) * voxel_cm3
        volumes = {name: float(per_label[label]) for label, name in LABEL_NAMES.items()}
        for region in ("WT", "TC"):
            volumes[region] = float(sum(per_label[label] for label in REGIONS[region]))
        centroid = np.array(component.centroid)
        world = affine[:3, :3] @ centroid + affine[:3, 3]
        midline_mm = nearest = side = None
        if midline is not None:
            coords = np.argwhere(component.mask) + [s.start for s in component.box]
            distances = midline.voxel_distance(affine, coords)
            midline_mm = float(midline.voxel_distance(affine, centroid[None])[0])
            crossing = distances.min() < -CROSSING_TOLERANCE_MM and distances.max() > CROSSING_TOLERANCE_MM
            side = "crossing" if crossing else ("right" if midline_mm > 0 else "left")
            nearest = (
                0.0 if crossing or distances.min() * distances.max() <= 0 else float(np.abs(distances).min())
            )
        inside = tuple(e.number for e in enhancing if _contains(component, e.target))
        rows.append(
            Lesion(
                component.number,
                volumes,
                component.centroid,
                tuple(float(v) for v in world),  # type: ignore[arg-type]
                component.target,
                component_diameters(component, affine),
                midline_mm,
                nearest,
                side,
                inside,
            )
        )
    return LesionTable(rows, min_focus_cm3, midline)


def _contains(component: Component, voxel: tuple[int, int, int]) -> bool:
    """Whether ``voxel`` (grid coordinates) belongs to ``component``."""
    local = tuple(v - s.start for v, s in zip(voxel, component.box))
    return all(0 <= v < n for v, n in zip(local, component.mask.shape)) and bool(component.mask[local])


def _bounding_box(mask: np.ndarray) -> tuple[slice, slice, slice] | None:
    box = []
    for axis in range(3):
        hits = np.flatnonzero(mask.any(axis=tuple(a for a in range(3) if a != axis)))
        if hits.size == 0:
            return None
        box.append(slice(int(hits[0]), int(hits[-1]) + 1))
    return tuple(box)  # type: ignore[return-value]
