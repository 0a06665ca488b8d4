"""Pure numpy slice composition: grey values through window/level, then the label overlay, as RGBA uint8.

No Qt: the slice views wrap the result in a QImage (Format_RGBA8888) without copying.
"""

from __future__ import annotations

import numpy as np

from app.state.display_settings import OverlaySettings, WindowLevel
from segmentation_core.labels import ED, ET, NCR, REGION_NAMES, REGIONS

_LABELS = (NCR, ED, ET)
_REGION_ORDER = REGION_NAMES  # WT, TC, ET: outermost first, so inner regions are drawn on top


def window_to_grey(plane: np.ndarray, window: WindowLevel) -> np.ndarray:
    """Map values linearly so ``window.low`` -> 0 and ``window.high`` -> 255 (clipped, rounded)."""
    scale = np.float32(255.0 / max(window.high - window.low, 1e-12))
    grey = (np.asarray(plane, dtype=np.float32) - np.float32(window.low)) * scale
    np.clip(grey, 0.0, 255.0, out=grey)
    return np.rint(grey, out=grey).astype(np.uint8)


def _label_colour_lut(overlay: OverlaySettings) -> tuple[np.ndarray, np.ndarray]:
    """Colour (256x3) and opacity (256) of each label value in filled drawing."""
    colours = np.zeros((256, 3), np.float32)
    alpha = np.zeros(256, np.float32)
    for label in _LABELS:
        colour = label_display_colour(overlay, label)
        if colour is not None:
            colours[label] = colour
            alpha[label] = overlay.opacity
    return colours, alpha


def label_display_colour(overlay: OverlaySettings, label: int) -> tuple[int, int, int] | None:
    """The colour a label is drawn in (None: hidden): its own, or in composite mode its innermost visible region's."""
    if not overlay.composite:
        return overlay.colour(label) if overlay.is_visible(label) else None
    for region in reversed(_REGION_ORDER):
        if label in REGIONS[region] and overlay.region_is_visible(region):
            return overlay.region_colour(region)
    return None


def outline(mask: np.ndarray) -> np.ndarray:
    """Pixels of ``mask`` with a 4-neighbour outside it (the image border counts as outside)."""
    padded = np.pad(mask, 1, constant_values=False)
    interior = padded[:-2, 1:-1] & padded[2:, 1:-1] & padded[1:-1, :-2] & padded[1:-1, 2:]
    return mask & ~interior


def _outline_layers(
    labels: np.ndarray, overlay: OverlaySettings
) -> list[tuple[np.ndarray, tuple[int, int, int]]]:
    if overlay.composite:
        return [
            (outline(np.isin(labels, list(REGIONS[r]))), overlay.region_colour(r))
            for r in _REGION_ORDER
            if overlay.region_is_visible(r)
        ]
    return [
        (outline(labels == label), overlay.colour(label)) for label in _LABELS if overlay.is_visible(label)
    ]


def compose_slice(
    plane: np.ndarray, labels: np.ndarray | None, window: WindowLevel, overlay: OverlaySettings
) -> np.ndarray:
    """An opaque (rows, columns, 4) uint8 RGBA image of one slice with its label overlay.

    Overlay pixels are ``round(grey * (1 - opacity) + colour * opacity)``; in outline mode only each
    label's (or, in composite mode, each region's) border pixels are coloured.
    """
    grey = window_to_grey(plane, window)
    rgba = np.empty((*grey.shape, 4), np.uint8)
    rgba[..., 3] = 255
    if labels is None or not overlay.show or overlay.opacity <= 0 or not labels.any():
        rgba[..., :3] = grey[..., None]
        return rgba
    labels = np.asarray(labels)
    if overlay.outline:
        colour = np.zeros((*grey.shape, 3), np.float32)
        alpha = np.zeros(grey.shape, np.float32)
        for mask, rgb in _outline_layers(labels, overlay):
            colour[mask] = rgb
            alpha[mask] = overlay.opacity
    else:
        lut_colour, lut_alpha = _label_colour_lut(overlay)
        colour, alpha = lut_colour[labels], lut_alpha[labels]
    blended = grey.astype(np.float32)[..., None] * (1.0 - alpha[..., None]) + colour * alpha[..., None]
    rgba[..., :3] = np.rint(blended)
    return rgba


def heat_colours() -> np.ndarray:
    """(256, 3) float32 colours of the uncertainty heat map: orange at low, magenta at full uncertainty."""
    t = np.linspace(0.0, 1.0, 256, dtype=np.float32)[:, None]
    return (1 - t) * np.array([255, 140, 0], np.float32) + t * np.array([255, 0, 255], np.float32)


_HEAT = heat_colours()


def apply_heat(rgba: np.ndarray, uncertainty: np.ndarray, threshold: float, opacity: float) -> np.ndarray:
    """Blend the heat colour of ``uncertainty`` (uint8 plane) over ``rgba`` where it reaches ``threshold``.

    In place; pixels are ``round(rgb * (1 - opacity) + heat * opacity)``. Returns ``rgba``.
    """
    level = int(np.ceil(threshold * 255 - 1e-9))
    hot = np.asarray(uncertainty) >= level
    if opacity <= 0 or not hot.any():
        return rgba
    colours = _HEAT[np.asarray(uncertainty)[hot]]
    blended = rgba[hot, :3].astype(np.float32) * (1.0 - opacity) + colours * opacity
    rgba[hot, :3] = np.rint(blended)
    return rgba
