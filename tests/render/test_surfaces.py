"""Label surfaces in world coordinates and the slice-plane corners of the 3D view (no Qt)."""

from __future__ import annotations

import numpy as np
import pytest

from app.render.scene3d import slice_plane
from app.render.surfaces import SurfaceRequest, label_bbox, label_surfaces, run_surfaces
from segmentation_core.labels import ED, ET, NCR
from segmentation_core.types import CancelledError, CancelToken

AFFINE = np.array([[-2.0, 0, 0, 10], [0, -1.0, 0, 20], [0, 0, 3.0, -5], [0, 0, 0, 1]])  # LPS, anisotropic


def cube_labels() -> np.ndarray:
    labels = np.zeros((12, 10, 8), np.uint8)
    labels[3:7, 2:6, 1:5] = ED
    labels[4:6, 3:5, 2:4] = NCR
    return labels


def test_bbox_is_padded_and_clipped() -> None:
    assert label_bbox(cube_labels()) == (slice(2, 8), slice(1, 7), slice(0, 6))
    assert label_bbox(np.zeros((4, 4, 4), np.uint8)) is None


def test_unsmoothed_surfaces_sit_halfway_between_voxel_centres_in_world_mm() -> None:
    meshes = label_surfaces(SurfaceRequest(cube_labels(), AFFINE, smoothing_iterations=0))
    assert sorted(meshes) == [NCR, ED]  # ET is absent: no mesh
    # ED occupies i 3..6, j 2..5, k 1..4 -> faces at i 2.5/6.5, j 1.5/5.5, k 0.5/4.5
    x = sorted((10 - 2 * 2.5, 10 - 2 * 6.5))
    y = sorted((20 - 1.5, 20 - 5.5))
    z = (-5 + 3 * 0.5, -5 + 3 * 4.5)
    assert meshes[ED].bounds == pytest.approx((*x, *y, *z))
    assert meshes[NCR].bounds == pytest.approx(
        (10 - 2 * 5.5, 10 - 2 * 3.5, 20 - 4.5, 20 - 2.5, -5 + 4.5, -5 + 10.5)
    )
    normals = meshes[ED].point_data["Normals"]
    assert np.allclose(np.linalg.norm(normals, axis=1), 1.0)


def test_smoothing_rounds_the_surface_without_moving_it() -> None:
    raw = label_surfaces(SurfaceRequest(cube_labels(), AFFINE, smoothing_iterations=0))[ED]
    smooth = label_surfaces(SurfaceRequest(cube_labels(), AFFINE))[ED]
    assert smooth.n_points == raw.n_points
    assert np.allclose(smooth.center, raw.center, atol=0.05)
    assert np.allclose(smooth.bounds, raw.bounds, atol=0.5)  # within a quarter voxel of the blocky box
    assert not np.allclose(smooth.points, raw.points, atol=0.01)


def test_job_reports_progress_per_label_and_can_be_cancelled() -> None:
    labels = cube_labels()
    labels[9, 8, 6] = ET
    job = run_surfaces(SurfaceRequest(labels, AFFINE), CancelToken())
    messages = [next(job).message for _ in range(3)]
    assert messages == ["surface of label 1", "surface of label 2", "surface of label 3"]
    token = CancelToken()
    job = run_surfaces(SurfaceRequest(labels, AFFINE), token)
    next(job)
    token.cancel()
    with pytest.raises(CancelledError):
        next(job)


def test_slice_plane_corners_are_the_outer_voxel_edges() -> None:
    corners = slice_plane(AFFINE, (12, 10, 8), axis=2, index=3)
    # k = 3 -> z = 4; i from -0.5 to 11.5 -> x 11 .. -13; j from -0.5 to 9.5 -> y 20.5 .. 10.5
    assert corners.tolist() == [[11.0, 20.5, 4.0], [-13.0, 20.5, 4.0], [-13.0, 10.5, 4.0], [11.0, 10.5, 4.0]]
