"""Network input from a case: stack channels, crop to the brain, z-score, resample — and the way back.

Every step is recorded in :class:`Preprocessed` so that network output on the preprocessed grid can be
put back onto the exact case grid with :meth:`Preprocessed.restore` (resample back, then un-crop).
The same steps (margin, z-score over non-zero voxels, trilinear resampling to ``round(n * s / t)``
voxels) are used by training, so a model sees the same kind of input in both.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from segmentation_core.types import Case

#: Voxels kept around the brain's bounding box.
MARGIN = 2

Box = tuple[slice, slice, slice]


class PreprocessError(ValueError):
    """A case cannot be turned into network input (e.g. a sequence the model needs is missing)."""


@dataclass(frozen=True, eq=False)
class Preprocessed:
    """Network input ``image`` (C, x, y, z) float32 and how to map results back to the case grid.

    ``box`` is the crop in case-grid voxels; ``cropped_shape`` its size. When the model works at
    another spacing the image was resampled from ``cropped_shape`` to ``image.shape[1:]``.
    """

    image: np.ndarray
    case_shape: tuple[int, int, int]
    box: Box

    @property
    def cropped_shape(self) -> tuple[int, int, int]:
        return tuple(s.stop - s.start for s in self.box)

    @property
    def resampled(self) -> bool:
        return tuple(self.image.shape[1:]) != self.cropped_shape

    def to_crop(self, maps: np.ndarray | torch.Tensor) -> torch.Tensor:
        """(K, x, y, z) float maps on the network grid -> (K, *cropped_shape) on the case grid's crop.

        Resampling back is trilinear (use it for probabilities, then threshold).
        """
        tensor = torch.as_tensor(maps, dtype=torch.float32)
        if tuple(tensor.shape[1:]) != tuple(self.image.shape[1:]):
            raise ValueError(f"maps of shape {tuple(tensor.shape)} do not match the input {self.image.shape}")
        return resample(tensor, self.cropped_shape) if self.resampled else tensor

    def uncrop(self, array: np.ndarray, fill: float = 0) -> np.ndarray:
        """(..., *cropped_shape) -> (..., *case_shape), ``fill`` outside the crop."""
        out = np.full((*array.shape[:-3], *self.case_shape), fill, dtype=array.dtype)
        out[(..., *self.box)] = array
        return out

    def restore(self, maps: np.ndarray | torch.Tensor, fill: float = 0.0) -> np.ndarray:
        """(K, x, y, z) float maps on the network grid -> (K, X, Y, Z) float32 on the case grid."""
        return self.uncrop(self.to_crop(maps).cpu().numpy(), fill)

    def on_network_grid(self, maps: np.ndarray) -> np.ndarray:
        """(K, X, Y, Z) maps on the case grid -> (K, x, y, z) float32 on the network grid (crop, resample)."""
        if tuple(maps.shape[1:]) != tuple(self.case_shape):
            raise ValueError(f"maps of shape {tuple(maps.shape)} are not on the case grid {self.case_shape}")
        cropped = torch.as_tensor(np.asarray(maps[(slice(None), *self.box)], dtype=np.float32))
        return resample(cropped, self.image.shape[1:]).numpy()

    def with_inputs(self, maps: np.ndarray) -> Preprocessed:
        """This input with (K, X, Y, Z) case-grid maps (a coarse model's probabilities) as K more channels."""
        extra = self.on_network_grid(maps)
        return Preprocessed(np.concatenate([self.image, extra]), self.case_shape, self.box)


def channel_arrays(case: Case, channels: tuple[str, ...]) -> list[np.ndarray]:
    """The case's sequences in ``channels`` order; refuses missing ones and mismatched grids."""
    missing = [name for name in channels if name not in case.channels]
    if missing:
        name = case.case_id or "the case"
        raise PreprocessError(
            f"{name}: the model needs the sequences {list(channels)} but {missing} "
            f"{'is' if len(missing) == 1 else 'are'} missing (found {sorted(case.channels)}); "
            "load the case with every sequence — a missing sequence is never filled with zeros"
        )
    shapes = {name: case.channels[name].shape for name in channels}
    if len(set(shapes.values())) != 1:
        raise PreprocessError(f"{case.case_id or 'case'}: sequences are on different grids {shapes}")
    return [np.asarray(case.channels[name].array) for name in channels]


def brain_box(image: np.ndarray | Sequence[np.ndarray], margin: int = MARGIN) -> Box:
    """Bounding box of voxels non-zero in any channel of (C, X, Y, Z), grown by ``margin`` voxels.

    An all-zero image keeps its whole extent.
    """
    nonzero = image[0] != 0
    for channel in image[1:]:
        nonzero |= channel != 0
    box = []
    for axis in range(3):
        hits = np.flatnonzero(nonzero.any(axis=tuple(a for a in range(3) if a != axis)))
        if hits.size == 0:
            return tuple(slice(0, s) for s in nonzero.shape)  # type: ignore[return-value]
        box.append(slice(max(0, int(hits[0]) - margin), min(nonzero.shape[axis], int(hits[-1]) + 1 + margin)))
    return tuple(box)  # type: ignore[return-value]


def zscore_nonzero(image: np.ndarray) -> np.ndarray:
    """Per-channel z-score over the channel's non-zero voxels; zero (background) voxels stay 0."""
    out = np.zeros(image.shape, dtype=np.float32)
    for c, channel in enumerate(image):
        mask = channel != 0
        if mask.any():
            values = channel[mask].astype(np.float64)
            std = values.std()
            out[c][mask] = (values - values.mean()) / (std if std > 0 else 1.0)
    return out


def resampled_shape(
    shape: tuple[int, ...], spacing: tuple[float, ...], target: tuple[float, ...]
) -> tuple[int, int, int]:
    """Voxel counts covering the same extent at ``target`` spacing (at least one voxel)."""
    return tuple(max(1, int(round(n * s / t))) for n, s, t in zip(shape, spacing, target))  # type: ignore[return-value]


def resample(maps: torch.Tensor, shape: tuple[int, int, int]) -> torch.Tensor:
    """Trilinear resampling (half-voxel aligned) of (C, x, y, z) float maps to spatial ``shape``."""
    if tuple(maps.shape[1:]) == tuple(shape):
        return maps
    return F.interpolate(maps[None], size=tuple(shape), mode="trilinear", align_corners=False)[0]


def preprocess(
    case: Case,
    channels: tuple[str, ...],
    spacing: tuple[float, float, float] | None = None,
    margin: int = MARGIN,
) -> Preprocessed:
    """Crop ``case`` to the brain (+ ``margin``), z-score each channel, resample to ``spacing`` mm.

    ``spacing=None`` keeps the case's own grid. The case is expected in canonical orientation (as
    ``segmentation_core.io.load_case`` returns it).
    """
    arrays = channel_arrays(case, channels)
    box = brain_box(arrays, margin)
    cropped = zscore_nonzero(np.stack([array[box] for array in arrays]))
    if spacing is not None:
        size = resampled_shape(cropped.shape[1:], case.spacing, spacing)
        cropped = resample(torch.from_numpy(cropped), size).numpy()
    return Preprocessed(np.ascontiguousarray(cropped), case.shape, box)
