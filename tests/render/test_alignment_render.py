"""Check-alignment composites on tiny synthetic slices with anisotropic pixels: exact checkerboard squares
in millimetres, edges where the moving image has a step, the brain-mask outline, window/level per image."""

from __future__ import annotations

import numpy as np
import pytest

from app.render.alignment import (
    EDGE_COLOUR,
    MASK_COLOUR,
    checker_tiles,
    compose_alignment,
    display_factors,
    transform_figures,
)
from app.state.display_settings import WindowLevel

#: grey = value for the reference; grey = value - 100 for the moving image.
REF_WINDOW = WindowLevel.from_range(0.0, 255.0)
MOV_WINDOW = WindowLevel.from_range(100.0, 355.0)


def test_display_factors_make_pixels_near_square() -> None:
    assert display_factors((0.9, 5.5)) == (6, 1)  # (down, across): a coronal view of 5.5 mm slices
    assert display_factors((2.0, 1.0)) == (1, 2)
    assert display_factors((1.0, 1.0)) == (1, 1)
    assert display_factors((0.5, 10.0)) == (8, 1)  # capped


def test_checker_tiles_follow_millimetres_not_pixels() -> None:
    # 2 mm across, 1 mm down, 4 mm squares: two columns or four rows per square
    tiles = checker_tiles((6, 6), (2.0, 1.0), 4.0)
    first, second = [0, 0, 1, 1, 0, 0], [1, 1, 0, 0, 1, 1]
    assert tiles.astype(int).tolist() == [first] * 4 + [second] * 2
    with pytest.raises(ValueError, match="larger than 0 mm"):
        checker_tiles((2, 2), (1.0, 1.0), 0.0)


def test_checkerboard_takes_each_square_from_one_image_through_its_own_window() -> None:
    reference = np.array([[10, 11, 12, 13], [20, 21, 22, 23], [30, 31, 32, 33]], np.float32)
    moving = reference + 150.0  # grey: reference + 50
    rgba = compose_alignment(
        reference, moving, REF_WINDOW, MOV_WINDOW, (2.0, 1.0), mode="checkerboard", square_mm=2.0
    )
    assert rgba.shape == (3, 8, 4) and rgba.dtype == np.uint8  # each 2 mm pixel split in two 1 mm ones
    ref_grey = np.repeat(reference, 2, axis=1).astype(np.uint8)
    # 2 mm squares on the 1 mm display grid: columns 0-1 | 2-3 | 4-5 | 6-7, rows 0-1 | 2
    from_moving = np.array([[0, 0, 1, 1, 0, 0, 1, 1]] * 2 + [[1, 1, 0, 0, 1, 1, 0, 0]], bool)
    expected = np.where(from_moving, ref_grey + 50, ref_grey)
    for channel in range(3):
        assert rgba[..., channel].tolist() == expected.tolist()
    assert (rgba[..., 3] == 255).all()


def test_blend_mixes_the_windowed_images() -> None:
    reference = np.full((2, 2), 200.0, np.float32)
    moving = np.full((2, 2), 140.0, np.float32)  # grey 40
    rgba = compose_alignment(reference, moving, REF_WINDOW, MOV_WINDOW, (1.0, 1.0), mode="blend", alpha=0.25)
    assert (rgba[..., :3] == 160).all()  # 0.75 * 200 + 0.25 * 40
    full = compose_alignment(reference, moving, REF_WINDOW, MOV_WINDOW, (1.0, 1.0), mode="blend", alpha=1.0)
    assert (full[..., :3] == 40).all()


def test_outline_draws_the_moving_step_over_the_reference() -> None:
    reference = np.full((12, 12), 90.0, np.float32)
    moving = np.full((12, 12), 100.0, np.float32)
    moving[:, 6:] = 355.0  # a step between columns 5 and 6
    rgba = compose_alignment(reference, moving, REF_WINDOW, MOV_WINDOW, (1.0, 1.0), mode="outline")
    edge = (rgba[..., :3] == EDGE_COLOUR).all(axis=-1)
    expected = np.zeros((12, 12), bool)
    expected[1:11, 5] = True  # Canny leaves the image border out
    assert edge.tolist() == expected.tolist()
    assert (rgba[~edge, :3] == 90).all()  # the reference elsewhere


def test_outline_of_thick_slices_is_one_line_not_a_staircase() -> None:
    # 1 mm across, 3 mm down (a coronal view of 3 mm slices): a step between slice rows 3 and 4
    reference = np.zeros((8, 6), np.float32)
    moving = np.full((8, 6), 100.0, np.float32)
    moving[4:] = 355.0
    rgba = compose_alignment(reference, moving, REF_WINDOW, MOV_WINDOW, (1.0, 3.0), mode="outline")
    assert rgba.shape == (24, 6, 4)
    edge = (rgba[..., :3] == EDGE_COLOUR).all(axis=-1)
    assert np.argwhere(edge).tolist() == [[11, c] for c in range(1, 5)]


def test_brain_mask_outline_is_drawn_on_top_in_its_colour() -> None:
    reference = np.full((6, 5), 70.0, np.float32)
    mask = np.zeros((6, 5), bool)
    mask[1:5, 1:4] = True
    rgba = compose_alignment(reference, reference + 100, REF_WINDOW, MOV_WINDOW, (1.0, 2.0), brain_mask=mask)
    assert rgba.shape == (12, 5, 4)  # 2 mm rows split in two
    red = (rgba[..., :3] == MASK_COLOUR).all(axis=-1)
    expected = np.zeros((12, 5), bool)
    expected[2:10, 1:4] = True
    expected[3:9, 2] = False  # the inside of the (repeated) block
    assert red.tolist() == expected.tolist()
    assert (rgba[~red, :3] == 70).all()


def test_bad_requests_are_refused() -> None:
    plane = np.zeros((2, 2), np.float32)
    with pytest.raises(ValueError, match="unknown alignment mode"):
        compose_alignment(plane, plane, REF_WINDOW, REF_WINDOW, (1.0, 1.0), mode="swirl")
    with pytest.raises(ValueError, match="differ in shape"):
        compose_alignment(plane, np.zeros((3, 2)), REF_WINDOW, REF_WINDOW, (1.0, 1.0))


def test_transform_figures_flag_implausible_values() -> None:
    good = transform_figures({"rotation_degrees": 2.345, "translation_mm": 4.06, "similarity": 0.6123})
    assert [(f.name, f.text, f.problem) for f in good] == [
        ("Rotation", "2.3°", None),
        ("Translation", "4.1 mm", None),
        ("Similarity (mutual information)", "0.612", None),
    ]
    bad = transform_figures({"rotation_degrees": 31.0, "translation_mm": 50.5, "similarity": 0.1})
    assert [f.problem for f in bad] == [
        "implausible: more than 30°",
        "implausible: more than 50 mm",
        "low: under 0.2",
    ]
    assert transform_figures({"rotation_degrees": float("nan"), "similarity": "x"}) == []


def test_limits_are_the_pipelines() -> None:
    from app.render import alignment
    from segmentation_core.raw import registration

    assert alignment.MAX_ROTATION_DEGREES == registration.MAX_ROTATION_DEGREES
    assert alignment.MAX_TRANSLATION_MM == registration.MAX_TRANSLATION_MM
    assert alignment.MIN_SIMILARITY == registration.MIN_SIMILARITY
