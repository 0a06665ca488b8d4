"""Fill the slices between edited slices of one label by shape-based interpolation.

Between two consecutive key slices the label's signed distance maps (in mm, negative inside) are
blended linearly and the blend's inside (<= 0) is painted, so a shape drawn on slice 10 and on slice
20 morphs smoothly across slices 11-19. SimpleITK does not wrap ITK's MorphologicalContourInterpolator
(only the separate ITK remote-module wheels do), so this uses scipy's exact Euclidean distance transform.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from app.state.label_layer import Edit, LabelLayer
from app.tools.base import PaintSettings
from app.tools.events import PLANE_AXIS, in_plane_axes, plane_axis
from app.tools.flood_fill import slice_box
from segmentation_core.labels import LABEL_NAMES


def signed_distance(mask: np.ndarray, sampling: tuple[float, float]) -> np.ndarray:
    """Distance in mm to the shape's boundary: positive outside, negative inside."""
    from scipy import ndimage  # imported on first use (start-up time)

    outside = ndimage.distance_transform_edt(~mask, sampling=sampling)
    inside = ndimage.distance_transform_edt(mask, sampling=sampling)
    return outside - inside


def interpolate_slices(
    layer: LabelLayer,
    plane: str,
    label: int,
    key_slices: Sequence[int] | None = None,
    settings: PaintSettings | None = None,
    images: Mapping[str, np.ndarray] | None = None,
) -> int:
    """Interpolate ``label`` across the slices of ``plane`` between consecutive key slices (one undo step).

    ``key_slices`` are the slices the user drew on; by default every slice holding ``label``. Key
    slices without the label are ignored, and so are the key slices themselves (never changed).
    Returns the number of voxels changed.
    """
    if label not in LABEL_NAMES:
        raise ValueError(f"label must be 1 (NCR), 2 (ED) or 3 (ET), got {label!r}")
    settings = settings if settings is not None else PaintSettings()
    axis = plane_axis(plane)
    rows_axis, cols_axis = in_plane_axes(plane)
    sampling = (layer.spacing[rows_axis], layer.spacing[cols_axis])
    present = np.moveaxis(layer.data == label, axis, 0)
    has_label = present.any(axis=(1, 2))
    if key_slices is None:
        keys = [int(k) for k in np.nonzero(has_label)[0]]
    else:
        bad = [k for k in key_slices if not 0 <= k < layer.shape[axis]]
        if bad:
            raise ValueError(f"key slices {bad} are outside the volume ({layer.shape[axis]} {plane} slices)")
        keys = sorted({int(k) for k in key_slices if has_label[k]})
    changed = 0
    with layer.stroke("Interpolate slices"):
        for a, b in zip(keys, keys[1:]):
            if b - a < 2:
                continue
            dist_a, dist_b = signed_distance(present[a], sampling), signed_distance(present[b], sampling)
            for k in range(a + 1, b):
                w = (k - a) / (b - a)
                inside = (1 - w) * dist_a + w * dist_b <= 0
                bbox = slice_box(layer.shape, axis, k)
                mask = np.expand_dims(inside, axis) & settings.editable(layer.data[bbox], label, bbox, images)
                changed += layer.apply(bbox, mask, label)
    return changed


class KeySliceRecorder:
    """Remembers the slices the user painted a label on with 2D tools, as key slices to interpolate.

    Every edit exactly one slice thick along a plane's axis (a 2D brush, fill or polygon) marks that
    slice for each label it painted; 3D edits, undo and redo are ignored.
    """

    def __init__(self, layer: LabelLayer) -> None:
        self.layer = layer
        self._slices: dict[tuple[int, int], set[int]] = {}  # (axis, label) -> slice indices
        layer.edited.connect(self._on_edit)

    def slices(self, plane: str, label: int) -> list[int]:
        """Sorted key slices of ``label`` in ``plane``."""
        return sorted(self._slices.get((plane_axis(plane), label), ()))

    def clear(self) -> None:
        self._slices.clear()

    def close(self) -> None:
        self.layer.edited.disconnect(self._on_edit)

    def _on_edit(self, edit: Edit) -> None:
        if not self.layer.in_stroke:
            return  # undo, redo and whole-map replaces happen outside strokes
        for axis in PLANE_AXIS.values():
            box = edit.bbox[axis]
            if box.stop - box.start == 1:
                for label in np.unique(edit.new):
                    if label:
                        self._slices.setdefault((axis, int(label)), set()).add(box.start)
