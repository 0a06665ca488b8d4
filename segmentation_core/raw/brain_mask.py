"""Step 3, brain extraction with deepbet (MIT; a PyTorch network whose weights ship in its wheel).

deepbet works on T1-weighted images; it runs here on the T1c (or T1) resampled to 1 mm in canonical
orientation, which is the resolution it was trained at. Its mask (largest component, voids filled) is
filled slice by slice as well, so a tumour's necrotic core that reaches the brain's surface stays inside.
"""

from __future__ import annotations

import functools
import logging
import warnings

import numpy as np
from scipy import ndimage

from segmentation_core.raw.errors import RawStudyError
from segmentation_core.types import Volume

log = logging.getLogger(__name__)
STEP = "brain extraction"
#: A brain (with a tumour) of an adult: anything outside this is a failed extraction.
MIN_BRAIN_CM3 = 800.0
MAX_BRAIN_CM3 = 2000.0


@functools.lru_cache(maxsize=1)
def _extractor():  # noqa: ANN202 (deepbet's BrainExtraction; torch is imported on use)
    from deepbet import BrainExtraction

    with warnings.catch_warnings():  # deepbet loads TorchScript files, which torch now calls deprecated
        warnings.filterwarnings(
            "ignore", message=".*torch.jit.load.* is deprecated", category=DeprecationWarning
        )
        return BrainExtraction(no_gpu=True)


def extract_brain(volume: Volume, sequence: str) -> np.ndarray:
    """Boolean brain mask of a T1-weighted ``volume`` (canonical RAS grid, ~1 mm), holes filled.

    Raises RawStudyError when the mask is empty or its volume is outside 800-2000 cm³.
    """
    import nibabel as nib

    image = nib.Nifti1Image(np.asarray(volume.array, dtype=np.float32), volume.affine)
    try:
        _, mask_image, _ = _extractor().run(image)
    except (AssertionError, RuntimeError, ValueError, IndexError) as exc:
        raise RawStudyError(
            STEP,
            sequence,
            f"deepbet failed ({exc or type(exc).__name__})",
            "check that the image is a T1-weighted head MRI",
        ) from exc
    mask = np.asarray(mask_image.dataobj) > 0
    mask = ndimage.binary_fill_holes(mask)
    for k in range(mask.shape[2]):
        mask[:, :, k] = ndimage.binary_fill_holes(mask[:, :, k])
    check_mask(mask, volume, sequence)
    return mask


def mask_volume_cm3(mask: np.ndarray, affine: np.ndarray) -> float:
    return float(np.count_nonzero(mask) * abs(np.linalg.det(affine[:3, :3])) / 1000.0)


def check_mask(mask: np.ndarray, volume: Volume, sequence: str) -> None:
    """Raise RawStudyError for an empty mask or one whose volume no adult brain has."""
    cm3 = mask_volume_cm3(mask, volume.affine)
    remedy = "check that the image is a T1-weighted MRI of the whole head"
    if cm3 == 0:
        raise RawStudyError(STEP, sequence, "the brain mask is empty", remedy)
    if not MIN_BRAIN_CM3 <= cm3 <= MAX_BRAIN_CM3:
        raise RawStudyError(
            STEP,
            sequence,
            f"implausible brain mask: {cm3:.0f} cm³ (a brain is {MIN_BRAIN_CM3:.0f}-{MAX_BRAIN_CM3:.0f} cm³)",
            remedy,
        )
    log.info("%s %s: %.0f cm³", STEP, sequence, cm3)
