"""Core value types: a volume always carries its geometry, a case groups four sequences on one grid."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

#: Canonical sequence names, in the order the bundled models expect them.
SEQUENCES: tuple[str, ...] = ("t1", "t1ce", "t2", "flair")


@dataclass(frozen=True, eq=False)
class Volume:
    """A 3-D voxel array together with its 4x4 voxel-to-world (RAS+ mm, NIfTI convention) affine."""

    array: np.ndarray
    affine: np.ndarray
    source: Path | None = None

    def __post_init__(self) -> None:
        if self.array.ndim != 3:
            raise ValueError(f"Volume must be 3-D, got shape {self.array.shape}")
        affine = np.asarray(self.affine, dtype=np.float64)
        if affine.shape != (4, 4):
            raise ValueError(f"affine must be 4x4, got {affine.shape}")
        object.__setattr__(self, "affine", affine)

    @property
    def shape(self) -> tuple[int, int, int]:
        return tuple(int(s) for s in self.array.shape)  # type: ignore[return-value]

    @property
    def spacing(self) -> tuple[float, float, float]:
        """Voxel size in mm along each array axis (column norms of the affine)."""
        return tuple(float(s) for s in np.linalg.norm(self.affine[:3, :3], axis=0))  # type: ignore[return-value]

    @property
    def orientation(self) -> str:
        """Axis codes such as ``"LPS"`` or ``"RAS"`` (the direction each array axis increases to)."""
        from nibabel.orientations import aff2axcodes  # imported on use: nibabel is slow to import

        return "".join(aff2axcodes(self.affine))

    def same_grid(self, other: Volume, atol: float = 1e-4) -> bool:
        """True when both volumes have the same shape and (almost) the same affine."""
        return self.shape == other.shape and np.allclose(self.affine, other.affine, atol=atol)

    def with_array(self, array: np.ndarray) -> Volume:
        """A volume on the same grid holding another array."""
        return Volume(array, self.affine, self.source)


@dataclass(frozen=True)
class Progress:
    """Progress of a long operation: ``done`` of ``total`` steps, with a human-readable message."""

    done: int
    total: int
    message: str = ""

    @property
    def fraction(self) -> float:
        return 1.0 if self.total <= 0 else min(1.0, self.done / self.total)


class CancelledError(Exception):
    """Raised inside long work when its CancelToken was cancelled."""


class CancelToken:
    """Thread-safe flag that long-running work checks between steps."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        if self._event.is_set():
            raise CancelledError("cancelled by the user")


@dataclass(frozen=True, eq=False)
class LabelMap:
    """An integer label volume with the scheme its values follow (see ``segmentation_core.labels``)."""

    volume: Volume
    scheme: str

    @property
    def array(self) -> np.ndarray:
        return self.volume.array


@dataclass(eq=False)
class Case:
    """The four MRI sequences of one patient on one grid, optionally with a label map.

    ``reference`` names the sequence whose grid all others share. ``warnings`` lists what a
    user must see (e.g. a sequence that was resampled).
    """

    channels: dict[str, Volume]
    reference: str = "t1"
    labels: LabelMap | None = None
    case_id: str = ""
    warnings: list[str] = field(default_factory=list)
    source_affine: np.ndarray | None = None
    source_shape: tuple[int, int, int] | None = None
    #: Files each role ("t1"... and "seg") was read from; a DICOM series lists its slices in order.
    source_files: dict[str, tuple[Path, ...]] = field(default_factory=dict)
    #: How the case was stored: "nifti", "msd", "sitk" (NRRD/MHA) or "dicom".
    source_format: str = ""

    @property
    def grid(self) -> Volume:
        return self.channels[self.reference]

    @property
    def shape(self) -> tuple[int, int, int]:
        return self.grid.shape

    @property
    def affine(self) -> np.ndarray:
        return self.grid.affine

    @property
    def spacing(self) -> tuple[float, float, float]:
        return self.grid.spacing


#: Quantisation of stored probabilities: uint8 value ``q`` stands for probability ``q / 255``.
PROBABILITY_SCALE = 255


def _to_uint8(values: np.ndarray, scale: float) -> np.ndarray:
    """``round(values * scale)`` clipped to 0..255, as uint8 (one float32 temporary)."""
    scaled = np.multiply(values, np.float32(scale), dtype=np.float32)
    np.clip(scaled, 0.0, 255.0, out=scaled)
    scaled += np.float32(0.5)
    return scaled.astype(np.uint8)


