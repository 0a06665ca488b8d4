"""Small synthetic studies for the raw-study tests: a head-like phantom on oblique, anisotropic grids."""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np

from segmentation_core.raw.study import RawStudy
from segmentation_core.raw.transforms import rigid_matrix
from segmentation_core.types import SEQUENCES, Volume


def oblique_affine(
    spacing: tuple[float, float, float],
    angles: tuple[float, float, float],
    shape: tuple[int, int, int],
    centre: tuple[float, float, float] = (0.0, 0.0, 0.0),
) -> np.ndarray:
    """An affine with ``spacing`` along axes rotated by ``angles`` (degrees), its grid centred on ``centre``."""
    rotation = rigid_matrix(angles, (0, 0, 0), np.zeros(3))[:3, :3]
    affine = np.eye(4)
    affine[:3, :3] = rotation * np.asarray(spacing)
    middle = (np.asarray(shape) - 1) / 2.0
    affine[:3, 3] = np.asarray(centre) - affine[:3, :3] @ middle
    return affine


def phantom(points: np.ndarray, contrast: str) -> np.ndarray:
    """Intensities of a head phantom at world points (3, N) mm: scalp, skull gap, brain, ventricles, lesion."""
    x, y, z = points
    head = (x / 84) ** 2 + (y / 100) ** 2 + (z / 74) ** 2
    brain = (x / 66) ** 2 + (y / 80) ** 2 + (z / 56) ** 2
    ventricle = ((x - 10) / 12) ** 2 + ((y - 5) / 25) ** 2 + (z / 14) ** 2
    lesion = ((x + 30) / 15) ** 2 + ((y + 25) / 12) ** 2 + ((z - 15) / 12) ** 2
    values = {
        "t1": (60, 100, 30, 50),
        "t1ce": (60, 100, 30, 160),
        "t2": (80, 60, 150, 130),
        "flair": (50, 80, 20, 140),
    }[contrast]
    out = np.where(head <= 1, values[0], 0.0)
    out = np.where(brain <= 1, values[1] + 8 * np.sin(x / 9) * np.cos(y / 11), out)
    out = np.where(ventricle <= 1, values[2], out)
    return np.where(lesion <= 1, values[3], out).astype(np.float32)


def sample_phantom(
    shape: tuple[int, int, int], affine: np.ndarray, contrast: str, world_to_phantom: np.ndarray | None = None
) -> np.ndarray:
    """The phantom sampled at the voxel centres of a grid (optionally moved by ``world_to_phantom``)."""
    index = np.indices(shape, dtype=np.float64).reshape(3, -1)
    world = affine[:3, :3] @ index + affine[:3, 3:4]
    if world_to_phantom is not None:
        world = world_to_phantom[:3, :3] @ world + world_to_phantom[:3, 3:4]
    return phantom(world, contrast).reshape(shape, order="C")


def phantom_study(motions: dict[str, np.ndarray] | None = None, slice_mm: float = 5.0) -> RawStudy:
    """T1c on a 1.5 x 1.5 x ``slice_mm`` mm oblique grid; the others on other tilts, moved by ``motions``.

    ``motions[name]`` is the true reference-world -> sequence-world transform of that sequence.
    """
    motions = motions or {}
    images = {}
    tilts = {"t1ce": (8, -5, 3), "t1": (8, -5, 3), "t2": (-6, 4, 10), "flair": (3, 9, -7)}
    for name in SEQUENCES:
        shape = (120, 136, int(round(150 / slice_mm)))
        affine = oblique_affine((1.5, 1.5, slice_mm), tilts[name], shape)
        # a sequence moved by M shows at its world point p what the reference shows at inv(M) p
        motion = np.linalg.inv(motions[name]) if name in motions else None
        images[name] = Volume(sample_phantom(shape, affine, name, motion), affine)
    return RawStudy(images, "t1ce", "phantom")


def write_study(study: RawStudy, folder: Path, names: dict[str, str] | None = None) -> Path:
    """Save each sequence as NIfTI under ``names[sequence]`` (default ``<sequence>.nii.gz``)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, volume in study.images.items():
        file = (names or {}).get(name, f"{name}.nii.gz")
        nib.save(nib.Nifti1Image(volume.array, volume.affine), folder / file)
    return folder


def world_points_mask(shape: tuple[int, int, int], affine: np.ndarray) -> np.ndarray:
    """The phantom's brain ellipsoid (semi-axes 66, 80, 56 mm about the origin) on a grid."""
    index = np.indices(shape, dtype=np.float64).reshape(3, -1)
    x, y, z = affine[:3, :3] @ index + affine[:3, 3:4]
    return ((x / 66) ** 2 + (y / 80) ** 2 + (z / 56) ** 2 <= 1).reshape(shape)
