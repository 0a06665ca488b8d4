"""Synthetic cases on disk for tests: BraTS-named folders, MSD 4-D files, explicit affines.

Other test modules may import these helpers (``from tests.core.io_fixtures import write_brats_case``).
"""

from __future__ import annotations

import copy
from pathlib import Path

import nibabel as nib
import numpy as np

from segmentation_core.io.assemble import assemble_case
from segmentation_core.io.nifti import RawImage
from segmentation_core.labels import convert
from segmentation_core.types import SEQUENCES, Case

#: BraTS files as distributed: LPS (diag(-1, -1, 1)), origin at the far corner.
LPS_AFFINE = np.array([[-1.0, 0, 0, 31], [0, -1.0, 0, 31], [0, 0, 1.0, 0], [0, 0, 0, 1]])
RAS_AFFINE = np.array([[1.0, 0, 0, -16], [0, 1.0, 0, -16], [0, 0, 1.0, -16], [0, 0, 0, 1]])
#: Anisotropic (0.9 x 1.2 x 3 mm) with the axes permuted (array axes are S, R, P).
ANISOTROPIC_AFFINE = np.array([[0, 1.2, 0, -20], [0, 0, -3.0, 40], [0.9, 0, 0, -10], [0, 0, 0, 1]])
NAMING_TAGS = {
    "brats2018": ("_", {"t1": "t1", "t1ce": "t1ce", "t2": "t2", "flair": "flair", "seg": "seg"}),
    "brats2023": ("-", {"t1": "t1n", "t1ce": "t1c", "t2": "t2w", "flair": "t2f", "seg": "seg"}),
}


def oblique_affine(
    degrees: float = 20.0, spacing: tuple[float, float, float] = (1.0, 1.5, 2.0)
) -> np.ndarray:
    """A rotated (about two axes), anisotropic, non-axis-aligned affine."""
    a, b = np.deg2rad(degrees), np.deg2rad(degrees / 2)
    rz = np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, 1]])
    rx = np.array([[1, 0, 0], [0, np.cos(b), -np.sin(b)], [0, np.sin(b), np.cos(b)]])
    affine = np.eye(4)
    affine[:3, :3] = rz @ rx @ np.diag(spacing) @ np.diag([-1.0, 1.0, 1.0])
    affine[:3, 3] = (5.0, -12.0, 7.5)
    return affine


def synthetic_images(shape: tuple[int, int, int] = (32, 32, 32), seed: int = 0) -> dict[str, np.ndarray]:
    """Four distinct int16 sequences; every voxel differs so a wrong flip or permutation is visible."""
    rng = np.random.default_rng(seed)
    base = np.arange(int(np.prod(shape)), dtype=np.int32).reshape(shape) % 3000
    return {
        role: (base + 100 * i + rng.integers(0, 50, shape)).astype(np.int16)
        for i, role in enumerate(SEQUENCES)
    }