@dataclass(frozen=True, eq=False)
class RegionProbabilities:
    """The model's WT/TC/ET probabilities inside the brain box, compact (uint8, ``q / 255``).

    ``box`` gives (start, stop) per axis of the case grid; outside it the model saw no brain and
    every probability is 0. ``spread`` (same layout) is the standard deviation of the probabilities
    over the test-time-augmentation flips, scaled so 255 means 0.5 (the most two flips can disagree);
    None when the prediction ran without TTA.
    """

    box: tuple[tuple[int, int], tuple[int, int], tuple[int, int]]
    case_shape: tuple[int, int, int]
    probabilities: np.ndarray
    spread: np.ndarray | None = None

    def __post_init__(self) -> None:
        size = tuple(stop - start for start, stop in self.box)
        for name, array in (("probabilities", self.probabilities), ("spread", self.spread)):
            if array is None:
                continue
            if array.dtype != np.uint8 or array.shape != (3, *size):
                raise ValueError(
                    f"{name} must be uint8 of shape {(3, *size)}, got {array.dtype} {array.shape}"
                )
        if any(start < 0 or stop > n or start >= stop for (start, stop), n in zip(self.box, self.case_shape)):
            raise ValueError(f"box {self.box} does not fit the grid {self.case_shape}")

    @classmethod
    def quantise(
        cls,
        probabilities: np.ndarray,
        box: tuple[slice, slice, slice],
        case_shape: tuple[int, int, int],
        spread: np.ndarray | None = None,
    ) -> RegionProbabilities:
        """From float (3, *box size) probabilities (and TTA standard deviations) on the box's voxels."""
        quantised = _to_uint8(probabilities, PROBABILITY_SCALE)
        if spread is not None:
            spread = _to_uint8(spread, 2.0 * PROBABILITY_SCALE)
        bounds = tuple((int(s.start), int(s.stop)) for s in box)
        return cls(bounds, tuple(int(n) for n in case_shape), quantised, spread)  # type: ignore[arg-type]

    @property
    def slices(self) -> tuple[slice, slice, slice]:
        """The box as array slices of the case grid."""
        return tuple(slice(start, stop) for start, stop in self.box)  # type: ignore[return-value]

    @property
    def nbytes(self) -> int:
        return int(self.probabilities.nbytes + (0 if self.spread is None else self.spread.nbytes))

    def full(self) -> np.ndarray:
        """float32 (3, *case_shape) probabilities on the whole grid (0 outside the box)."""
        out = np.zeros((3, *self.case_shape), np.float32)
        out[(slice(None), *self.slices)] = self.probabilities / np.float32(PROBABILITY_SCALE)
        return out


@dataclass(frozen=True)
class CleanUp:
    """What the clean-up removed: whole tumour islands (26-connected) and their volume in cm^3."""

    islands_removed: int = 0
    removed_cm3: float = 0.0

    def describe(self) -> str:
        """One phrase for a status line ('' when nothing was removed)."""
        if not self.islands_removed:
            return ""
        plural = "s" if self.islands_removed > 1 else ""
        return f"clean-up removed {self.islands_removed} island{plural} ({self.removed_cm3:.1f} cm³)"

    def to_json(self) -> dict[str, float]:
        return {"islands_removed": self.islands_removed, "removed_cm3": round(self.removed_cm3, 3)}


@dataclass(frozen=True, eq=False)
class Prediction:
    """A segmentation on the case grid.

    ``labels``: uint8 internal labels (0 bg, 1 NCR, 2 ED, 3 ET). ``probabilities``: float16
    (3, X, Y, Z) WT/TC/ET probabilities when asked for. ``device`` is where the network ran and
    ``fallback`` says which out-of-memory fallback was needed (None when none was). ``regions``: the
    same probabilities, always kept in compact form inside the brain box (for the confidence map).
    ``cleanup``: what the post-processing removed.
    """

    labels: np.ndarray
    probabilities: np.ndarray | None
    device: str
    fallback: str | None
    seconds: float
    model_version: str
    regions: RegionProbabilities | None = None
    tta: bool = False
    cleanup: CleanUp | None = None
