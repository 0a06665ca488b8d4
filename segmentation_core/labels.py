"""Label schemes and tumour regions.

Internally every label map uses the *internal* scheme: 0 background, 1 NCR (necrotic / non-enhancing
core), 2 ED (peritumoural edema), 3 ET (enhancing tumour). Files on disk use one of the schemes below;
import and export always name the scheme, nothing is guessed silently.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

BACKGROUND, NCR, ED, ET = 0, 1, 2, 3
LABEL_NAMES: dict[int, str] = {NCR: "NCR", ED: "ED", ET: "ET"}

#: Regions as sets of internal labels; every BraTS metric uses these.
REGIONS: dict[str, frozenset[int]] = {
    "WT": frozenset({NCR, ED, ET}),
    "TC": frozenset({NCR, ET}),
    "ET": frozenset({ET}),
}
#: The region names in report order (WT, TC, ET): the one list every table, plot and metric uses.
REGION_NAMES: tuple[str, ...] = tuple(REGIONS)


@dataclass(frozen=True)
class LabelScheme:
    """How one file convention numbers the tumour sub-regions.

    ``to_internal`` maps a file value to the internal label (0 background).
    """

    name: str
    description: str
    to_internal: dict[int, int]

    @property
    def from_internal(self) -> dict[int, int]:
        return {v: k for k, v in self.to_internal.items()}

    @property
    def values(self) -> frozenset[int]:
        return frozenset(self.to_internal)


SCHEMES: dict[str, LabelScheme] = {
    s.name: s
    for s in (
        LabelScheme("brats", "BraTS 2017-2021: 1 NCR, 2 ED, 4 ET", {0: 0, 1: NCR, 2: ED, 4: ET}),
        LabelScheme("brats2023", "BraTS 2023+: 1 NCR, 2 ED, 3 ET", {0: 0, 1: NCR, 2: ED, 3: ET}),
        LabelScheme("msd", "MSD Task01: 1 ED, 2 NCR (non-enhancing), 3 ET", {0: 0, 1: ED, 2: NCR, 3: ET}),
        LabelScheme("internal", "this app: 1 NCR, 2 ED, 3 ET", {0: 0, 1: NCR, 2: ED, 3: ET}),
    )
}


class LabelValueError(ValueError):
    """A label map holds values its scheme does not define."""


def get_scheme(name: str) -> LabelScheme:
    try:
        return SCHEMES[name]
    except KeyError:
        raise ValueError(f"unknown label scheme {name!r}; choose one of {sorted(SCHEMES)}") from None


def convert(array: np.ndarray, source: str, target: str, *, present: np.ndarray | None = None) -> np.ndarray:
    """Renumber ``array`` from scheme ``source`` to scheme ``target`` (uint8 result, a new array).

    Raises LabelValueError listing any value ``source`` does not define. ``present`` may pass the
    already known ``present_values(array)``. Only values that change are rewritten (one masked
    assignment each), so identity conversions cost a single copy.
    """
    src, dst = get_scheme(source), get_scheme(target)
    array = np.asarray(array)
    present = present_values(array) if present is None else present
    unknown = sorted(
        (float(v) if v != int(v) else int(v)) for v in present if v != int(v) or int(v) not in src.values
    )
    if unknown:
        raise LabelValueError(
            f"label values {unknown} are not part of the {src.name!r} scheme ({src.description})"
        )
    out = array.astype(np.uint8, order="K")  # every value is now a known label <= 255
    changes = [
        (out == value, dst.from_internal[internal])
        for value, internal in src.to_internal.items()
        if value in present and dst.from_internal[internal] != value
    ]
    for mask, new in changes:
        out[mask] = new
    return out


def present_values(array: np.ndarray) -> np.ndarray:
    """Sorted distinct values of an array; fast for integer label maps with a small value range."""
    array = np.asarray(array)
    if array.size and np.issubdtype(array.dtype, np.integer):
        low, high = int(array.min()), int(array.max())
        if high - low <= 32:
            return np.array([v for v in range(low, high + 1) if (array == v).any()], dtype=array.dtype)
    return np.unique(array)


def region_mask(internal: np.ndarray, region: str) -> np.ndarray:
    """Boolean mask of a region (WT/TC/ET) or single label name (NCR/ED/ET) of an internal map."""
    if region in REGIONS:
        return np.isin(internal, list(REGIONS[region]))
    names = {v: k for k, v in LABEL_NAMES.items()}
    if region in names:
        return internal == names[region]
    raise ValueError(f"unknown region {region!r}")


def unknown_values(values: np.ndarray | list[int], scheme: str) -> list[int]:
    """Values (sorted) that ``scheme`` does not define."""
    defined = get_scheme(scheme).values
    return sorted(int(v) for v in np.unique(np.asarray(values)) if int(v) not in defined)


def detect_scheme(values: np.ndarray | list[int], hint: str | None = None) -> str:
    """The file scheme of a label map from the values it holds and a hint from its source.

    ``hint`` (e.g. ``"msd"`` for an MSD file, ``"brats2023"`` for BraTS 2023 naming) wins whenever the
    values fit it. Otherwise values within {0, 1, 2, 4} are ``"brats"`` and values within {0, 1, 2, 3}
    are ``"brats2023"`` (same meaning as the internal scheme; an MSD map needs the hint or an explicit
    scheme because its 1/2 mean ED/NCR). Raises LabelValueError listing values no scheme defines.
    """
    present = np.unique(np.asarray(values))
    if hint is not None and not unknown_values(present, hint):
        return get_scheme(hint).name
    for name in ("brats", "brats2023"):
        if not unknown_values(present, name):
            return name
    every = set().union(*(s.values for s in SCHEMES.values()))
    outside = sorted(int(v) for v in present if int(v) not in every)
    if outside:
        problem = f"label values {outside} are not part of any known scheme"
    else:
        problem = f"label values {sorted(int(v) for v in present)} mix schemes (both 3 and 4 present)"
    raise LabelValueError(
        f"{problem}; known schemes: " + "; ".join(f"{s.name} = {s.description}" for s in SCHEMES.values())
    )
