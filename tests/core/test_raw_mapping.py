"""Mapping back to the native grid, grids and transforms: exact geometry on small synthetic volumes."""

from __future__ import annotations

import numpy as np
import pytest
import SimpleITK as sitk

from segmentation_core.inference.postprocess import OFF
from segmentation_core.raw.mapping import labels_from_probabilities, labels_onto, probabilities_onto
from segmentation_core.raw.resampling import canonical_grid, crop_grid, resample
from segmentation_core.raw.transforms import RigidTransform, rigid_matrix
from segmentation_core.types import Volume
from tests.core.raw_fixtures import oblique_affine


def world_points(shape: tuple[int, int, int], affine: np.ndarray) -> np.ndarray:
    index = np.indices(shape, dtype=np.float64).reshape(3, -1)
    return (affine[:3, :3] @ index + affine[:3, 3:4]).reshape(3, *shape)


def test_linear_maps_reach_an_oblique_anisotropic_grid_exactly_through_a_transform() -> None:
    source_shape = (60, 64, 56)
    source_affine = np.diag([1.0, 1.0, 1.0, 1.0])
    source_affine[:3, 3] = (-30, -32, -28)
    x, y, z = world_points(source_shape, source_affine)
    maps = np.stack([0.01 * x + 0.5, 0.02 * y - 0.03 * z + 0.2])
    native_shape = (24, 20, 6)
    native = oblique_affine((0.9, 0.9, 5.5), (12, -7, 20), native_shape)
    motion = rigid_matrix((4.0, -3.0, 6.0), (2.0, -1.5, 1.0), np.zeros(3))
    out = probabilities_onto(maps, source_affine, (native_shape, native), motion)
    px, py, pz = np.einsum("ij,j...->i...", motion[:3, :3], world_points(native_shape, native)) + motion[
        :3, 3
    ].reshape(3, 1, 1, 1)
    np.testing.assert_allclose(out[0], 0.01 * px + 0.5, atol=1e-5)
    np.testing.assert_allclose(out[1], 0.02 * py - 0.03 * pz + 0.2, atol=1e-5)


def test_maps_are_zero_outside_the_source_grid() -> None:
    source = np.ones((1, 10, 10, 10), dtype=np.float32)
    affine = np.eye(4)
    shifted = np.eye(4)
    shifted[:3, 3] = (20, 0, 0)  # ten voxels beyond the source's last voxel
    out = probabilities_onto(source, affine, ((10, 10, 10), shifted))
    assert out.shape == (1, 10, 10, 10)
    assert not out.any()


def test_labels_come_from_resampled_probabilities_not_from_a_1mm_label_map() -> None:
    # a 3 mm thick slab of tumour between z = -1.5 and 1.5 mm; native slices are 5 mm thick centred on z = 0
    shape = (20, 20, 40)
    affine = np.eye(4)
    affine[:3, 3] = (-10, -10, -20)
    z = world_points(shape, affine)[2]
    probability = np.where(np.abs(z) <= 1.5, 1.0, 0.0).astype(np.float32)
    maps = np.stack([probability, np.zeros_like(probability), np.zeros_like(probability)])
    native = np.diag([1.0, 1.0, 5.0, 1.0])
    native[:3, 3] = (-10, -10, -10)  # slices at z = -10, -5, 0, 5, 10
    out = probabilities_onto(maps, affine, ((20, 20, 5), native))
    labels, cleanup = labels_from_probabilities(out, (1.0, 1.0, 5.0), OFF)
    assert np.array_equal(np.unique(labels[:, :, 2]), [2])  # the slice through the slab: edema (WT only)
    assert not labels[:, :, [0, 1, 3, 4]].any()
    assert cleanup.islands_removed == 0  # clean-up off: nothing removed


def test_labels_move_to_a_grid_shifted_by_whole_voxels_exactly() -> None:
    rng = np.random.default_rng(3)
    labels = rng.integers(0, 4, size=(12, 10, 8)).astype(np.uint8)
    affine = oblique_affine((1.0, 1.2, 3.0), (10, 0, -20), labels.shape)
    shifted = affine.copy()
    shifted[:3, 3] = affine[:3, :3] @ np.array([2, 1, 1]) + affine[:3, 3]
    moved = labels_onto(labels, affine, ((10, 9, 7), shifted))
    np.testing.assert_array_equal(moved, labels[2:, 1:, 1:])


def test_canonical_grid_covers_the_volume_and_crop_keeps_world_positions() -> None:
    volume = Volume(
        np.zeros((30, 20, 10), np.float32), oblique_affine((0.9, 0.9, 5.5), (10, 20, -5), (30, 20, 10))
    )
    shape, affine = canonical_grid(volume, 1.0)
    np.testing.assert_allclose(affine[:3, :3], np.eye(3))
    corners = world_points((2, 2, 2), np.diag([29, 19, 9, 1.0]) @ np.eye(4)).reshape(3, -1)
    world = volume.affine[:3, :3] @ corners + volume.affine[:3, 3:4]
    low, high = affine[:3, 3] - 0.5, affine[:3, 3] + np.asarray(shape) - 0.5
    assert (world.min(axis=1) >= low - 1e-6).all() and (world.max(axis=1) <= high + 1e-6).all()
    mask = np.zeros(shape, bool)
    mask[10:15, 5:9, 20:22] = True
    (crop_shape, crop_affine), box = crop_grid((shape, affine), mask, margin_mm=2.0)
    assert box == (slice(8, 17), slice(3, 11), slice(18, 24))
    assert crop_shape == (9, 8, 6)
    np.testing.assert_allclose(crop_affine[:3, 3], affine[:3, 3] + (8, 3, 18))


def test_resample_identity_on_the_same_grid_returns_the_voxels() -> None:
    rng = np.random.default_rng(0)
    affine = oblique_affine((0.9, 0.9, 5.5), (10, 20, -5), (9, 8, 7))
    volume = Volume(rng.random((9, 8, 7)).astype(np.float32), affine)
    np.testing.assert_allclose(resample(volume, ((9, 8, 7), affine)), volume.array, atol=1e-5)


def test_rigid_transform_round_trips_through_itk_and_json() -> None:
    centre = np.array([5.0, -12.0, 30.0])
    matrix = rigid_matrix((10.0, -4.0, 7.0), (3.0, -8.0, 12.0), centre)
    transform = RigidTransform(matrix, centre, similarity=0.7, iterations=12)
    itk = transform.to_itk()
    point = np.array([10.0, 20.0, -30.0])  # RAS
    moved = np.asarray(itk.TransformPoint((-point[0], -point[1], point[2])))
    expected = matrix[:3, :3] @ point + matrix[:3, 3]
    np.testing.assert_allclose(moved, (-expected[0], -expected[1], expected[2]), atol=1e-9)
    back = RigidTransform.from_itk(sitk.Euler3DTransform(itk))
    np.testing.assert_allclose(back.matrix, matrix, atol=1e-9)
    again = RigidTransform.from_json(transform.to_json())
    np.testing.assert_allclose(again.matrix, matrix, atol=1e-7)
    assert transform.translation_mm == pytest.approx(np.linalg.norm((3.0, -8.0, 12.0)))
    assert RigidTransform(
        rigid_matrix((0, 0, 25.0), (0, 0, 0), centre), centre
    ).rotation_degrees == pytest.approx(25.0)


def test_a_transform_file_that_is_not_a_rotation_is_refused() -> None:
    data = RigidTransform.identity().to_json()
    data["matrix_ras"][0][0] = 2.0
    with pytest.raises(ValueError, match="not a rotation"):
        RigidTransform.from_json(data)
