"""Medical Segmentation Decathlon Task01 (BrainTumour): one 4-D NIfTI per case."""

from __future__ import annotations

from pathlib import Path

from segmentation_core.io.errors import CaseLoadError
from segmentation_core.io.nifti import RawImage, read_nifti

#: Volume order inside an MSD Task01 4-D image (FLAIR, T1w, T1gd, T2w).
MSD_ORDER: tuple[str, ...] = ("flair", "t1", "t1ce", "t2")


def split_msd(path: Path) -> dict[str, RawImage]:
    """The four sequences of an MSD 4-D file as 3-D views (no copy)."""
    raw = read_nifti(path)
    shape = tuple(raw.array.shape)
    if len(shape) != 4 or shape[3] != len(MSD_ORDER):
        raise CaseLoadError(
            path,
            f"a single-file case must be an MSD 4-D image with 4 volumes (FLAIR, T1w, T1gd, T2w); "
            f"this one has shape {shape}",
            "give a case folder or the four sequence files instead",
        )
    return {
        role: RawImage(raw.array[..., i], raw.affine, path, raw.notes) for i, role in enumerate(MSD_ORDER)
    }


def msd_label_path(path: Path) -> Path | None:
    """The matching ``labelsTr/<name>`` of an image in ``imagesTr``, when it exists."""
    if path.parent.name not in ("imagesTr", "imagesTs"):
        return None
    candidate = path.parent.parent / "labelsTr" / path.name
    return candidate if candidate.is_file() else None
