"""Offscreen mesh rendering with pyrender: posed bodies over a checkered ground plane.

    from vhdiff.body import load_body_model
    from vhdiff.viz.mesh_renderer import MeshRenderer

    out = body(**motion.to_torch())                       # BodyOutput, vertices [T, V, 3]
    with MeshRenderer(width=512, height=512) as renderer:
        frames = renderer.render(out.vertices, out.faces)  # uint8 [T, 512, 512, 3]
        frames = renderer.render([motion_a, motion_b], faces)  # two bodies side by side

Conventions (vhdiff.body): Y up, metres, bodies face +Z. The ground plane lies at the
lowest vertex of the whole motion. One OpenGL context, scene, ground and light set is
kept for the renderer's life; only the body meshes change from frame to frame.
OpenGL is set up by `vhdiff.viz.gl` (EGL by default; a clear error when unavailable).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np

from .camera import Camera, fit_distance, frame_points, look_at, view_direction

__all__ = ["BODY_COLORS", "MeshRenderer", "vertex_normals"]

# Body colours (RGB in [0, 1]), one per body rendered side by side.
BODY_COLORS: tuple[tuple[float, float, float], ...] = (
    (0.35, 0.55, 0.85),  # blue
    (0.90, 0.50, 0.30),  # orange
    (0.40, 0.70, 0.40),  # green
    (0.75, 0.40, 0.70),  # purple
    (0.85, 0.75, 0.30),  # yellow
)

CameraMode = Literal["frame", "follow"]


def vertex_normals(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Unit vertex normals [V, 3]: the area-weighted sum of the adjacent face normals."""
    tri = vertices[faces]
    face_normals = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    normals = np.zeros_like(vertices)
    for corner in range(3):
        for axis in range(3):
            normals[:, axis] += np.bincount(
                faces[:, corner], weights=face_normals[:, axis], minlength=len(vertices)
            )
    length = np.linalg.norm(normals, axis=1, keepdims=True)
    return normals / np.where(length > 0, length, 1.0)


def _as_numpy(array: Any) -> np.ndarray:
    if hasattr(array, "detach"):
        array = array.detach().cpu().numpy()
    return np.asarray(array)


def _check_bodies(bodies: Any, faces: Any) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """-> (list of vertices [T, V_i, 3] float32, list of faces [F_i, 3] int32)."""
    if isinstance(bodies, (list, tuple)):
        body_list = [_as_numpy(b) for b in bodies]
    else:
        body_list = [_as_numpy(bodies)]
    if not body_list:
        raise ValueError("no bodies to render; pass vertices [T, V, 3] or a list of them")
    body_list = [b[None] if b.ndim == 2 else b for b in body_list]
    for i, body in enumerate(body_list):
        if body.ndim != 3 or body.shape[-1] != 3 or body.shape[0] == 0:
            raise ValueError(
                f"body {i} vertices must have shape [T, V, 3] (or [V, 3]), got {list(body.shape)}"
            )
        if not np.all(np.isfinite(body)):
            raise ValueError(f"body {i} vertices contain NaN or infinite values")
    frames = {b.shape[0] for b in body_list}
    if len(frames) != 1:
        raise ValueError(
            f"bodies have different frame counts {sorted(frames)}; trim or pad them to one length"
        )
    face_list = (
        [_as_numpy(f) for f in faces]
        if isinstance(faces, (list, tuple))
        else [_as_numpy(faces)] * len(body_list)
    )
    if len(face_list) != len(body_list):
        raise ValueError(
            f"got {len(face_list)} face arrays for {len(body_list)} bodies; pass one shared "
            "faces array or one per body"
        )
    for i, (body, face) in enumerate(zip(body_list, face_list)):
        if face.ndim != 2 or face.shape[1] != 3 or face.dtype.kind not in "iu":
            raise ValueError(
                f"faces must be an integer array [F, 3], got {face.dtype} {list(face.shape)}"
            )
        if face.size and (face.min() < 0 or face.max() >= body.shape[1]):
            raise ValueError(
                f"faces of body {i} index vertex {int(face.max())} but the body has "
                f"{body.shape[1]} vertices; pass the faces that belong to these vertices"
            )
    return [b.astype(np.float32) for b in body_list], [f.astype(np.int32) for f in face_list]