def synthetic_labels(shape: tuple[int, int, int] = (32, 32, 32)) -> np.ndarray:
    """An internal-scheme label map (uint8): nested off-centre blobs of ED, NCR and ET."""
    idx = np.indices(shape).astype(np.float64)
    centre = (
        np.array(shape, dtype=np.float64)[:, None, None, None]
        * np.array([0.4, 0.55, 0.6])[:, None, None, None]
    )
    r = np.sqrt(((idx - centre) ** 2).sum(axis=0))
    labels = np.zeros(shape, dtype=np.uint8)
    labels[r < min(shape) * 0.35] = 2
    labels[r < min(shape) * 0.22] = 3
    labels[r < min(shape) * 0.12] = 1
    labels[tuple(s // 8 for s in shape)] = 1  # a lone voxel off the blob: asymmetric on every axis
    return labels


def write_nifti(
    path: Path, array: np.ndarray, affine: np.ndarray, sform_code: int = 1, qform_code: int = 1
) -> Path:
    image = nib.Nifti1Image(array, affine)
    image.set_sform(affine, code=sform_code)
    image.set_qform(affine, code=qform_code)
    nib.save(image, path)
    return path


def case_file_name(case_id: str, role: str, naming: str = "brats2018", suffix: str = ".nii.gz") -> str:
    sep, tags = NAMING_TAGS[naming]
    return f"{case_id}{sep}{tags[role]}{suffix}"


def write_brats_case(
    folder: Path,
    shape: tuple[int, int, int] = (32, 32, 32),
    affine: np.ndarray | None = None,
    naming: str = "brats2018",
    *,
    case_id: str = "Case_001",
    with_seg: bool = True,
    scheme: str | None = None,
    suffix: str = ".nii.gz",
    seed: int = 0,
    sform_code: int = 1,
    qform_code: int = 1,
) -> Path:
    """Write a BraTS-named case (``synthetic_images`` / ``synthetic_labels``) into ``folder`` and return it.

    ``scheme`` is the label file scheme (default: "brats" for brats2018 naming, "brats2023" for brats2023).
    """
    folder.mkdir(parents=True, exist_ok=True)
    affine = LPS_AFFINE if affine is None else affine
    for role, array in synthetic_images(shape, seed).items():
        write_nifti(
            folder / case_file_name(case_id, role, naming, suffix), array, affine, sform_code, qform_code
        )
    if with_seg:
        file_scheme = scheme or ("brats2023" if naming == "brats2023" else "brats")
        seg = convert(synthetic_labels(shape), "internal", file_scheme)
        write_nifti(
            folder / case_file_name(case_id, "seg", naming, suffix), seg, affine, sform_code, qform_code
        )
    return folder


def write_msd_case(
    root: Path,
    shape: tuple[int, int, int] = (32, 32, 32),
    affine: np.ndarray | None = None,
    name: str = "BRATS_001.nii.gz",
    seed: int = 0,
    volumes: int = 4,
) -> Path:
    """Write an MSD Task01-style ``imagesTr/<name>`` (FLAIR, T1w, T1gd, T2w) and ``labelsTr/<name>``."""
    affine = RAS_AFFINE if affine is None else affine
    images = synthetic_images(shape, seed)
    order = ("flair", "t1", "t1ce", "t2")[:volumes] + ("t1",) * max(0, volumes - 4)
    (root / "imagesTr").mkdir(parents=True, exist_ok=True)
    (root / "labelsTr").mkdir(parents=True, exist_ok=True)
    stacked = np.stack([images[r].astype(np.float32) for r in order], axis=-1)
    write_nifti(root / "imagesTr" / name, stacked, affine)
    write_nifti(root / "labelsTr" / name, convert(synthetic_labels(shape), "internal", "msd"), affine)
    return root / "imagesTr" / name


def write_dicom_series(
    folder: Path,
    description: str,
    *,
    slices: int = 4,
    spacing: float = 2.0,
    skip: tuple[int, ...] = (),
    series_number: int = 1,
    extra: dict[str, object] | None = None,
    shuffle: bool = True,
) -> list[Path]:
    """A DICOM MR series made from pydicom's ``MR_small.dcm`` (64x64): slice k holds MR_small + 10 k.

    Slices lie ``spacing`` mm apart along the normal; indices in ``skip`` are left out (to make a gap).
    Files are named in a shuffled order so that sorting by name is wrong. Returns the files by slice index.
    """
    import pydicom
    from pydicom.data import get_testdata_file
    from pydicom.uid import generate_uid

    folder.mkdir(parents=True, exist_ok=True)
    template = pydicom.dcmread(get_testdata_file("MR_small.dcm"))
    base = template.pixel_array.copy()
    series_uid = generate_uid()
    origin = np.asarray(template.ImagePositionPatient, dtype=np.float64)
    names = np.random.default_rng(series_number).permutation(slices) if shuffle else np.arange(slices)
    paths = []
    for k in range(slices):
        if k in skip:
            continue
        ds = copy.deepcopy(template)
        ds.SeriesInstanceUID = series_uid
        ds.SeriesNumber = series_number
        ds.SeriesDescription = description
        ds.SOPInstanceUID = generate_uid()
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        ds.InstanceNumber = k + 1
        ds.ImagePositionPatient = [float(v) for v in origin + np.array([0.0, 0.0, spacing * k])]
        ds.SliceLocation = float(origin[2] + spacing * k)
        ds.PixelData = (base + 10 * k).astype(base.dtype).tobytes()
        for key, value in (extra or {}).items():
            setattr(ds, key, value)
        path = folder / f"s{series_number}_{int(names[k]):03d}.dcm"
        ds.save_as(path, enforce_file_format=True)
        paths.append(path)
    return paths


def write_dicom_case(folder: Path, slices: int = 4) -> dict[str, list[Path]]:
    """Four identifiable MR series (T1, T1 post-Gd, T2, FLAIR) in one folder; returns role -> files."""
    descriptions = {"t1": "AX T1 SE", "t1ce": "AX T1 +C", "t2": "AX T2 FSE", "flair": "AX T2 FLAIR"}
    return {
        role: write_dicom_series(folder, text, slices=slices, series_number=i + 1)
        for i, (role, text) in enumerate(descriptions.items())
    }


def make_case(
    shape: tuple[int, int, int] = (32, 32, 32),
    affine: np.ndarray | None = None,
    *,
    with_labels: bool = True,
    case_id: str = "Synthetic_001",
    seed: int = 0,
) -> Case:
    """An in-memory Case (no files) built exactly as ``load_case`` builds one from disk."""
    affine = LPS_AFFINE if affine is None else affine
    images = {
        role: RawImage(array, affine, Path(f"{case_id}_{role}.nii.gz"))
        for role, array in synthetic_images(shape, seed).items()
    }
    seg = None
    if with_labels:
        seg = RawImage(
            convert(synthetic_labels(shape), "internal", "brats"), affine, Path(f"{case_id}_seg.nii.gz")
        )
    return assemble_case(images, seg, case_id=case_id, scheme="brats", hint=None, files={}, fmt="nifti")
