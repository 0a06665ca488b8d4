"""Key images of a report: a lesion's axial slice with its outline and measurement lines (numpy RGBA).

Uses the views' own slice composer and axial layout, so a key image looks like the slice view.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import ndimage
from skimage.draw import line

from app.render.orientation import PlaneLayout, plane_layout
from app.render.slice_image import compose_slice
from app.state.display_settings import OverlaySettings, percentile_window
from segmentation_core.review.report import KeyImage, ReportData
from segmentation_core.types import Case

Point = tuple[float, float, float]
#: Colours of the longest diameter and of its perpendicular.
LONG_COLOUR = (0, 230, 255)
SHORT_COLOUR = (255, 0, 255)
#: Room left around the lesion (mm), the smallest field of view (mm) and the size of the picture's
#: longer side (pixels).
MARGIN_MM = 12.0
MIN_FIELD_MM = 60.0
SIZE_PX = 240


def key_image(
    case: Case,
    labels: np.ndarray,
    slice_index: int,
    focus: np.ndarray,
    lines: Sequence[tuple[Point, Point]],
    *,
    sequence: str = "t1ce",
    convention: str = "radiological",
    size: int = SIZE_PX,
) -> np.ndarray:
    """(rows, cols, 4) uint8: axial slice ``slice_index`` around the voxels of ``focus`` (3-D bool).

    Labels are drawn as outlines; ``lines`` (voxel-coordinate end points: the longest diameter first,
    then its perpendicular) are drawn on top in cyan and magenta.
    """
    layout = plane_layout("axial", case.affine, case.shape, convention)
    name = sequence if sequence in case.channels else case.reference
    image = case.channels[name].array
    plane = layout.extract(image, slice_index)
    overlay = OverlaySettings(outline=True, opacity=1.0)
    rgba = compose_slice(plane, layout.extract(labels, slice_index), percentile_window(image), overlay)
    rows, cols = _crop(layout, layout.extract(focus, slice_index))
    scale = max(2, size // max(rows.stop - rows.start, cols.stop - cols.start))
    picture = np.ascontiguousarray(rgba[rows, cols].repeat(scale, axis=0).repeat(scale, axis=1))
    for (start, end), colour in zip(lines, (LONG_COLOUR, SHORT_COLOUR)):
        a = _pixel(layout, start, rows.start, cols.start, scale)
        b = _pixel(layout, end, rows.start, cols.start, scale)
        _draw(picture, a, b, colour, width=max(2, scale // 2))
    return picture


def _crop(layout: PlaneLayout, focus: np.ndarray) -> tuple[slice, slice]:
    """Rows and columns around the focus on the slice, ``MARGIN_MM`` wider on every side."""
    hits = np.argwhere(focus)
    if hits.size == 0:
        return slice(0, focus.shape[0]), slice(0, focus.shape[1])
    col_mm, row_mm = layout.pixel_spacing
    pixel_mm = np.array([row_mm, col_mm])
    margin = np.round(MARGIN_MM / pixel_mm).astype(int)
    low, high = hits.min(axis=0) - margin, hits.max(axis=0) + margin + 1
    grow = np.maximum(0, np.round(MIN_FIELD_MM / pixel_mm).astype(int) - (high - low))
    low, high = low - grow // 2, high + grow - grow // 2
    low, high = np.maximum(low, 0), np.minimum(high, focus.shape)
    return slice(int(low[0]), int(high[0])), slice(int(low[1]), int(high[1]))


def _pixel(layout: PlaneLayout, voxel: Point, row0: int, col0: int, scale: int) -> tuple[float, float]:
    """(row, col) in the scaled crop of a voxel-coordinate point (fractional)."""
    cols, rows = layout.size
    col = voxel[layout.col_axis]
    row = voxel[layout.row_axis]
    col = cols - 1 - col if layout.flip_col else col
    row = rows - 1 - row if layout.flip_row else row
    return ((row - row0 + 0.5) * scale - 0.5, (col - col0 + 0.5) * scale - 0.5)


def _draw(
    picture: np.ndarray,
    a: tuple[float, float],
    b: tuple[float, float],
    colour: tuple[int, int, int],
    width: int,
) -> None:
    """A line of ``width`` pixels from ``a`` to ``b`` (clipped to the picture)."""
    rr, cc = line(int(round(a[0])), int(round(a[1])), int(round(b[0])), int(round(b[1])))
    half = width // 2
    for dr in range(-half, width - half):
        for dc in range(-half, width - half):
            r, c = rr + dr, cc + dc
            inside = (r >= 0) & (r < picture.shape[0]) & (c >= 0) & (c < picture.shape[1])
            picture[r[inside], c[inside], :3] = colour


def report_key_images(
    report: ReportData, case: Case, labels: np.ndarray, limit: int = 4
) -> tuple[tuple[KeyImage, ...], dict[str, np.ndarray]]:
    """One key image per focus (lesions of at least the table's focus size, largest first, at most
    ``limit``; the largest lesion when none is that large) for a report, and their pixels.

    A lesion with measured enhancing parts shows its largest-product RANO measurement; one without
    shows its own longest axial diameter and perpendicular.
    """
    measurements = {m.lesion: m for m in report.rano.measurements}
    found: list[KeyImage] = []
    pixels: dict[str, np.ndarray] = {}
    labelled, _ = ndimage.label(np.asarray(labels) != 0, np.ones((3, 3, 3), bool))
    table = report.lesions
    shown = [lesion for lesion in table.lesions if lesion.volumes_cm3["WT"] >= table.min_focus_cm3]
    for lesion in (shown or table.lesions[:1])[:limit]:
        inside = [measurements[n] for n in lesion.enhancing if n in measurements]
        if inside:
            best = max(inside, key=lambda m: m.product_mm2)
            index, lines = best.slice_index, (best.long, best.short)
            caption = (
                f"Lesion {lesion.number}, ET {best.lesion}: {best.long_mm:.1f} × {best.short_mm:.1f} mm "
                f"(slice {index})"
            )
        else:
            d = lesion.diameters
            index, lines = d.slice_index, (d.long, d.short)
            caption = f"Lesion {lesion.number}: {d.long_mm:.1f} × {d.short_mm:.1f} mm (slice {index})"
        focus = _lesion_region(labelled, lesion.target)
        name = f"lesion-{lesion.number}.png"
        pixels[name] = key_image(case, labels, index, focus, lines)
        found.append(KeyImage(name, lesion.number, index, caption))
    return tuple(found), pixels


def _lesion_region(labelled: np.ndarray, seed: tuple[int, int, int]) -> np.ndarray:
    """The labelled tumour component holding ``seed``."""
    return labelled == labelled[seed]
