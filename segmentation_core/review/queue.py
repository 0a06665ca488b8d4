"""The review queue: low-confidence clusters, largest first, each marked reviewed by the radiologist.

Clusters are the 26-connected components of the low-confidence set (those of at least
``min_cluster_mm3``), cut into cubes of ``cell_mm`` so that one item is one place to look at (the
uncertain rim around a whole tumour is one component).
Edited voxels count as reviewed. The queue stores only its settings and the reviewed flags
(:meth:`ReviewQueue.to_dict`); the clusters themselves are recomputed from the kept probabilities.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from scipy import ndimage

from segmentation_core.review.confidence import DEFAULT_UNCERTAINTY, ConfidenceMap

Box = tuple[tuple[int, int], tuple[int, int], tuple[int, int]]
Voxel = tuple[int, int, int]
#: Edge of the cubes that split large low-confidence components (mm).
DEFAULT_CELL_MM = 20.0
#: Clusters smaller than this are left out of the queue (mm^3).
DEFAULT_MIN_CLUSTER_MM3 = 20.0
_CONNECT_26 = np.ones((3, 3, 3), bool)


@dataclass(frozen=True)
class Cluster:
    """One place to review: its voxel count, bounding box and the voxel the crosshair jumps to."""

    voxels: int
    volume_mm3: float
    box: Box
    target: Voxel
    reviewed: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "voxels": self.voxels,
            "volume_mm3": self.volume_mm3,
            "box": [list(b) for b in self.box],
            "target": list(self.target),
            "reviewed": self.reviewed,
        }


@dataclass(frozen=True)
class QueueSettings:
    uncertainty: float = DEFAULT_UNCERTAINTY
    cell_mm: float = DEFAULT_CELL_MM
    min_cluster_mm3: float = DEFAULT_MIN_CLUSTER_MM3


@dataclass
class ReviewQueue:
    """Low-confidence clusters ranked by size, with a current position and reviewed flags."""

    clusters: list[Cluster]
    settings: QueueSettings
    case_shape: tuple[int, int, int]
    #: Cluster number (0-based rank) of every low-confidence voxel in the queue, as flat grid indices.
    voxel_index: np.ndarray = field(repr=False)
    voxel_cluster: np.ndarray = field(repr=False)
    current: int = -1

    @classmethod
    def build(
        cls,
        confidence: ConfidenceMap,
        spacing: tuple[float, float, float],
        settings: QueueSettings | None = None,
    ) -> ReviewQueue:
        """The queue of a confidence map on a grid with voxel ``spacing`` (mm)."""
        settings = settings or QueueSettings()
        voxel_mm3 = float(np.prod(spacing))
        low = confidence.low_in_box(settings.uncertainty)
        crop = _bounding_box(low)
        if crop is None:
            return cls([], settings, confidence.case_shape, np.zeros(0, np.int64), np.zeros(0, np.int64))
        components, _ = ndimage.label(low[crop], _CONNECT_26)
        sizes = np.bincount(components.ravel())
        small = np.flatnonzero(sizes * voxel_mm3 < settings.min_cluster_mm3)
        if small.size:  # specks are left out; a kept component keeps every piece the cells cut it into
            components[np.isin(components, small[small > 0])] = 0
        local = np.nonzero(components)
        offset = np.array([start + s.start for (start, _), s in zip(confidence.box, crop)])
        coords = np.stack(local, axis=1) + offset
        cell = np.maximum(1, np.round(settings.cell_mm / np.asarray(spacing))).astype(np.int64)
        cells = coords // cell
        grid = cells.max(axis=0) + 1
        key = (components[local].astype(np.int64) * grid[0] + cells[:, 0]) * grid[1] + cells[:, 1]
        key = key * grid[2] + cells[:, 2]
        _, inverse, counts = np.unique(key, return_inverse=True, return_counts=True)
        order = np.argsort(-counts, kind="stable")
        rank = np.empty(len(counts), np.int64)
        rank[order] = np.arange(len(counts))
        voxel_cluster = rank[inverse.ravel()]
        clusters = _clusters(coords, voxel_cluster, len(counts), voxel_mm3)
        flat = np.ravel_multi_index(coords.T, confidence.case_shape)
        return cls(clusters, settings, confidence.case_shape, flat, voxel_cluster)

    # ------------------------------------------------------------------ navigation
    def __len__(self) -> int:
        return len(self.clusters)

    def next(self) -> Cluster | None:
        """Move to the next cluster (wrapping round); None when the queue is empty."""
        return self._go(1)

    def previous(self) -> Cluster | None:
        """Move to the previous cluster (wrapping round); None when the queue is empty."""
        return self._go(-1)

    def next_unreviewed(self) -> Cluster | None:
        """Move to the next cluster not marked reviewed; None when every cluster is."""
        for step in range(1, len(self.clusters) + 1):
            index = (self.current + step) % len(self.clusters)
            if not self.clusters[index].reviewed:
                self.current = index
                return self.clusters[index]
        return None

    def _go(self, step: int) -> Cluster | None:
        if not self.clusters:
            return None
        start = -1 if self.current < 0 and step > 0 else self.current
        self.current = (start + step) % len(self.clusters)
        return self.clusters[self.current]

    def set_reviewed(self, index: int, reviewed: bool = True) -> None:
        self.clusters[index] = replace(self.clusters[index], reviewed=bool(reviewed))

    # ------------------------------------------------------------------ coverage
    @property
    def volume_mm3(self) -> float:
        return float(sum(c.volume_mm3 for c in self.clusters))

    def reviewed_mask(self, edited: np.ndarray | None = None) -> np.ndarray:
        """Per queued voxel (in ``voxel_index`` order): reviewed by a flag or changed by an edit."""
        flags = np.array([c.reviewed for c in self.clusters], bool)
        reviewed = flags[self.voxel_cluster] if len(flags) else np.zeros(0, bool)
        if edited is not None:
            if edited.shape != self.case_shape:
                raise ValueError(f"edited mask shape {edited.shape} differs from the grid {self.case_shape}")
            reviewed = reviewed | edited.ravel()[self.voxel_index]
        return reviewed

    def coverage(self, edited: np.ndarray | None = None) -> float:
        """Fraction of the queue's low-confidence volume reviewed (1.0 for an empty queue).

        ``edited``: bool mask of voxels whose label differs from the AI result (they count as reviewed).
        """
        if not len(self.voxel_index):
            return 1.0
        return float(np.count_nonzero(self.reviewed_mask(edited)) / len(self.voxel_index))

    def cluster_coverage(self, edited: np.ndarray | None = None) -> list[float]:
        """Per cluster, the fraction of its voxels reviewed."""
        reviewed = self.reviewed_mask(edited)
        total = np.bincount(self.voxel_cluster, minlength=len(self.clusters))
        done = np.bincount(self.voxel_cluster, weights=reviewed, minlength=len(self.clusters))
        return [float(d / t) if t else 1.0 for d, t in zip(done, total)]

    # ------------------------------------------------------------------ saving
    def to_dict(self) -> dict[str, Any]:
        """JSON-ready settings, position and clusters (with reviewed flags) for the autosave."""
        return {
            "settings": {
                "uncertainty": self.settings.uncertainty,
                "cell_mm": self.settings.cell_mm,
                "min_cluster_mm3": self.settings.min_cluster_mm3,
            },
            "current": self.current,
            "clusters": [c.to_dict() for c in self.clusters],
        }

    @classmethod
    def settings_from_dict(cls, data: Any) -> QueueSettings:
        """The settings saved by :meth:`to_dict` (ValueError on anything malformed)."""
        try:
            raw = data["settings"]
            settings = QueueSettings(
                float(raw["uncertainty"]), float(raw["cell_mm"]), float(raw["min_cluster_mm3"])
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"saved review queue is malformed ({exc!r})") from exc
        if not 0 < settings.uncertainty <= 1 or settings.cell_mm <= 0 or settings.min_cluster_mm3 < 0:
            raise ValueError(f"saved review queue has impossible settings {settings}")
        return settings

    def restore(self, data: Any) -> int:
        """Apply saved reviewed flags and position to this (recomputed) queue; returns flags restored.

        A saved cluster is matched by its bounding box and target voxel, so flags of clusters that no
        longer exist (other probabilities) are dropped rather than put on the wrong cluster.
        """
        try:
            saved = {
                (tuple(tuple(int(v) for v in b) for b in c["box"]), tuple(int(v) for v in c["target"])): bool(
                    c["reviewed"]
                )
                for c in data["clusters"]
            }
            current = int(data.get("current", -1))
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"saved review queue is malformed ({exc!r})") from exc
        restored = 0
        for index, cluster in enumerate(self.clusters):
            flag = saved.get((cluster.box, cluster.target))
            if flag is not None:
                self.clusters[index] = replace(cluster, reviewed=flag)
                restored += 1
        self.current = current if -1 <= current < len(self.clusters) else -1
        return restored


def _clusters(coords: np.ndarray, owner: np.ndarray, count: int, voxel_mm3: float) -> list[Cluster]:
    """Clusters from voxel coordinates (N, 3) and their cluster numbers; each target is the cluster's
    voxel nearest its centroid."""
    if count == 0:
        return []
    sizes = np.bincount(owner, minlength=count)
    centre = np.stack([np.bincount(owner, coords[:, a], count) for a in range(3)], axis=1) / sizes[:, None]
    distance = ((coords - centre[owner]) ** 2).sum(axis=1)
    order = np.lexsort((distance, owner))
    first = np.searchsorted(owner[order], np.arange(count))
    targets = coords[order[first]]
    low = np.full((count, 3), np.iinfo(np.int64).max)
    high = np.full((count, 3), -1)
    np.minimum.at(low, owner, coords)
    np.maximum.at(high, owner, coords)
    return [
        Cluster(
            int(sizes[i]),
            float(sizes[i] * voxel_mm3),
            tuple((int(a), int(b) + 1) for a, b in zip(low[i], high[i])),  # type: ignore[arg-type]
            tuple(int(v) for v in targets[i]),  # type: ignore[arg-type]
        )
        for i in range(count)
    ]


def _bounding_box(mask: np.ndarray) -> tuple[slice, slice, slice] | None:
    box = []
    for axis in range(3):
        hits = np.flatnonzero(mask.any(axis=tuple(a for a in range(3) if a != axis)))
        if hits.size == 0:
            return None
        box.append(slice(int(hits[0]), int(hits[-1]) + 1))
    return tuple(box)  # type: ignore[return-value]
