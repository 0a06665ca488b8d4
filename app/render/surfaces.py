"""Label map -> one smoothed surface mesh per label, in world (RAS+ mm) coordinates.

VTK's discrete flying edges on the labels' bounding box (padded by one voxel), then windowed-sinc
smoothing and normals. Pure computation: run it in a worker thread (``run_surfaces`` is a job);
the meshes become actors on the GUI thread only (``app.render.scene3d``).
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass

import numpy as np
import pyvista as pv
from vtkmodules.util.numpy_support import numpy_to_vtk
from vtkmodules.vtkCommonDataModel import vtkImageData
from vtkmodules.vtkFiltersCore import vtkPolyDataNormals, vtkWindowedSincPolyDataFilter
from vtkmodules.vtkFiltersGeneral import vtkDiscreteFlyingEdges3D

from segmentation_core.labels import ED, ET, NCR
from segmentation_core.types import CancelToken, Progress

SMOOTHING_ITERATIONS = 10
SMOOTHING_PASSBAND = 0.05


@dataclass(frozen=True, eq=False)
class SurfaceRequest:
    """A snapshot of the labels (not shared with the editable layer) and the grid's affine."""

    labels: np.ndarray
    affine: np.ndarray
    values: tuple[int, ...] = (NCR, ED, ET)
    smoothing_iterations: int = SMOOTHING_ITERATIONS


def label_bbox(labels: np.ndarray, pad: int = 1) -> tuple[slice, ...] | None:
    """The bounding box of the non-zero voxels grown by ``pad`` (clipped to the grid), or None."""
    slices = []
    for axis in range(3):
        other = tuple(a for a in range(3) if a != axis)
        present = np.flatnonzero(np.any(labels, axis=other))
        if present.size == 0:
            return None
        slices.append(
            slice(max(int(present[0]) - pad, 0), min(int(present[-1]) + 1 + pad, labels.shape[axis]))
        )
    return tuple(slices)


def _image_data(block: np.ndarray) -> vtkImageData:
    image = vtkImageData()
    image.SetDimensions(*block.shape)
    scalars = numpy_to_vtk(np.ravel(block, order="F"), deep=True)
    image.GetPointData().SetScalars(scalars)
    return image


def _surface(image: vtkImageData, value: int, iterations: int) -> pv.PolyData:
    contour = vtkDiscreteFlyingEdges3D()
    contour.SetInputData(image)
    contour.SetValue(0, value)
    contour.ComputeScalarsOff()
    contour.ComputeNormalsOff()
    contour.ComputeGradientsOff()
    output = contour
    if iterations > 0:
        smoother = vtkWindowedSincPolyDataFilter()
        smoother.SetInputConnection(contour.GetOutputPort())
        smoother.SetNumberOfIterations(iterations)
        smoother.SetPassBand(SMOOTHING_PASSBAND)
        smoother.NonManifoldSmoothingOn()
        smoother.NormalizeCoordinatesOn()
        smoother.BoundarySmoothingOff()
        output = smoother
    normals = vtkPolyDataNormals()
    normals.SetInputConnection(output.GetOutputPort())
    normals.SplittingOff()
    normals.ConsistencyOff()  # flying edges already orients the triangles consistently
    normals.Update()
    return pv.wrap(normals.GetOutput())


def label_surfaces(request: SurfaceRequest, cancel: CancelToken | None = None) -> dict[int, pv.PolyData]:
    """One world-space mesh per label value present in ``request.labels`` (absent labels are left out)."""
    return _consume(run_surfaces(request, cancel or CancelToken()))


def _consume(job: Generator[Progress, None, dict[int, pv.PolyData]]) -> dict[int, pv.PolyData]:
    while True:
        try:
            next(job)
        except StopIteration as stop:
            return stop.value


def run_surfaces(
    request: SurfaceRequest, cancel: CancelToken
) -> Generator[Progress, None, dict[int, pv.PolyData]]:
    """The surface job: yields Progress per label, returns label -> mesh (world coordinates)."""
    labels = np.asarray(request.labels)
    bbox = label_bbox(labels)
    meshes: dict[int, pv.PolyData] = {}
    if bbox is None:
        return meshes
    block = np.ascontiguousarray(labels[bbox], dtype=np.uint8)
    present = [v for v in request.values if (block == v).any()]
    image = _image_data(block)
    offset = np.array([s.start for s in bbox], dtype=float)
    affine = np.asarray(request.affine, dtype=float)
    for done, value in enumerate(present):
        cancel.raise_if_cancelled()
        yield Progress(done, len(present), f"surface of label {value}")
        mesh = _surface(image, value, request.smoothing_iterations)
        if mesh.n_points == 0:
            continue
        mesh.points = (np.asarray(mesh.points) + offset) @ affine[:3, :3].T + affine[:3, 3]
        normals = mesh.point_data.get("Normals")
        if normals is not None:  # directions follow the linear part only
            turned = np.asarray(normals) @ affine[:3, :3].T
            mesh.point_data["Normals"] = turned / np.linalg.norm(turned, axis=1, keepdims=True).clip(1e-12)
        meshes[value] = mesh
    return meshes
