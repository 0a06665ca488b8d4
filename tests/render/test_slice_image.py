"""Slice composition: exact RGBA values for window/level, label colours, outline and composite mode."""

from __future__ import annotations

import numpy as np

from app.render.orientation import plane_layout
from app.render.slice_image import compose_slice, outline, window_to_grey
from app.state.display_settings import OverlaySettings, WindowLevel
from segmentation_core.labels import ED, ET, NCR
from tests.render.viewer_fixtures import LPS, ramp_case

WINDOW = WindowLevel(window=100.0, level=50.0)  # 0 -> black, 100 -> white


def test_window_level_maps_linearly_clips_and_rounds() -> None:
    values = np.array([[-10.0, 0.0, 25.0, 50.2, 100.0, 400.0]])
    assert window_to_grey(values, WINDOW).tolist() == [[0, 0, 64, 128, 255, 255]]
    assert window_to_grey(values, WindowLevel.from_range(25.0, 50.2)).tolist() == [[0, 0, 0, 255, 255, 255]]


def test_label_colours_blend_with_the_grey_value() -> None:
    plane = np.full((2, 3), 25.0)  # grey 64
    labels = np.array([[0, NCR, ED], [ET, 0, 0]], np.uint8)
    overlay = OverlaySettings(opacity=0.25)
    rgba = compose_slice(plane, labels, WINDOW, overlay)
    assert rgba.dtype == np.uint8 and rgba.shape == (2, 3, 4)
    # 64 * 0.75 + c * 0.25, rounded: NCR (255, 48, 48), ED (48, 220, 48), ET (255, 230, 0)
    assert rgba[0, 0].tolist() == [64, 64, 64, 255]
    assert rgba[0, 1].tolist() == [112, 60, 60, 255]
    assert rgba[0, 2].tolist() == [60, 103, 60, 255]
    assert rgba[1, 0].tolist() == [112, 106, 48, 255]


def test_hidden_labels_and_hidden_overlay_show_grey() -> None:
    plane = np.full((1, 2), 25.0)
    labels = np.array([[NCR, ED]], np.uint8)
    only_ed = compose_slice(
        plane, labels, WINDOW, OverlaySettings(opacity=1.0, visible=((1, False), (2, True), (3, True)))
    )
    assert only_ed.tolist() == [[[64, 64, 64, 255], [48, 220, 48, 255]]]
    hidden = compose_slice(plane, labels, WINDOW, OverlaySettings(opacity=1.0, show=False))
    assert hidden.tolist() == [[[64, 64, 64, 255], [64, 64, 64, 255]]]


def test_outline_mode_colours_only_border_pixels() -> None:
    labels = np.zeros((7, 7), np.uint8)
    labels[1:6, 1:6] = ED
    mask = outline(labels == ED)
    assert int(mask.sum()) == 16 and not mask[2:5, 2:5].any()
    rgba = compose_slice(np.zeros((7, 7)), labels, WINDOW, OverlaySettings(opacity=1.0, outline=True))
    assert rgba[1, 1].tolist() == [48, 220, 48, 255]
    assert rgba[3, 3].tolist() == [0, 0, 0, 255]
    assert int((rgba[..., 1] == 220).sum()) == 16


def test_composite_mode_draws_the_innermost_visible_region() -> None:
    labels = np.array([[ED, NCR, ET]], np.uint8)
    regions = (("WT", (0, 0, 255)), ("TC", (255, 0, 255)), ("ET", (0, 255, 255)))
    overlay = OverlaySettings(opacity=1.0, composite=True, region_colours=regions)
    rgba = compose_slice(np.zeros((1, 3)), labels, WINDOW, overlay)
    assert rgba[0, :, :3].tolist() == [[0, 0, 255], [255, 0, 255], [0, 255, 255]]
    no_tc = OverlaySettings(
        opacity=1.0,
        composite=True,
        region_colours=regions,
        region_visible=(("WT", True), ("TC", False), ("ET", True)),
    )
    assert compose_slice(np.zeros((1, 3)), labels, WINDOW, no_tc)[0, :, :3].tolist() == [
        [0, 0, 255],
        [0, 0, 255],
        [0, 255, 255],
    ]


def test_composite_outline_draws_nested_region_borders() -> None:
    labels = np.zeros((5, 5), np.uint8)
    labels[:, :] = ED
    labels[1:4, 1:4] = NCR
    regions = (("WT", (0, 0, 255)), ("TC", (255, 0, 255)), ("ET", (0, 255, 255)))
    overlay = OverlaySettings(opacity=1.0, composite=True, outline=True, region_colours=regions)
    rgba = compose_slice(np.zeros((5, 5)), labels, WINDOW, overlay)
    assert rgba[0, 0, :3].tolist() == [0, 0, 255]  # WT border at the image edge
    assert rgba[1, 1, :3].tolist() == [255, 0, 255]  # TC border
    assert rgba[2, 2, :3].tolist() == [0, 0, 0]  # TC interior: not drawn


def test_known_slice_of_a_case_through_its_layout() -> None:
    case = ramp_case(affine=LPS @ np.diag([1.0, 1.5, 2.0, 1.0]))
    layout = plane_layout("axial", case.affine, case.shape)
    t1 = layout.extract(case.channels["t1"].array, 6)
    labels = layout.extract(case.labels.array, 6)
    rgba = compose_slice(t1, labels, WindowLevel.from_range(0.0, 19.0), OverlaySettings(opacity=0.5))
    assert rgba.shape == (16, 20, 4)
    # LPS: column = i, row = j. Grey = round(i * 255 / 19).
    assert rgba[0, 19].tolist() == [255, 255, 255, 255]
    assert rgba[0, 10].tolist() == [134, 134, 134, 255]
    # ET at (7, 7, 6): grey round(7*255/19) = 94 -> round(47 + 127.5) = 174 (half to even), round(47 + 115) = 162, 47
    assert rgba[7, 7].tolist() == [174, 162, 47, 255]
    # ED at (4, 4, 6): grey 54 -> (27 + 24, 27 + 110, 27 + 24)
    assert rgba[4, 4].tolist() == [51, 137, 51, 255]
