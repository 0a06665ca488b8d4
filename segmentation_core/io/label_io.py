"""Label maps from files: scheme detection, value checks, conversion to internal labels."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from segmentation_core.io.errors import CaseLoadError
from segmentation_core.io.nifti import RawImage
from segmentation_core.io.orientation import canonical_view
from segmentation_core.io.readers import read_image
from segmentation_core.io.validation import check_3d
from segmentation_core.labels import LabelValueError, convert, detect_scheme, present_values
from segmentation_core.types import LabelMap, Volume


def integer_labels(array: np.ndarray, path: Path) -> np.ndarray:
    """The label array as an integer array; raises when it holds fractions, NaN or negative values."""
    if np.issubdtype(array.dtype, np.floating):
        if not np.isfinite(array).all() or not np.array_equal(array, np.round(array)):
            raise CaseLoadError(
                path,
                "the label map holds non-integer, NaN or infinite values",
                "a label map must hold whole numbers only (check that you chose the segmentation, not an image)",
            )
        array = array.astype(np.int32)
    elif not np.issubdtype(array.dtype, np.integer):
        raise CaseLoadError(
            path, f"label values of type {array.dtype} are not integers", "save labels as integers"
        )
    return array


def labels_to_internal(
    raw: RawImage, scheme: str | None, hint: str | None = None
) -> tuple[np.ndarray, np.ndarray, str, list[str]]:
    """(internal uint8 array in canonical orientation, its affine, file scheme name, warnings).

    Reorientation and renumbering share one copy of the voxels.
    """
    array = integer_labels(check_3d(raw.array, raw.path, "label map"), raw.path)
    values = present_values(array)
    warnings: list[str] = []
    view, affine = canonical_view(array, raw.affine)
    try:
        name = scheme if scheme is not None else detect_scheme(values, hint)
        internal = np.asfortranarray(convert(view, name, "internal", present=values))
    except (LabelValueError, ValueError) as exc:
        raise CaseLoadError(
            raw.path, str(exc), "pass the right label scheme explicitly, or fix the label values"
        ) from exc
    if scheme is None and hint is None and name == "brats2023":
        warnings.append(
            f"{raw.path.name}: label scheme read as BraTS 2023 (1 NCR, 2 ED, 3 ET) from its values "
            f"{[int(v) for v in values]}; pass scheme='msd' if it follows the MSD order (1 ED, 2 NCR, 3 ET)"
        )
    return internal, affine, name, warnings


def read_label_file(path: Path | str, *, scheme: str | None = None, hint: str | None = None) -> LabelMap:
    """A label file as a LabelMap in canonical orientation holding internal labels (0/1 NCR/2 ED/3 ET).

    ``scheme`` names the file's scheme; when None it is detected from the values (``hint`` breaks ties,
    e.g. ``"msd"``). ``LabelMap.scheme`` records the file's scheme. Unknown values are rejected, listed.
    """
    raw = read_image(Path(path))
    internal, affine, name, _ = labels_to_internal(raw, scheme, hint)
    return LabelMap(Volume(internal, affine, raw.path), name)
