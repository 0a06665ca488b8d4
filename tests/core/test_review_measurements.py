"""Diameters, RANO and the lesion table on synthetic shapes with known sizes, on oblique/anisotropic grids."""

from __future__ import annotations

import json

import numpy as np
import pytest

from app.state.edit_stats import EditTracker
from app.state.label_layer import LabelLayer
from segmentation_core.review.diameters import axial_axis, slice_diameters
from segmentation_core.review.lesions import components, lesion_table
from segmentation_core.review.midline import midsagittal_plane
from segmentation_core.review.rano import MAX_TARGETS, RanoMeasurement, rano_assessment
from segmentation_core.review.volumes import label_volumes_cm3
from tests.core.io_fixtures import oblique_affine


def affine_of(spacing, degrees=0.0, tilt=0.0, origin=(0.0, 0.0, 0.0)) -> np.ndarray:
    """Rotation by ``degrees`` about world z (and ``tilt`` about world x) of an anisotropic grid."""
    a, b = np.deg2rad(degrees), np.deg2rad(tilt)
    rz = np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, 1]])
    rx = np.array([[1, 0, 0], [0, np.cos(b), -np.sin(b)], [0, np.sin(b), np.cos(b)]])
    affine = np.eye(4)
    affine[:3, :3] = rz @ rx @ np.diag(spacing)
    affine[:3, 3] = origin
    return affine


def in_plane_mm(affine: np.ndarray, shape) -> tuple[np.ndarray, np.ndarray]:
    """Orthonormal in-plane coordinates (mm) of every voxel of axial slices (axes 0, 1 in the plane)."""
    columns = affine[:3, :3]
    e1 = columns[:, 0] / np.linalg.norm(columns[:, 0])
    second = columns[:, 1] - (columns[:, 1] @ e1) * e1
    e2 = second / np.linalg.norm(second)
    i, j = np.meshgrid(np.arange(shape[0]), np.arange(shape[1]), indexing="ij")
    points = i[..., None] * columns[:, 0] + j[..., None] * columns[:, 1]
    return points @ e1, points @ e2


def ellipse_mask(affine, shape, centre_mm, long_mm, short_mm, angle_deg, slices) -> np.ndarray:
    """An elliptic cylinder over ``slices`` with diameters ``long_mm`` x ``short_mm`` at ``angle_deg``."""
    x, y = in_plane_mm(affine, shape)
    x, y = x - centre_mm[0], y - centre_mm[1]
    t = np.deg2rad(angle_deg)
    u, v = np.cos(t) * x + np.sin(t) * y, -np.sin(t) * x + np.cos(t) * y
    plane = (u / (long_mm / 2)) ** 2 + (v / (short_mm / 2)) ** 2 <= 1.0
    mask = np.zeros(shape, bool)
    mask[:, :, slices] = plane[:, :, None]
    return mask


GRIDS = [
    pytest.param((1.0, 1.0, 1.0), 0.0, 0.0, id="iso"),
    pytest.param((0.7, 1.3, 3.0), 0.0, 0.0, id="anisotropic"),
    pytest.param((0.9, 1.2, 2.5), 25.0, 0.0, id="oblique"),
    pytest.param((1.1, 0.8, 2.0), -35.0, 12.0, id="oblique-tilted"),
]


@pytest.mark.parametrize("spacing, degrees, tilt", GRIDS)
@pytest.mark.parametrize("angle", [0.0, 30.0, 72.0, 135.0])
def test_ellipse_diameters_are_found_within_one_voxel(spacing, degrees, tilt, angle) -> None:
    affine = affine_of(spacing, degrees, tilt)
    shape = (int(90 / spacing[0]), int(90 / spacing[1]), 5)
    mask = ellipse_mask(affine, shape, (45.0, 45.0), 40.0, 22.0, angle, slice(1, 4))
    assert axial_axis(affine) == 2
    found = slice_diameters(mask, affine, 2, 2)
    voxel = max(spacing[:2])
    assert abs(found.long_mm - 40.0) <= voxel and abs(found.short_mm - 22.0) <= voxel
    # the long line runs along the ellipse's axis; the short line is perpendicular to it
    columns = affine[:3, :3]
    long_vec = columns @ (np.subtract(found.long[1], found.long[0]))
    short_vec = columns @ (np.subtract(found.short[1], found.short[0]))
    assert abs(long_vec @ short_vec) / (found.long_mm * found.short_mm) < 0.02
    assert found.long[0][2] == found.long[1][2] == found.short[0][2] == 2.0


def test_a_single_voxel_has_one_voxel_diameters_and_an_empty_slice_none() -> None:
    mask = np.zeros((5, 5, 3), bool)
    mask[2, 2, 1] = True
    affine = np.diag([2.0, 3.0, 4.0, 1.0])
    found = slice_diameters(mask, affine, 2, 1)
    # the outline is the diamond through the voxel's edge mid-points: 3 mm along y, 2 mm across
    assert (found.long_mm, found.short_mm) == (pytest.approx(3.0), pytest.approx(2.0))
    assert slice_diameters(mask, affine, 2, 0) is None


