"""Which array axes each slice view shows, which way round, and the anatomical letters on its sides.

Works from the affine for any input orientation (RAS, LPS, oblique): each view has fixed screen
directions in patient space (axial and coronal: patient right on screen left in the radiological
convention, left in the neurological one; sagittal: anterior on the left; up is anterior in axial and
superior otherwise), and the array axis nearest to each direction is shown along it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

PLANES = ("axial", "sagittal", "coronal")

#: World (RAS+) direction of screen +x (rightwards) and screen +y (downwards) in the radiological convention.
_SCREEN_DIRECTIONS: dict[str, tuple[tuple[float, float, float], tuple[float, float, float]]] = {
    "axial": ((-1.0, 0.0, 0.0), (0.0, -1.0, 0.0)),
    "coronal": ((-1.0, 0.0, 0.0), (0.0, 0.0, -1.0)),
    "sagittal": ((0.0, -1.0, 0.0), (0.0, 0.0, -1.0)),
}
_AXIS_LETTERS = (("L", "R"), ("P", "A"), ("I", "S"))  # (negative, positive) along world x, y, z
#: A secondary letter is shown when the view is tilted this much (as a direction-cosine component).
OBLIQUE_LETTER_THRESHOLD = 0.25


def direction_letters(direction: np.ndarray) -> str:
    """Anatomical letters of a world direction, strongest first: ``(1,0,0)`` -> ``"R"``, oblique -> ``"RA"``."""
    unit = np.asarray(direction, dtype=float) / np.linalg.norm(direction)
    order = np.argsort(-np.abs(unit), kind="stable")
    letters = [_AXIS_LETTERS[a][int(unit[a] > 0)] for a in order if abs(unit[a]) >= OBLIQUE_LETTER_THRESHOLD]
    return "".join(letters)


@dataclass(frozen=True)
class PlaneLayout:
    """How one view maps the voxel grid to screen pixels (column = screen x, row = screen y)."""

    plane: str
    shape: tuple[int, int, int]
    slice_axis: int
    col_axis: int
    row_axis: int
    flip_col: bool
    flip_row: bool
    spacing: tuple[float, float, float]
    #: Letters at the (left, right, top, bottom) edges of the view.
    letters: tuple[str, str, str, str]

    @property
    def size(self) -> tuple[int, int]:
        """(columns, rows) of the slice image."""
        return self.shape[self.col_axis], self.shape[self.row_axis]

    @property
    def pixel_spacing(self) -> tuple[float, float]:
        """Size of one slice pixel in mm: (screen x, screen y)."""
        return self.spacing[self.col_axis], self.spacing[self.row_axis]

    @property
    def slice_count(self) -> int:
        return self.shape[self.slice_axis]

    def extract(self, array: np.ndarray, index: int) -> np.ndarray:
        """The slice ``index`` of a 3-D array as a (rows, columns) view laid out as on screen."""
        key: list[int | slice] = [slice(None)] * 3
        key[self.slice_axis] = int(index)
        plane = array[tuple(key)]
        if self.row_axis > self.col_axis:
            plane = plane.T
        return plane[:: -1 if self.flip_row else 1, :: -1 if self.flip_col else 1]

    def pixel_of(self, voxel: tuple[int, int, int]) -> tuple[int, int]:
        """(column, row) of a voxel's projection into this view."""
        cols, rows = self.size
        col, row = voxel[self.col_axis], voxel[self.row_axis]
        return (cols - 1 - col if self.flip_col else col), (rows - 1 - row if self.flip_row else row)

    def voxel_at(self, col: int, row: int, index: int) -> tuple[int, int, int]:
        """The voxel shown at (column, row) of slice ``index``."""
        cols, rows = self.size
        voxel = [0, 0, 0]
        voxel[self.slice_axis] = int(index)
        voxel[self.col_axis] = cols - 1 - int(col) if self.flip_col else int(col)
        voxel[self.row_axis] = rows - 1 - int(row) if self.flip_row else int(row)
        return tuple(voxel)  # type: ignore[return-value]


def plane_layout(
    plane: str, affine: np.ndarray, shape: tuple[int, int, int], convention: str = "radiological"
) -> PlaneLayout:
    """The layout of ``plane`` ("axial", "sagittal" or "coronal") for a grid with this affine."""
    if plane not in _SCREEN_DIRECTIONS:
        raise ValueError(f"unknown plane {plane!r}; choose one of {PLANES}")
    if convention not in ("radiological", "neurological"):
        raise ValueError(f"unknown convention {convention!r}; use 'radiological' or 'neurological'")
    affine = np.asarray(affine, dtype=float)
    from nibabel.orientations import io_orientation  # nibabel is slow to import; not needed to start

    ornt = io_orientation(affine)  # per array axis: (world axis, +1/-1)
    screen_x, screen_y = (np.array(d) for d in _SCREEN_DIRECTIONS[plane])
    if convention == "neurological" and plane != "sagittal":
        screen_x = -screen_x

    def array_axis(direction: np.ndarray) -> tuple[int, bool]:
        world = int(np.argmax(np.abs(direction)))
        axis = int(np.flatnonzero(ornt[:, 0] == world)[0])
        return axis, bool(ornt[axis, 1] != np.sign(direction[world]))

    col_axis, flip_col = array_axis(screen_x)
    row_axis, flip_row = array_axis(screen_y)
    slice_axis = 3 - col_axis - row_axis
    cols = affine[:3, :3]
    right = cols[:, col_axis] * (-1 if flip_col else 1)
    down = cols[:, row_axis] * (-1 if flip_row else 1)
    letters = (
        direction_letters(-right),
        direction_letters(right),
        direction_letters(-down),
        direction_letters(down),
    )
    sx, sy, sz = (float(s) for s in np.linalg.norm(cols, axis=0))
    spacing = (sx, sy, sz)
    nx, ny, nz = (int(n) for n in shape)
    return PlaneLayout(
        plane,
        (nx, ny, nz),
        slice_axis,
        col_axis,
        row_axis,
        flip_col,
        flip_row,
        spacing,
        letters,
    )
