"""The linked crosshair: one voxel of the case grid shared by every view."""

from __future__ import annotations

from psygnal import Signal

Voxel = tuple[int, int, int]


class Cursor:
    """A voxel index clamped to the grid; ``changed`` emits the new index whenever it moves."""

    changed = Signal(tuple)

    def __init__(self, shape: Voxel = (1, 1, 1)) -> None:
        self._shape: Voxel = tuple(int(n) for n in shape)  # type: ignore[assignment]
        self._position: Voxel = tuple(n // 2 for n in self._shape)  # type: ignore[assignment]

    @property
    def shape(self) -> Voxel:
        return self._shape

    @property
    def position(self) -> Voxel:
        return self._position

    def reset(self, shape: Voxel) -> None:
        """A new grid: the cursor goes to its centre (always emits)."""
        self._shape = tuple(int(n) for n in shape)  # type: ignore[assignment]
        self._position = tuple(n // 2 for n in self._shape)  # type: ignore[assignment]
        self.changed.emit(self._position)

    def set_position(self, voxel: tuple[int, int, int]) -> None:
        """Move to ``voxel`` (clamped to the grid); emits only when the position changes."""
        clamped = tuple(min(max(int(v), 0), n - 1) for v, n in zip(voxel, self._shape))
        if clamped != self._position:
            self._position = clamped  # type: ignore[assignment]
            self.changed.emit(self._position)

    def step(self, axis: int, delta: int) -> None:
        """Move ``delta`` voxels along one array axis (e.g. the next slice of a view)."""
        position = list(self._position)
        position[axis] += int(delta)
        self.set_position(tuple(position))  # type: ignore[arg-type]