def arrange_side_by_side(bodies: list[np.ndarray], gap: float = 0.3) -> list[np.ndarray]:
    """Shift bodies along X so that their whole-motion footprints sit next to each other,
    `gap` metres apart, centred on the first body's original centre."""
    if len(bodies) == 1:
        return bodies
    lows = [b[..., 0].min() for b in bodies]
    highs = [b[..., 0].max() for b in bodies]
    widths = [h - lo for lo, h in zip(lows, highs)]
    total = sum(widths) + gap * (len(bodies) - 1)
    centre = (lows[0] + highs[0]) / 2
    start = centre - total / 2
    shifted = []
    for body, low, width in zip(bodies, lows, widths):
        offset = np.zeros(3, dtype=np.float32)
        offset[0] = start - low
        shifted.append(body + offset)
        start += width + gap
    # centre the depth (Z) of each body on the first one's, so they stand in one row
    z0 = (bodies[0][..., 2].min() + bodies[0][..., 2].max()) / 2
    for i, body in enumerate(shifted):
        zc = (body[..., 2].min() + body[..., 2].max()) / 2
        shifted[i] = body + np.array([0.0, 0.0, z0 - zc], dtype=np.float32)
    return shifted


class MeshRenderer:
    """Renders body meshes to uint8 frames with one reused OpenGL context.

    Args:
        width, height: image size in pixels.
        yfov_deg: vertical field of view of the camera.
        azimuth, elevation: camera direction in degrees (0, 0 = in front of a body facing +Z,
            at pelvis height; see vhdiff.viz.camera.view_direction).
        camera: "frame" = one fixed camera that sees every frame of the motion; "follow" = a
            camera that keeps its direction and distance but moves with the bodies' centre
            over the ground.
        ground: draw the checkered ground plane at the motion's lowest vertex.
        ground_tile: checker size in metres.
        background: RGB in [0, 1].
        body_colors: RGB per body (cycled).
        arrange: with several bodies, place them side by side (True) or where they are.
        shadows: directional-light shadows (slower on a CPU).
    """

    def __init__(
        self,
        *,
        width: int = 512,
        height: int = 512,
        yfov_deg: float = 40.0,
        azimuth: float = 30.0,
        elevation: float = 15.0,
        camera: CameraMode = "frame",
        ground: bool = True,
        ground_tile: float = 0.5,
        background: Sequence[float] = (1.0, 1.0, 1.0),
        body_colors: Sequence[Sequence[float]] = BODY_COLORS,
        arrange: bool = True,
        shadows: bool = False,
    ) -> None:
        if camera not in ("frame", "follow"):
            raise ValueError(f"camera must be 'frame' or 'follow', got {camera!r}")
        if not 1.0 <= yfov_deg <= 170.0:
            raise ValueError(f"yfov_deg must be in [1, 170] degrees, got {yfov_deg}")
        from .gl import load_pyrender, offscreen_renderer

        self._pyrender = load_pyrender()
        self._renderer = offscreen_renderer(width, height)  # the process-wide context
        self.width, self.height = width, height
        self.yfov = math.radians(yfov_deg)
        self.azimuth, self.elevation = azimuth, elevation
        self.camera_mode = camera
        self.ground, self.ground_tile = ground, ground_tile
        self.background = tuple(float(c) for c in background)
        self.body_colors = [tuple(float(c) for c in color) for color in body_colors]
        self.arrange, self.shadows = arrange, shadows

    # ---- lifetime ---------------------------------------------------------------------------

    def close(self) -> None:
        """Stop using the OpenGL context (the process-wide context itself stays, see
        vhdiff.viz.gl.offscreen_renderer)."""
        self._renderer = None

    def __enter__(self) -> MeshRenderer:  # noqa: PYI034 - Self needs Python 3.11
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- cameras ----------------------------------------------------------------------------

    def cameras(self, bodies: list[np.ndarray]) -> list[Camera]:
        """One Camera per frame for these (already arranged) bodies."""
        everything = np.concatenate([b.reshape(b.shape[0], -1, 3) for b in bodies], axis=1)
        frames = everything.shape[0]
        if self.camera_mode == "frame":
            camera = frame_points(
                everything,
                width=self.width,
                height=self.height,
                yfov=self.yfov,
                azimuth=self.azimuth,
                elevation=self.elevation,
            )
            return [camera] * frames
        low, high = everything.min(1), everything.max(1)  # [T, 3] per-frame boxes
        targets = (low + high) / 2
        targets[:, 1] = targets[:, 1].mean()  # fixed camera height: no vertical bobbing
        direction = view_direction(self.azimuth, self.elevation)
        distance = max(
            fit_distance(
                everything[t],
                targets[t],
                direction,
                yfov=self.yfov,
                aspect=self.width / self.height,
            )
            for t in range(frames)
        )  # one distance for all frames: the body keeps its size on screen
        cameras = [
            frame_points(
                everything[t],
                width=self.width,
                height=self.height,
                yfov=self.yfov,
                azimuth=self.azimuth,
                elevation=self.elevation,
                target=targets[t],
                distance=distance,
            )
            for t in range(frames)
        ]
        return cameras

    # ---- scene ------------------------------------------------------------------------------

    def _ground_mesh(self, bodies: list[np.ndarray], cameras: list[Camera]) -> Any:
        pyrender = self._pyrender
        everything = np.concatenate([b.reshape(-1, 3) for b in bodies])
        floor = float(everything[:, 1].min())
        eyes = np.stack([c.pose[:3, 3] for c in cameras])
        span = np.concatenate([everything[:, [0, 2]], eyes[:, [0, 2]]])
        tile = self.ground_tile
        margin = 2.0 + 2.0 * float(np.ptp(everything[:, 1]))
        lo = np.floor((span.min(0) - margin) / tile).astype(int)
        hi = np.ceil((span.max(0) + margin) / tile).astype(int)
        ii, jj = np.meshgrid(np.arange(lo[0], hi[0]), np.arange(lo[1], hi[1]), indexing="ij")
        ii, jj = ii.ravel(), jj.ravel()
        corners = np.array([[0, 0], [0, 1], [1, 1], [1, 0]])  # counter-clockwise seen from +Y
        x = (ii[:, None] + corners[None, :, 0]) * tile
        z = (jj[:, None] + corners[None, :, 1]) * tile
        positions = np.stack([x, np.full_like(x, floor), z], axis=-1).reshape(-1, 3)
        base = 4 * np.arange(len(ii))[:, None]
        indices = np.concatenate([base + [0, 1, 2], base + [0, 2, 3]]).astype(np.int32)
        light, dark = np.array([0.86, 0.86, 0.86, 1.0]), np.array([0.70, 0.70, 0.70, 1.0])
        colors = np.where(((ii + jj) % 2 == 0)[:, None], light, dark)
        colors = np.repeat(colors, 4, axis=0)
        normals = np.tile([0.0, 1.0, 0.0], (len(positions), 1))
        material = pyrender.MetallicRoughnessMaterial(
            baseColorFactor=[1.0, 1.0, 1.0, 1.0], metallicFactor=0.0, roughnessFactor=1.0
        )
        primitive = pyrender.Primitive(
            positions=positions.astype(np.float32),
            normals=normals.astype(np.float32),
            indices=indices,
            color_0=colors.astype(np.float32),
            material=material,
        )
        return pyrender.Mesh([primitive])

    def _body_mesh(self, vertices: np.ndarray, faces: np.ndarray, material: Any) -> Any:
        pyrender = self._pyrender
        primitive = pyrender.Primitive(
            positions=vertices,
            normals=vertex_normals(vertices, faces).astype(np.float32),
            indices=faces,
            material=material,
        )
        return pyrender.Mesh([primitive])

    def _scene(self, bodies: list[np.ndarray], cameras: list[Camera]) -> tuple[Any, Any]:
        pyrender = self._pyrender
        scene = pyrender.Scene(bg_color=[*self.background, 1.0], ambient_light=[0.35] * 3)
        if self.ground:
            scene.add(self._ground_mesh(bodies, cameras))
        everything = np.concatenate([b.reshape(-1, 3) for b in bodies])
        centre = (everything.min(0) + everything.max(0)) / 2
        for direction, intensity in (((1.0, 2.0, 2.0), 3.0), ((-1.5, 1.0, -1.0), 1.5)):
            eye = centre + np.asarray(direction)
            scene.add(
                pyrender.DirectionalLight(color=np.ones(3), intensity=intensity),
                pose=look_at(eye, centre),
            )
        first = cameras[0]
        zfar = max(c.zfar for c in cameras) + 50.0
        camera_node = scene.add(
            pyrender.PerspectiveCamera(
                yfov=self.yfov, aspectRatio=first.aspect, znear=first.znear, zfar=zfar
            ),
            pose=first.pose,
        )
        return scene, camera_node

    # ---- rendering ----------------------------------------------------------------------------

    def render(
        self,
        bodies: Any,
        faces: Any,
        *,
        camera: Camera | Sequence[Camera] | None = None,
        return_depth: bool = False,
    ) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        """Render a motion.

        Args:
            bodies: vertices [T, V, 3] (or [V, 3] for one frame), numpy or torch, or a list
                of such arrays with the same T for several bodies (side by side when
                `arrange`).
            faces: [F, 3] integer array shared by all bodies, or a list with one per body.
            camera: override the automatic camera: one Camera, or one per frame.
            return_depth: also return the depth maps.

        Returns:
            frames uint8 [T, H, W, 3], and with return_depth depth float32 [T, H, W]
            (distance along the view axis, 0 where nothing was drawn).
        """
        if self._renderer is None:
            raise ValueError("this MeshRenderer was closed; create a new one")
        body_list, face_list = _check_bodies(bodies, faces)
        if self.arrange:
            body_list = arrange_side_by_side(body_list)
        frames = body_list[0].shape[0]
        if camera is None:
            cameras = self.cameras(body_list)
        elif isinstance(camera, Camera):
            cameras = [camera] * frames
        else:
            cameras = list(camera)
            if len(cameras) != frames:
                raise ValueError(
                    f"got {len(cameras)} cameras for {frames} frames; pass one per frame"
                )
        for cam in cameras:
            if (cam.width, cam.height) != (self.width, self.height):
                raise ValueError(
                    f"camera size {cam.width}x{cam.height} differs from the renderer's "
                    f"{self.width}x{self.height}; build the camera with the renderer's size"
                )
        pyrender = self._pyrender
        scene, camera_node = self._scene(body_list, cameras)
        materials = [
            pyrender.MetallicRoughnessMaterial(
                baseColorFactor=[*self.body_colors[i % len(self.body_colors)], 1.0],
                metallicFactor=0.0,
                roughnessFactor=0.6,
            )
            for i in range(len(body_list))
        ]
        nodes = [
            scene.add(self._body_mesh(body[0], face, material))
            for body, face, material in zip(body_list, face_list, materials)
        ]
        flags = (
            pyrender.RenderFlags.SHADOWS_DIRECTIONAL if self.shadows else pyrender.RenderFlags.NONE
        )
        from .gl import RENDER_LOCK, offscreen_renderer

        colors = np.empty((frames, self.height, self.width, 3), dtype=np.uint8)
        depths = (
            np.empty((frames, self.height, self.width), dtype=np.float32) if return_depth else None
        )
        with RENDER_LOCK:  # one shared OpenGL context (see vhdiff.viz.gl)
            self._renderer = offscreen_renderer(self.width, self.height)
            for t in range(frames):
                for node, body, face, material in zip(nodes, body_list, face_list, materials):
                    if t > 0:
                        node.mesh = self._body_mesh(body[t], face, material)
                scene.set_pose(camera_node, pose=cameras[t].pose)
                color, depth = self._renderer.render(scene, flags=flags)
                colors[t] = color[..., :3]
                if depths is not None:
                    depths[t] = depth
        # (the next render's new scene makes pyrender free this scene's GPU buffers)
        return (colors, depths) if return_depth else colors
