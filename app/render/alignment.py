"""Composites that show how well a moving sequence lies on the reference: one slice, pure numpy, RGBA uint8.

The "Check alignment" view draws one slice (already laid out as on screen, ``PlaneLayout.extract``) of
the reference and of a moving sequence, each through its own window/level. Thick slices make pixels
far from square (0.9 x 5.5 mm in a coronal view of 5.5 mm axial slices), so the composite is drawn on a
display grid that splits each pixel into ``display_factors`` near-square ones (the grey values repeated,
never invented), as

- a checkerboard: squares of ``square_mm`` millimetres (whatever the pixel spacing) alternate between
  the reference (the square at the top-left pixel) and the moving image;
- an outline: the moving image's edges (Canny on the moving slice linearly resampled to the display grid,
  after a Gaussian of ``EDGE_SIGMA_MM``) drawn in ``EDGE_COLOUR`` over the reference: thin lines along
  the anatomy, not along the borders of thick slices;
- a blend: ``round((1 - alpha) * reference + alpha * moving)`` in grey;

and optionally the brain mask's outline in ``MASK_COLOUR`` on top. The transform figures of a sequence
(rotation, translation, similarity) are checked against the pipeline's plausibility limits here too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from app.render.slice_image import outline, window_to_grey
from app.state.display_settings import WindowLevel

MODES = ("checkerboard", "outline", "blend")
EDGE_COLOUR = (0, 230, 255)
MASK_COLOUR = (255, 60, 60)
DEFAULT_SQUARE_MM = 20.0
#: Smoothing before edge detection (mm, the same across and down whatever the pixel spacing).
EDGE_SIGMA_MM = 2.0
#: Canny hysteresis thresholds on the smoothed image's gradient, as fractions of the window per pixel.
EDGE_LOW, EDGE_HIGH = 0.06, 0.15

#: Most display pixels one slice pixel is split into along an axis.
MAX_DISPLAY_FACTOR = 8

#: Plausibility limits of a rigid co-registration (issue #15; the pipeline refuses results outside them).
MAX_ROTATION_DEGREES = 30.0
MAX_TRANSLATION_MM = 50.0
MIN_SIMILARITY = 0.2


def display_factors(pixel_spacing: tuple[float, float]) -> tuple[int, int]:
    """(down, across): how many display pixels each slice pixel becomes, for near-square display pixels."""
    across, down = pixel_spacing
    finest = min(across, down)

    def factor(size: float) -> int:
        return int(min(max(round(size / finest), 1), MAX_DISPLAY_FACTOR))

    return factor(down), factor(across)


def repeat_pixels(plane: np.ndarray, factors: tuple[int, int]) -> np.ndarray:
    """Each pixel of ``plane`` as a block of ``factors`` (down, across) pixels."""
    return np.repeat(np.repeat(plane, factors[0], axis=0), factors[1], axis=1)


def checker_tiles(shape: tuple[int, int], pixel_spacing: tuple[float, float], square_mm: float) -> np.ndarray:
    """Bool (rows, columns): True where the moving image shows, in squares of ``square_mm`` mm.

    ``pixel_spacing`` is (across, down) in mm. A pixel belongs to the square its centre falls in; the
    square at the top-left corner shows the reference.
    """
    if square_mm <= 0:
        raise ValueError(f"the checkerboard square must be larger than 0 mm, not {square_mm}")
    rows, cols = shape
    across, down = pixel_spacing
    col_square = np.floor((np.arange(cols) + 0.5) * across / square_mm).astype(np.int64)
    row_square = np.floor((np.arange(rows) + 0.5) * down / square_mm).astype(np.int64)
    return ((row_square[:, None] + col_square[None, :]) % 2).astype(bool)


def image_edges(
    plane: np.ndarray,
    window: WindowLevel,
    pixel_spacing: tuple[float, float],
    sigma_mm: float = EDGE_SIGMA_MM,
) -> np.ndarray:
    """Bool edges of a slice on its display grid (``display_factors``): the slice is linearly resampled
    there and windowed to 0..1, then smoothed by a Gaussian of ``sigma_mm`` and passed to Canny."""
    from scipy.ndimage import gaussian_filter, zoom
    from skimage.feature import canny

    factors = display_factors(pixel_spacing)
    fine = np.asarray(plane, np.float32)
    if factors != (1, 1):
        fine = zoom(fine, factors, order=1, mode="nearest", grid_mode=True)
    unit = np.clip((fine - window.low) / max(window.high - window.low, 1e-12), 0.0, 1.0)
    across, down = pixel_spacing
    sigma = (sigma_mm * factors[0] / down, sigma_mm * factors[1] / across)
    return canny(
        gaussian_filter(unit, sigma=sigma), sigma=0.0, low_threshold=EDGE_LOW, high_threshold=EDGE_HIGH
    )


def paint(rgba: np.ndarray, mask: np.ndarray, colour: tuple[int, int, int]) -> np.ndarray:
    """Colour the pixels of ``mask`` in ``rgba`` (in place, opaque); returns ``rgba``."""
    rgba[np.asarray(mask, bool), :3] = colour
    return rgba


def grey_rgba(grey: np.ndarray) -> np.ndarray:
    """An opaque RGBA image of a uint8 grey slice."""
    rgba = np.empty((*grey.shape, 4), np.uint8)
    rgba[..., :3] = grey[..., None]
    rgba[..., 3] = 255
    return rgba


def compose_alignment(
    reference: np.ndarray,
    moving: np.ndarray,
    reference_window: WindowLevel,
    moving_window: WindowLevel,
    pixel_spacing: tuple[float, float],
    *,
    mode: str = "checkerboard",
    square_mm: float = DEFAULT_SQUARE_MM,
    alpha: float = 0.5,
    brain_mask: np.ndarray | None = None,
) -> np.ndarray:
    """One slice of ``reference`` against ``moving`` (same shape, screen layout) as opaque RGBA uint8.

    The result lies on the display grid: (rows * down, columns * across, 4) for ``display_factors``.
    ``mode`` is one of ``MODES``; ``brain_mask`` (bool slice), when given, is outlined on top.
    """
    if mode not in MODES:
        raise ValueError(f"unknown alignment mode {mode!r}; choose one of {MODES}")
    if np.shape(reference) != np.shape(moving):
        raise ValueError(f"the slices differ in shape: {np.shape(reference)} and {np.shape(moving)}")
    factors = display_factors(pixel_spacing)
    spacing = (pixel_spacing[0] / factors[1], pixel_spacing[1] / factors[0])
    moving = np.nan_to_num(moving)
    ref = repeat_pixels(window_to_grey(np.nan_to_num(reference), reference_window), factors)
    mov = repeat_pixels(window_to_grey(moving, moving_window), factors)
    if mode == "checkerboard":
        grey = np.where(checker_tiles(ref.shape, spacing, square_mm), mov, ref)
        rgba = grey_rgba(grey)
    elif mode == "blend":
        a = float(np.clip(alpha, 0.0, 1.0))
        grey = np.rint(ref.astype(np.float32) * (1.0 - a) + mov.astype(np.float32) * a).astype(np.uint8)
        rgba = grey_rgba(grey)
    else:
        rgba = paint(grey_rgba(ref), image_edges(moving, moving_window, pixel_spacing), EDGE_COLOUR)
    if brain_mask is not None:
        paint(rgba, outline(repeat_pixels(np.asarray(brain_mask, bool), factors)), MASK_COLOUR)
    return rgba


@dataclass(frozen=True)
class TransformFigure:
    """One figure of a registration for the user: its name, value as text, and a problem (or None)."""

    name: str
    text: str
    problem: str | None = None


def transform_figures(description: Mapping[str, object]) -> list[TransformFigure]:
    """Rotation, translation and similarity of a transform description (``RigidTransform.to_json``).

    Each is flagged when it lies outside the plausibility limits; figures absent from the description
    are left out.
    """
    figures: list[TransformFigure] = []
    rotation = _number(description.get("rotation_degrees"))
    if rotation is not None:
        problem = (
            f"implausible: more than {MAX_ROTATION_DEGREES:g}°" if rotation > MAX_ROTATION_DEGREES else None
        )
        figures.append(TransformFigure("Rotation", f"{rotation:.1f}°", problem))
    translation = _number(description.get("translation_mm"))
    if translation is not None:
        problem = (
            f"implausible: more than {MAX_TRANSLATION_MM:g} mm" if translation > MAX_TRANSLATION_MM else None
        )
        figures.append(TransformFigure("Translation", f"{translation:.1f} mm", problem))
    similarity = _number(description.get("similarity"))
    if similarity is not None:
        problem = f"low: under {MIN_SIMILARITY:g}" if similarity < MIN_SIMILARITY else None
        figures.append(TransformFigure("Similarity (mutual information)", f"{similarity:.3f}", problem))
    return figures


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(value):
        return None
    return float(value)