def test_rano_measures_each_enhancing_lesion_on_its_largest_axial_slice() -> None:
    affine = affine_of((1.0, 1.0, 2.0), degrees=20.0)
    shape = (120, 120, 12)
    labels = np.zeros(shape, np.uint8)
    # one lesion: a cone of ellipses, largest (30 x 20 mm) on slice 6
    for k, scale in zip(range(3, 10), (0.5, 0.7, 0.9, 1.0, 0.9, 0.8, 0.6)):
        labels[ellipse_mask(affine, shape, (40, 40), 30 * scale, 20 * scale, 40.0, slice(k, k + 1))] = 3
    rano = rano_assessment(labels, affine)
    (m,) = rano.measurements
    assert m.slice_index == 6 and m.slice_axis == 2
    assert abs(m.long_mm - 30.0) <= 1.0 and abs(m.short_mm - 20.0) <= 1.0 and m.measurable


def test_measurability_and_sum_of_products_of_the_five_largest() -> None:
    affine = np.diag([1.0, 1.0, 3.0, 1.0])
    shape = (200, 200, 3)
    labels = np.zeros(shape, np.uint8)
    sizes = [(40, 30), (36, 28), (30, 24), (26, 20), (22, 16), (18, 14), (30, 9)]  # the last: 9 mm < 10
    centres = [(25, 25), (75, 25), (125, 25), (175, 25), (25, 100), (75, 100), (140, 100)]
    for (a, b), c in zip(sizes, centres):
        labels[ellipse_mask(affine, shape, c, a, b, 0.0, slice(1, 2))] = 3
    rano = rano_assessment(labels, affine)
    assert len(rano.measurements) == 7
    measurable = {m.lesion: m.measurable for m in rano.measurements}
    assert sum(measurable.values()) == 6
    narrow = next(m for m in rano.measurements if not m.measurable)
    assert abs(narrow.short_mm - 9.0) <= 1.0
    targets = rano.targets
    assert len(targets) == MAX_TARGETS
    assert [round(m.long_mm) for m in targets] == [41, 37, 31, 27, 23]
    assert rano.sum_of_products_mm2 == pytest.approx(sum(m.long_mm * m.short_mm for m in targets))


def test_moving_an_end_point_updates_the_lengths_and_the_sum() -> None:
    affine = np.diag([0.5, 2.0, 3.0, 1.0])
    m = RanoMeasurement(
        1, 2, 4, ((0.0, 0.0, 4.0), (20.0, 0.0, 4.0)), ((10.0, -3.0, 4.0), (10.0, 3.0, 4.0)), affine
    )
    assert (m.long_mm, m.short_mm, m.product_mm2, m.measurable) == (10.0, 12.0, 120.0, True)
    other = RanoMeasurement(
        2, 2, 1, ((0.0, 0.0, 1.0), (40.0, 0.0, 1.0)), ((0.0, 0.0, 1.0), (0.0, 6.0, 1.0)), affine
    )
    from segmentation_core.review.rano import RanoAssessment

    rano = RanoAssessment((m, other))
    assert rano.sum_of_products_mm2 == 120.0 + 240.0
    moved = rano.moved(1, "long", 1, (30.0, 0.0, 99.0))  # the slice coordinate stays on the slice
    changed = moved.measurements[0]
    assert changed.long[1] == (30.0, 0.0, 4.0) and changed.long_mm == 15.0 and changed.edited
    assert moved.sum_of_products_mm2 == 15.0 * 12.0 + 240.0
    shrunk = moved.moved(2, "short", 1, (0.0, 4.0, 1.0))  # 8 mm: no longer measurable
    assert not shrunk.measurements[1].measurable and shrunk.sum_of_products_mm2 == 180.0
    saved = json.loads(json.dumps(shrunk.measurements[1].to_dict()))
    again = RanoMeasurement.from_dict(saved, affine, (40, 10, 8))
    assert again.short_mm == 8.0 and again.edited
    with pytest.raises(ValueError, match="outside the grid"):
        RanoMeasurement.from_dict(saved | {"long": [[0, 0, 1], [500, 0, 1]]}, affine, (40, 10, 8))
    with pytest.raises(ValueError, match="no end point"):
        m.moved("middle", 0, (0.0, 0.0, 0.0))


def brain_and_affine(degrees=0.0, tilt_about_y=0.0):
    """A 64^3 ellipsoid 'brain' centred 12 mm right of the world origin, possibly tilted (roll)."""
    affine = affine_of((1.5, 1.2, 1.8), degrees=degrees, origin=(-30.0, -40.0, -50.0))
    shape = (64, 72, 60)
    world = np.indices(shape).reshape(3, -1).T @ affine[:3, :3].T + affine[:3, 3]
    centre = np.array([12.0, 3.0, 2.0])
    t = np.deg2rad(tilt_about_y)
    roll = np.array([[np.cos(t), 0, np.sin(t)], [0, 1, 0], [-np.sin(t), 0, np.cos(t)]])
    local = (world - centre) @ roll
    brain = ((local / [30.0, 36.0, 28.0]) ** 2).sum(axis=1) <= 1.0
    return brain.reshape(shape), affine, roll


