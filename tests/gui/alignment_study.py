"""StudyAlignment objects for the "Check alignment" tests: a small synthetic study, and one built from
TCGA-FG-6692's reference files (the other sequences registered onto the T1c grid by another pipeline)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from app.state.alignment import StudyAlignment
from segmentation_core.types import SEQUENCES, Case, Volume

TCGA_STUDY = (
    Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "clinical" / "TCGA-FG-6692"
).resolve()
#: Anisotropic, oblique-free grid: 2 mm across (i), 1 mm down (j), 4 mm slices (k).
SPACING = (2.0, 1.0, 4.0)
SHAPE = (16, 24, 6)


def synthetic_study() -> tuple[Case, StudyAlignment]:
    """A 16x24x6 study: reference voxels hold ``10 * i + k``; each moving sequence ``s`` (T1 0, T2 1,
    FLAIR 2) holds ``100 + s`` before registration and ``200 + s`` after; the brain mask is the block
    [4:12, 6:18, :]; the FLAIR's transform is implausible."""
    affine = np.diag([*SPACING, 1.0])
    i = np.arange(SHAPE[0], dtype=np.float32)[:, None, None]
    k = np.arange(SHAPE[2], dtype=np.float32)[None, None, :]
    reference = np.ascontiguousarray(np.broadcast_to(10.0 * i + k, SHAPE), dtype=np.float32)
    channels = {name: Volume(reference.copy(), affine) for name in SEQUENCES}
    case = Case(channels, reference="t1ce", case_id="synthetic-raw")
    moving = [name for name in SEQUENCES if name != "t1ce"]
    mask = np.zeros(SHAPE, bool)
    mask[4:12, 6:18, :] = True
    alignment = StudyAlignment(
        reference="t1ce",
        header_only={name: np.full(SHAPE, 100.0 + s, np.float32) for s, name in enumerate(moving)},
        registered={name: np.full(SHAPE, 200.0 + s, np.float32) for s, name in enumerate(moving)},
        brain_mask=mask,
        transforms={
            "t1": {"rotation_degrees": 1.3, "translation_mm": 2.5, "similarity": 0.61},
            "t2": {"rotation_degrees": 4.0, "translation_mm": 7.75, "similarity": 0.48},
            "flair": {"rotation_degrees": 35.5, "translation_mm": 60.0, "similarity": 0.12},
        },
    )
    return case, alignment


def tcga_study() -> tuple[Case, StudyAlignment]:
    """TCGA-FG-6692 on its T1c grid (canonical orientation): header-only placement of the raw T1/T2/FLAIR,
    the reference registrations as "registered", and the HD-BET brain mask (no transform figures)."""
    import nibabel as nib

    from segmentation_core.io.orientation import to_canonical
    from segmentation_core.raw.resampling import resample

    def load(path: Path) -> Volume:
        image = nib.load(str(path))
        return Volume(np.asarray(image.dataobj, dtype=np.float32), image.affine)

    raw, ref = TCGA_STUDY / "raw", TCGA_STUDY / "reference"
    t1c = load(raw / "t1c.nii.gz")
    array, affine = to_canonical(t1c.array, t1c.affine, dtype=np.float32)
    grid = (array.shape, affine)
    others = {"t1": "t1", "t2": "t2", "flair": "flair"}
    header_only = {name: resample(load(raw / f"{file}.nii.gz"), grid) for name, file in others.items()}
    registered = {
        name: resample(load(ref / f"co__t1c__{file}.nii.gz"), grid) for name, file in others.items()
    }
    mask = resample(load(ref / "t1c_brain_mask_hdbet.nii.gz"), grid, order=0) > 0.5
    channels = {"t1ce": Volume(array, affine), **{name: Volume(registered[name], affine) for name in others}}
    case = Case({name: channels[name] for name in SEQUENCES}, reference="t1ce", case_id="TCGA-FG-6692")
    return case, StudyAlignment("t1ce", header_only, registered, mask)  # another tool's: no transforms
