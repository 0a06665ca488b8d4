"""The 3D view's translucent brain surface: a mask from the images, a closed surface in world mm (no Qt)."""

from __future__ import annotations

import numpy as np
import pytest

from app.render.brain_surface import BrainSurfaceRequest, brain_mask, run_brain_surface
from segmentation_core.types import CancelledError, CancelToken

# oblique and anisotropic: 1 x 1.5 x 2 mm voxels, rotated 30 degrees about z, shifted
_ANGLE = np.deg2rad(30)
_ROTATION = np.array([[np.cos(_ANGLE), -np.sin(_ANGLE), 0], [np.sin(_ANGLE), np.cos(_ANGLE), 0], [0, 0, 1.0]])
AFFINE = np.eye(4)
AFFINE[:3, :3] = _ROTATION @ np.diag([1.0, 1.5, 2.0])
AFFINE[:3, 3] = (-20.0, 5.0, 12.0)
SHAPE = (48, 40, 32)
CENTRE_VOXEL = np.array([24.0, 20.0, 16.0])
RADIUS_MM = 20.0


def ball() -> np.ndarray:
    """A 20 mm ball (in world mm) around the grid's centre (without enclosed background voxels)."""
    from scipy import ndimage

    ijk = np.stack(np.meshgrid(*(np.arange(n) for n in SHAPE), indexing="ij"), axis=-1).astype(float)
    mm = (ijk - CENTRE_VOXEL) @ AFFINE[:3, :3].T
    return ndimage.binary_fill_holes(np.linalg.norm(mm, axis=-1) <= RADIUS_MM)


def world(voxel: np.ndarray) -> np.ndarray:
    return AFFINE[:3, :3] @ voxel + AFFINE[:3, 3]


def _surface(images: dict[str, np.ndarray]):
    job = run_brain_surface(BrainSurfaceRequest(images, AFFINE), CancelToken())
    while True:
        try:
            next(job)
        except StopIteration as stop:
            return stop.value


def test_skull_stripped_images_give_the_brain_itself() -> None:
    inside = ball()
    rng = np.random.default_rng(0)
    images = {
        name: np.where(inside, rng.uniform(50, 500, SHAPE), 0.0).astype(np.float32) for name in ("t1", "t2")
    }
    images["t1"][inside & (rng.uniform(size=SHAPE) < 0.01)] = 0.0  # a few dark voxels inside: holes filled
    np.testing.assert_array_equal(brain_mask(images), inside)


def test_images_with_a_background_are_thresholded_to_the_largest_part() -> None:
    inside = ball()
    rng = np.random.default_rng(1)
    image = np.where(inside, 400.0, 20.0) + rng.normal(0, 5, SHAPE)  # non-zero everywhere
    image[1:3, 1:3, 1:3] = 400.0  # a bright speck apart from the head
    mask = brain_mask({"t1": image.astype(np.float32)})
    np.testing.assert_array_equal(mask, inside)


def test_the_surface_is_the_ball_in_world_millimetres() -> None:
    mesh = _surface({"t1": np.where(ball(), 300.0, 0.0).astype(np.float32)})
    points = np.asarray(mesh.points)
    distances = np.linalg.norm(points - world(CENTRE_VOXEL), axis=1)
    # every 2nd voxel (up to 4 mm apart) and smoothing: within a few mm of the 20 mm sphere
    assert np.median(distances) == pytest.approx(RADIUS_MM, abs=2.0)
    assert distances.min() > RADIUS_MM - 5 and distances.max() < RADIUS_MM + 5
    assert points.mean(axis=0) == pytest.approx(world(CENTRE_VOXEL), abs=1.0)
    assert mesh.is_manifold  # closed: no holes for the translucent rendering to show


def test_empty_images_give_no_surface_and_cancel_stops() -> None:
    assert _surface({"t1": np.zeros(SHAPE, np.float32)}) is None
    cancel = CancelToken()
    job = run_brain_surface(BrainSurfaceRequest({"t1": np.ones(SHAPE, np.float32)}, AFFINE), cancel)
    next(job)
    cancel.cancel()
    with pytest.raises(CancelledError):
        next(job)
