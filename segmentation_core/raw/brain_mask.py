"""Step 3, brain extraction with deepbet (MIT; a PyTorch network whose weights ship in its wheel).

deepbet works on T1-weighted images; it runs here on the T1c (or T1) resampled to 1 mm in canonical
orientation, which is the resolution it was trained at. Its mask (largest component, voids filled) is
filled slice by slice as well, so a tumour's necrotic core that reaches the brain's surface stays inside.
Where the reference sequence is already skull-stripped (zero outside the brain), the mask keeps to its
brain: every channel then shares the one background the model was trained with (``within_signal``).
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


def within_signal(mask: np.ndarray, grid_affine: np.ndarray, reference: Volume) -> np.ndarray:
    """``mask`` (on the grid ``grid_affine``) limited to where ``reference`` holds signal (non-zero), holes filled.

    A raw scan is non-zero all over the head, so this changes nothing there. An already skull-stripped
    reference is zero outside its brain: deepbet's mask reaches a millimetre or two past that edge, and
    thick-slice sequences interpolated onto the model grid would show a dim rim there that no training
    case has (on a BraTS case moved onto 5 mm slices this rim costs the AI 0.026 of WT Dice).
    """
    from segmentation_core.raw.resampling import resample

    support = Volume((np.asarray(reference.array) != 0).astype(np.float32), reference.affine)
    signal = resample(support, (mask.shape, grid_affine)) >= 0.5
    if not (mask & ~signal).any():
        return mask
    return ndimage.binary_fill_holes(mask & signal)


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
