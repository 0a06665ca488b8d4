"""Which array axes each view shows, which way round, and the letters on its sides."""

from __future__ import annotations

import numpy as np
import pytest

from app.render.orientation import direction_letters, plane_layout
from tests.render.viewer_fixtures import LPS

RAS = np.eye(4)
SHAPE = (20, 16, 12)


@pytest.mark.parametrize("affine", [RAS, LPS], ids=["RAS", "LPS"])
def test_axial_radiological_letters_are_the_same_for_ras_and_lps(affine: np.ndarray) -> None:
    layout = plane_layout("axial", affine, SHAPE)
    assert layout.letters == ("R", "L", "A", "P")
    assert (layout.slice_axis, layout.col_axis, layout.row_axis) == (2, 0, 1)
    assert layout.size == (20, 16)


def test_flips_follow_the_affine_so_patient_right_is_on_screen_left() -> None:
    # RAS: array index 0 along axis 0 is the patient's leftmost voxel; LPS: the rightmost.
    ras, lps = plane_layout("axial", RAS, SHAPE), plane_layout("axial", LPS, SHAPE)
    assert (ras.flip_col, ras.flip_row) == (True, True)
    assert (lps.flip_col, lps.flip_row) == (False, False)
    assert ras.pixel_of((0, 0, 5)) == (19, 15)  # left-posterior voxel: screen right, bottom
    assert lps.pixel_of((0, 0, 5)) == (0, 0)  # right-anterior voxel: screen left, top


def test_neurological_convention_swaps_left_and_right_only_in_axial_and_coronal() -> None:
    assert plane_layout("axial", LPS, SHAPE, "neurological").letters == ("L", "R", "A", "P")
    assert plane_layout("coronal", LPS, SHAPE, "neurological").letters == ("L", "R", "S", "I")
    assert plane_layout("coronal", LPS, SHAPE).letters == ("R", "L", "S", "I")
    assert plane_layout("sagittal", LPS, SHAPE, "neurological").letters == ("A", "P", "S", "I")
    assert plane_layout("axial", RAS, SHAPE, "neurological").flip_col is False


@pytest.mark.parametrize("affine", [RAS, LPS], ids=["RAS", "LPS"])
def test_sagittal_and_coronal_axes(affine: np.ndarray) -> None:
    sag = plane_layout("sagittal", affine, SHAPE)
    assert (sag.slice_axis, sag.col_axis, sag.row_axis) == (0, 1, 2)
    assert sag.letters == ("A", "P", "S", "I")
    assert sag.flip_row is True  # superior (high k) at the top
    assert sag.flip_col is bool(affine[1, 1] > 0)  # anterior on the left
    cor = plane_layout("coronal", affine, SHAPE)
    assert (cor.slice_axis, cor.col_axis, cor.row_axis) == (1, 0, 2)


def test_oblique_affine_gives_two_letters_per_side() -> None:
    angle = np.deg2rad(30)
    rot = np.eye(4)
    rot[:2, :2] = [[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]]
    assert plane_layout("axial", rot, SHAPE).letters == ("RA", "LP", "AL", "PR")
    assert direction_letters(np.array([0.0, 0.1, -1.0])) == "I"


def test_permuted_axes_and_anisotropic_spacing() -> None:
    # array axis 0 runs inferior->superior (3 mm), axis 1 posterior->anterior, axis 2 right->left
    affine = np.array([[0, 0, -0.5, 0], [0, 0.8, 0, 0], [3.0, 0, 0, 0], [0, 0, 0, 1]])
    axial = plane_layout("axial", affine, (10, 30, 40))
    assert (axial.slice_axis, axial.col_axis, axial.row_axis) == (0, 2, 1)
    assert (axial.flip_col, axial.flip_row) == (False, True)
    assert axial.size == (40, 30)
    assert axial.pixel_spacing == (0.5, 0.8)
    assert axial.letters == ("R", "L", "A", "P")


def test_extract_and_voxel_mapping_round_trip() -> None:
    array = np.arange(np.prod(SHAPE)).reshape(SHAPE)
    for plane in ("axial", "sagittal", "coronal"):
        for affine in (RAS, LPS):
            layout = plane_layout(plane, affine, SHAPE)
            index = 3
            image = layout.extract(array, index)
            assert image.shape == (layout.size[1], layout.size[0])
            for col, row in [(0, 0), (5, 2), (layout.size[0] - 1, layout.size[1] - 1)]:
                voxel = layout.voxel_at(col, row, index)
                assert voxel[layout.slice_axis] == index
                assert image[row, col] == array[voxel]
                assert layout.pixel_of(voxel) == (col, row)


def test_bad_plane_or_convention_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown plane 'oblique'"):
        plane_layout("oblique", RAS, SHAPE)
    with pytest.raises(ValueError, match="unknown convention 'surgical'"):
        plane_layout("axial", RAS, SHAPE, "surgical")
