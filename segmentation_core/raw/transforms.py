"""Rigid transforms between sequences: a 4x4 RAS matrix (reference world -> moving world) and its ITK form.

SimpleITK/ITK transforms map points of the fixed (reference) image into the moving image, in LPS
physical coordinates. We keep the same direction of mapping but in RAS (NIfTI) world millimetres, so a
moving image is resampled onto any grid with affine ``A`` by sampling it at ``inv(A_moving) @ M @ A``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

_FLIP = np.diag([-1.0, -1.0, 1.0, 1.0])


@dataclass(frozen=True, eq=False)
class RigidTransform:
    """``matrix``: 4x4 RAS reference-world -> moving-world; ``centre``: RAS point the rotation is about.

    ``similarity`` is the registration's final Mattes mutual information (higher is better; 0 for an
    identity kept without registering); ``iterations`` how many optimiser steps it took.
    """

    matrix: np.ndarray
    centre: np.ndarray = field(default_factory=lambda: np.zeros(3))
    similarity: float = 0.0
    iterations: int = 0

    @classmethod
    def identity(cls, centre: np.ndarray | None = None) -> RigidTransform:
        return cls(np.eye(4), np.zeros(3) if centre is None else np.asarray(centre, dtype=np.float64))

    @property
    def rotation_degrees(self) -> float:
        """The rotation angle (degrees) of the transform, whatever its axis."""
        cos = (np.trace(self.matrix[:3, :3]) - 1.0) / 2.0
        return float(np.degrees(np.arccos(np.clip(cos, -1.0, 1.0))))

    @property
    def translation_mm(self) -> float:
        """How far (mm) the transform moves its rotation centre."""
        centre = np.append(self.centre, 1.0)
        return float(np.linalg.norm((self.matrix @ centre)[:3] - self.centre))

    def to_itk(self):  # noqa: ANN201 (SimpleITK is imported on use)
        """The same mapping as a SimpleITK Euler3DTransform in LPS (centre kept)."""
        import SimpleITK as sitk

        lps = _FLIP @ self.matrix @ _FLIP
        centre = (_FLIP[:3, :3] @ self.centre).tolist()
        transform = sitk.Euler3DTransform()
        transform.SetCenter(centre)
        transform.SetMatrix(lps[:3, :3].ravel().tolist(), 1e-4)
        # x_m = R (x - c) + c + t  =>  t = offset - c + R c
        offset = lps[:3, 3]
        transform.SetTranslation((offset - np.asarray(centre) + lps[:3, :3] @ centre).tolist())
        return transform

    @classmethod
    def from_itk(cls, transform, similarity: float = 0.0, iterations: int = 0) -> RigidTransform:  # noqa: ANN001
        """From a SimpleITK rigid (Euler3D/Versor/Affine-like) transform in LPS."""
        import SimpleITK as sitk

        if transform.GetName() == "CompositeTransform":
            transform = sitk.CompositeTransform(transform).GetBackTransform()
        affine = sitk.AffineTransform(3)
        affine.SetCenter(transform.GetFixedParameters()[:3])
        euler = sitk.Euler3DTransform(transform)
        affine.SetMatrix(euler.GetMatrix())
        affine.SetTranslation(euler.GetTranslation())
        matrix = np.asarray(affine.GetMatrix(), dtype=np.float64).reshape(3, 3)
        centre = np.asarray(affine.GetCenter(), dtype=np.float64)
        lps = np.eye(4)
        lps[:3, :3] = matrix
        lps[:3, 3] = np.asarray(affine.GetTranslation()) + centre - matrix @ centre
        return cls(_FLIP @ lps @ _FLIP, _FLIP[:3, :3] @ centre, float(similarity), int(iterations))

    def to_json(self) -> dict[str, Any]:
        return {
            "matrix_ras": np.round(self.matrix, 8).tolist(),
            "centre_ras": np.round(self.centre, 6).tolist(),
            "rotation_degrees": round(self.rotation_degrees, 4),
            "translation_mm": round(self.translation_mm, 4),
            "similarity": round(self.similarity, 6),
            "iterations": self.iterations,
            "convention": "maps reference (fixed) RAS world mm to the sequence's (moving) RAS world mm",
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RigidTransform:
        matrix = np.asarray(data["matrix_ras"], dtype=np.float64)
        centre = np.asarray(data["centre_ras"], dtype=np.float64)
        if matrix.shape != (4, 4) or centre.shape != (3,) or not np.isfinite(matrix).all():
            raise ValueError("not a 4x4 rigid transform")
        rotation = matrix[:3, :3]
        if not np.allclose(rotation @ rotation.T, np.eye(3), atol=1e-5) or np.linalg.det(rotation) <= 0:
            raise ValueError("the matrix is not a rotation")
        return cls(matrix, centre, float(data.get("similarity", 0.0)), int(data.get("iterations", 0)))


def rigid_matrix(
    angles_degrees: tuple[float, float, float], translation: tuple[float, float, float], centre: np.ndarray
) -> np.ndarray:
    """4x4 RAS matrix rotating by XYZ Euler ``angles_degrees`` about ``centre`` then translating."""
    ax, ay, az = np.radians(angles_degrees)
    rx = np.array([[1, 0, 0], [0, np.cos(ax), -np.sin(ax)], [0, np.sin(ax), np.cos(ax)]])
    ry = np.array([[np.cos(ay), 0, np.sin(ay)], [0, 1, 0], [-np.sin(ay), 0, np.cos(ay)]])
    rz = np.array([[np.cos(az), -np.sin(az), 0], [np.sin(az), np.cos(az), 0], [0, 0, 1]])
    rotation = rz @ ry @ rx
    matrix = np.eye(4)
    matrix[:3, :3] = rotation
    centre = np.asarray(centre, dtype=np.float64)
    matrix[:3, 3] = centre + np.asarray(translation, dtype=np.float64) - rotation @ centre
    return matrix
