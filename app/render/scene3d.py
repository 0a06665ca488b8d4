"""The 3D scene: label surfaces, the three slice planes through the cursor, optional volume rendering.

pyvista actors on a plotter; call everything here on the GUI thread only.
"""

from __future__ import annotations

import numpy as np
import pyvista as pv

from app.render.orientation import plane_layout
from app.render.slice_image import label_display_colour
from app.state.display_settings import OverlaySettings, WindowLevel

#: Colours of the axial, sagittal and coronal planes (as the slice view captions).
PLANE_COLOURS = {"axial": (80, 160, 255), "sagittal": (255, 120, 80), "coronal": (120, 230, 120)}
PLANE_OPACITY = 0.12
VOLUME_STEP = 2  # volume rendering uses every 2nd voxel: a quarter-second upload instead of seconds
BRAIN_COLOUR = (0.86, 0.80, 0.74)
BRAIN_OPACITY = 0.15


def slice_plane(affine: np.ndarray, shape: tuple[int, int, int], axis: int, index: int) -> np.ndarray:
    """World corners (4x3) of the slice ``index`` across array ``axis``, at the outer voxel edges."""
    others = [a for a in range(3) if a != axis]
    corners = []
    for u, v in ((0, 0), (1, 0), (1, 1), (0, 1)):
        ijk = np.zeros(3)
        ijk[axis] = index
        ijk[others[0]] = -0.5 + u * shape[others[0]]
        ijk[others[1]] = -0.5 + v * shape[others[1]]
        corners.append(affine[:3, :3] @ ijk + affine[:3, 3])
    return np.array(corners)


class Scene3D:
    """Owns the actors of one plotter: ``set_surfaces``, ``set_planes``, ``set_volume``."""

    def __init__(self, plotter: pv.Plotter) -> None:
        self.plotter = plotter
        self.surfaces: dict[int, pv.PolyData] = {}
        self._planes: dict[str, pv.PolyData] = {}

    def set_surfaces(self, meshes: dict[int, pv.PolyData], overlay: OverlaySettings) -> None:
        """Show one surface per label in its overlay colour (replacing the previous ones)."""
        for label in list(self.surfaces):
            if label not in meshes:
                self.plotter.remove_actor(f"label{label}", render=False)
        self.surfaces = dict(meshes)
        for label, mesh in meshes.items():
            self.plotter.add_mesh(
                mesh, name=f"label{label}", smooth_shading=True, render=False, reset_camera=False
            )
        self.apply_overlay(overlay)

    def apply_overlay(self, overlay: OverlaySettings) -> None:
        """Colours and visibility of the surfaces from the overlay settings (composite mode included)."""
        for label in self.surfaces:
            actor = self.plotter.actors.get(f"label{label}")
            if actor is None:
                continue
            colour = label_display_colour(overlay, label)
            actor.SetVisibility(colour is not None)
            if colour is not None:
                actor.prop.color = tuple(c / 255 for c in colour)

    def set_planes(
        self, affine: np.ndarray, shape: tuple[int, int, int], cursor: tuple[int, int, int]
    ) -> None:
        """Move the three slice planes to the cursor (created on first use)."""
        for plane, colour in PLANE_COLOURS.items():
            axis = plane_layout(plane, affine, shape).slice_axis
            corners = slice_plane(affine, shape, axis, cursor[axis])
            mesh = self._planes.get(plane)
            if mesh is None:
                mesh = pv.PolyData(corners, faces=[4, 0, 1, 2, 3])
                self._planes[plane] = mesh
                self.plotter.add_mesh(
                    mesh,
                    name=f"plane_{plane}",
                    color=colour,
                    opacity=PLANE_OPACITY,
                    render=False,
                    reset_camera=False,
                    show_edges=True,
                    edge_color=colour,
                    lighting=False,
                )
            else:
                mesh.points = corners

    def clear(self) -> None:
        """Remove every actor (a new case is coming)."""
        for name in [*(f"label{label}" for label in self.surfaces), *(f"plane_{p}" for p in self._planes)]:
            self.plotter.remove_actor(name, render=False)
        self.surfaces, self._planes = {}, {}
        self.set_volume(None)
        self.set_brain(None)

    def set_brain(self, mesh: pv.PolyData | None) -> None:
        """Show ``mesh`` as a translucent brain surface for context (None removes it)."""
        self.plotter.remove_actor("brain", render=False)
        if mesh is not None:
            self.plotter.add_mesh(
                mesh,
                name="brain",
                color=BRAIN_COLOUR,
                opacity=BRAIN_OPACITY,
                smooth_shading=True,
                render=False,
                reset_camera=False,
                pickable=False,
            )

    def set_volume(
        self, image: np.ndarray | None, affine: np.ndarray | None = None, window: WindowLevel | None = None
    ) -> None:
        """Volume-render ``image`` (every 2nd voxel) with an opacity ramp over ``window``; None removes it."""
        self.plotter.remove_actor("volume", render=False)
        if image is None or affine is None or window is None:
            return
        step = VOLUME_STEP
        grid = pv.ImageData(dimensions=np.array(image[::step, ::step, ::step].shape))
        linear = affine[:3, :3] * step
        grid.spacing = np.linalg.norm(linear, axis=0)
        grid.direction_matrix = linear / grid.spacing
        grid.origin = affine[:3, 3]
        grid.point_data["image"] = np.ravel(image[::step, ::step, ::step], order="F").astype(np.float32)
        self.plotter.add_volume(
            grid,
            scalars="image",
            name="volume",
            cmap="gray",
            clim=(window.low, window.high),
            opacity="linear",
            show_scalar_bar=False,
            render=False,
            reset_camera=False,
        )
