"""The toolkit-independent mouse event that slice views send to editing tools."""

from __future__ import annotations

from dataclasses import dataclass, field

#: Array axis each slice view holds fixed on the canonical RAS grid.
PLANE_AXIS: dict[str, int] = {"sagittal": 0, "coronal": 1, "axial": 2}


def in_plane_axes(plane: str) -> tuple[int, int]:
    """The two array axes a slice of ``plane`` shows, in increasing order (e.g. axial -> (0, 1))."""
    fixed = plane_axis(plane)
    return tuple(a for a in range(3) if a != fixed)  # type: ignore[return-value]


def plane_axis(plane: str) -> int:
    try:
        return PLANE_AXIS[plane]
    except KeyError:
        raise ValueError(f"unknown plane {plane!r}; expected one of {sorted(PLANE_AXIS)}") from None


@dataclass(frozen=True)
class ToolEvent:
    """A press, drag or release at ``voxel`` (array index) in a slice view of ``plane``.

    ``modifiers`` holds lower-case key names such as ``"shift"`` or ``"ctrl"``; ``button`` is
    ``"left"``, ``"right"`` or ``"middle"``. The voxel may lie outside the volume (a drag off the
    edge); tools clip what they paint.
    """

    voxel: tuple[int, int, int]
    plane: str = "axial"
    modifiers: frozenset[str] = field(default_factory=frozenset)
    button: str = "left"

    def __post_init__(self) -> None:
        if len(self.voxel) != 3:
            raise ValueError(f"voxel must be three indices, got {self.voxel}")
        object.__setattr__(self, "voxel", tuple(int(v) for v in self.voxel))
        plane_axis(self.plane)
        object.__setattr__(self, "modifiers", frozenset(m.lower() for m in self.modifiers))

    @property
    def axis(self) -> int:
        """The array axis this event's view holds fixed."""
        return PLANE_AXIS[self.plane]

    @property
    def slice_index(self) -> int:
        """Index of the shown slice along :attr:`axis`."""
        return self.voxel[self.axis]
