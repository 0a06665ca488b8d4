"""What the viewer shows: the open case, its label layer, the cursor and the display settings.

Qt-free (numpy + psygnal). Views listen to ``case_changed`` (a new case, or None), ``labels_changed``
(the bounding box of label voxels to repaint; the whole grid after a replace), ``cursor.changed`` and
``display.changed``.
"""

from __future__ import annotations

import numpy as np
from psygnal import Signal

from app.state.alignment import StudyAlignment
from app.state.cursor import Cursor, Voxel
from app.state.display_settings import DisplaySettings, WindowLevel, percentile_window
from app.state.label_layer import LabelLayer, full_bbox
from app.state.measurements import MeasurementLayer
from segmentation_core.types import SEQUENCES, Case


class ViewerState:
    """The single source of truth the slice views, the 3D view and the status bar read."""

    case_changed = Signal(object)  # Case | None
    labels_changed = Signal(tuple)  # bounding box (3 slices)
    alignment_changed = Signal(object)  # StudyAlignment | None

    def __init__(self) -> None:
        self.case: Case | None = None
        self.labels: LabelLayer | None = None
        self.cursor = Cursor()
        self.display = DisplaySettings()
        #: The AI's uint8 uncertainty on the case grid (255: a probability of 0.5), for the heat map.
        self.uncertainty: np.ndarray | None = None
        #: RANO measurements drawn on (and dragged in) the slice views.
        self.measurements = MeasurementLayer()
        #: A raw study's sequences before/after co-registration and its brain mask (None: not a raw study).
        self.alignment: StudyAlignment | None = None

    def set_case(self, case: Case | None) -> None:
        """Show ``case`` (its ``_seg`` labels, or an empty label map): cursor to the centre, auto window."""
        self._disconnect_labels()
        self.case = case
        self.uncertainty = None
        self.measurements.set(None)
        self.alignment = None
        if case is None:
            self.labels = None
        else:
            initial = case.labels.array if case.labels is not None else np.zeros(case.shape, np.uint8)
            self.labels = LabelLayer(initial, case.spacing)
            self.labels.changed.connect(self._emit_labels)
            self.labels.replaced.connect(self._emit_all_labels)
            self.display.set_all_window_levels(auto_window_levels(case))
            self.cursor.reset(case.shape)
        self.case_changed.emit(case)

    def _disconnect_labels(self) -> None:
        if self.labels is not None:
            self.labels.changed.disconnect(self._emit_labels)
            self.labels.replaced.disconnect(self._emit_all_labels)

    def _emit_labels(self, bbox: tuple) -> None:
        self.labels_changed.emit(bbox)

    def _emit_all_labels(self) -> None:
        if self.case is not None:
            self.labels_changed.emit(full_bbox(self.case.shape))

    def set_uncertainty(self, uncertainty: np.ndarray | None) -> None:
        """Show another AI result's uncertainty (uint8 on the case grid) in the confidence overlay."""
        if uncertainty is not None and (self.case is None or uncertainty.shape != self.case.shape):
            raise ValueError("the uncertainty map must lie on the open case's grid")
        self.uncertainty = uncertainty
        self.display.changed.emit("confidence")

    def set_alignment(self, alignment: StudyAlignment | None) -> None:
        """Show another raw-study alignment (its arrays must lie on the open case's grid)."""
        if alignment is not None:
            if self.case is None:
                raise RuntimeError("no case is open")
            arrays = [*alignment.header_only.values(), *alignment.registered.values()]
            if alignment.brain_mask is not None:
                arrays.append(alignment.brain_mask)
            if any(a.shape != self.case.shape for a in arrays):
                raise ValueError("the alignment's images must lie on the open case's grid")
        self.alignment = alignment
        self.alignment_changed.emit(alignment)

    def replace_images(self, arrays: dict[str, np.ndarray]) -> None:
        """Show other images of some sequences on the same grid (e.g. a raw study's registered ones).

        The case keeps its grid, labels, cursor and windows; the views redraw (``display.changed("images")``).
        """
        if self.case is None:
            raise RuntimeError("no case is open")
        if any(name not in self.case.channels or a.shape != self.case.shape for name, a in arrays.items()):
            raise ValueError("the images must be sequences of the open case, on its grid")
        for name, array in arrays.items():
            self.case.channels[name] = self.case.channels[name].with_array(array)
        self.display.changed.emit("images")

    # ---------------------------------------------------------------- reading
    def image(self, sequence: str | None = None) -> np.ndarray:
        """The voxel array of a sequence (the active one by default)."""
        if self.case is None:
            raise RuntimeError("no case is open")
        return self.case.channels[sequence or self.display.sequence].array

    def world_position(self, voxel: Voxel | None = None) -> tuple[float, float, float]:
        """World (RAS+ mm) coordinates of a voxel centre (the cursor by default)."""
        if self.case is None:
            raise RuntimeError("no case is open")
        ijk = np.array([*(voxel or self.cursor.position), 1.0])
        return tuple(float(v) for v in (self.case.affine @ ijk)[:3])  # type: ignore[return-value]

    def intensities(self, voxel: Voxel | None = None) -> dict[str, float]:
        """Each sequence's value at a voxel (the cursor by default)."""
        if self.case is None:
            return {}
        ijk = voxel or self.cursor.position
        return {name: float(vol.array[ijk]) for name, vol in self.case.channels.items()}

    def label_at(self, voxel: Voxel | None = None) -> int:
        if self.labels is None:
            return 0
        return int(self.labels.data[voxel or self.cursor.position])

    def auto_window(self, sequence: str | None = None, low: float = 1.0, high: float = 99.0) -> None:
        """Window a sequence (the active one) to the ``low``-``high`` percentiles of its brain voxels."""
        name = sequence or self.display.sequence
        self.display.set_window_level(percentile_window(self.image(name), low, high), name)


def auto_window_levels(case: Case) -> dict[str, WindowLevel]:
    """The 1-99 % window of every sequence of a case."""
    return {name: percentile_window(case.channels[name].array) for name in SEQUENCES if name in case.channels}