@pytest.mark.parametrize("degrees", [0.0, 8.0, -15.0])
def test_the_midsagittal_plane_of_an_upright_head_on_oblique_grids(degrees) -> None:
    brain, affine, _ = brain_and_affine(degrees)
    plane = midsagittal_plane(brain, affine)
    assert np.degrees(np.arccos(min(1.0, np.dot(plane.normal, (1.0, 0.0, 0.0))))) < 0.5
    points = np.array([[12.0, 3.0, 2.0], [12.0, 33.0, -18.0], [12.0, -20.0, 15.0]])
    assert np.abs(plane.signed_distance(points)).max() < 0.5


def test_a_rolled_heads_plane_goes_through_its_centre() -> None:
    brain, affine, _ = brain_and_affine(0.0, 10.0)
    plane = midsagittal_plane(brain, affine)
    assert abs(plane.signed_distance(np.array([[12.0, 3.0, 2.0]]))[0]) < 0.5
    with pytest.raises(ValueError, match="no brain"):
        midsagittal_plane(np.zeros((4, 4, 4), bool), affine)


def test_lesion_table_volumes_sides_multifocality_and_enhancing_parts() -> None:
    affine = affine_of((1.0, 1.0, 1.0))
    shape = (80, 60, 40)
    brain = np.zeros(shape, bool)
    brain[10:70, 5:55, 5:35] = True  # midline at x = 39.5
    labels = np.zeros(shape, np.uint8)
    labels[50:60, 20:30, 15:25] = 2  # right (x > 39.5): 1000 voxels, with ET and NCR inside
    labels[53:57, 23:27, 18:22] = 3
    labels[54:56, 24:26, 19:21] = 1
    labels[15:21, 20:26, 15:21] = 2  # left: 216 voxels
    labels[35:45, 40:44, 15:20] = 2  # crossing the midline: 200 voxels
    labels[12, 8, 8] = 2  # a speck: below the focus size
    plane = midsagittal_plane(brain, affine)
    table = lesion_table(labels, affine, plane, min_focus_cm3=0.1)
    assert [round(row.volumes_cm3["WT"] * 1000) for row in table.lesions] == [1000, 216, 200, 1]
    first = table.lesions[0]
    assert first.volumes_cm3 == {"NCR": 0.008, "ED": 0.936, "ET": 0.056, "WT": 1.0, "TC": 0.064}
    assert first.side == "right" and first.midline_mm == pytest.approx(54.5 - 39.5, abs=0.3)
    assert first.nearest_midline_mm == pytest.approx(50 - 39.5, abs=0.3)
    assert first.enhancing == (1,) and table.lesions[1].enhancing == ()
    assert [row.side for row in table.lesions] == ["right", "left", "crossing", "left"]
    assert first.centroid_voxel == pytest.approx((54.5, 24.5, 19.5))
    assert first.diameters.long_mm == pytest.approx(np.hypot(10, 10), abs=1.0)
    assert table.foci == 3 and table.multifocal and table.laterality == "crossing"
    right_only = lesion_table(np.where(np.arange(80)[:, None, None] > 45, labels, 0), affine, plane)
    assert right_only.laterality == "right" and not right_only.multifocal
    both = lesion_table(
        np.where(np.abs(np.arange(80)[:, None, None] - 40) > 10, labels, 0), affine, plane, 0.1
    )
    assert both.laterality == "bilateral"
    assert lesion_table(labels, affine).laterality is None  # no midline without a brain
    assert lesion_table(np.zeros(shape, np.uint8), affine, plane).laterality == "none"


def test_volumes_equal_the_volumes_panel_to_the_last_bit() -> None:
    affine = oblique_affine(20.0, (0.9, 1.3, 2.7))
    rng = np.random.default_rng(3)
    labels = rng.choice(np.array([0, 1, 2, 3], np.uint8), size=(32, 30, 28), p=[0.7, 0.1, 0.1, 0.1])
    spacing = tuple(float(s) for s in np.linalg.norm(affine[:3, :3], axis=0))
    panel = EditTracker(LabelLayer(labels, spacing)).volumes_cm3
    assert label_volumes_cm3(labels, spacing) == panel  # exact equality, not approx
    table = lesion_table(labels, affine)
    assert sum(row.volumes_cm3["WT"] for row in table.lesions) == pytest.approx(panel["WT"], rel=1e-12)


def test_components_are_26_connected_and_ordered_by_size() -> None:
    mask = np.zeros((10, 10, 10), bool)
    mask[1, 1, 1] = mask[2, 2, 2] = True  # diagonal neighbours: one component
    mask[5:8, 5:8, 5:8] = True
    found = components(mask)
    assert [(c.number, c.voxels) for c in found] == [(1, 27), (2, 2)]
    assert found[0].target == (6, 6, 6) and found[0].centroid == (6.0, 6.0, 6.0)
