"""Offscreen mesh rendering with pyrender: posed bodies over a checkered ground plane.

    from vhdiff.body import load_body_model
    from vhdiff.viz.mesh_renderer import MeshRenderer

    out = body(**motion.to_torch())                       # BodyOutput, vertices [T, V, 3]
    with MeshRenderer(width=512, height=512) as renderer:
        frames = renderer.render(out.vertices, out.faces)  # uint8 [T, 512, 512, 3]
        frames = renderer.render([motion_a, motion_b], faces)  # two bodies side by side
        write_mp4("walk.mp4", renderer.iter_frames(out.vertices, out.faces), fps=20)  # streamed

Conventions (vhdiff.body): Y up, metres, bodies face +Z. The ground plane lies at the
lowest vertex of the whole motion. One OpenGL context serves the whole process; each
motion gets one scene (ground, lights) where only the body meshes change from frame to
frame. With one
fixed camera (the default) the ground is drawn once per motion and each frame draws only
the bodies, in a small window, laid over it (see `MeshRenderer._composited_frames`).
OpenGL is set up by `vhdiff.viz.gl` (EGL by default; a clear error when unavailable).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from .camera import Camera, bounds, fit_distance, frame_points, look_at, view_direction

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
AMBIENT = 0.35  # ambient light (grey level)
WINDOW_MARGIN = 2  # pixels around the projected body box in the fast path's render window
# Ground tile colours, sRGB bytes of the linear greys 0.86 (light) and 0.70 (dark)
CHECKER_LIGHT = (239, 239, 239)
CHECKER_DARK = (218, 218, 218)
CHECKER_TEXELS = 64  # texels per tile side in the ground texture


def _checker_texture() -> np.ndarray:
    """uint8 [2N, 2N, 3]: one period of the checkered ground, 2 x 2 tiles of N texels each
    (N = CHECKER_TEXELS: tile edges stay sharp until a tile spans more pixels than that)."""
    n = CHECKER_TEXELS
    # texel (row, col) is seen at (u, v) = (col, 2N - row) / 2N: rows run against v, so the
    # tile at texture columns < N and rows >= N is the light tile (i + j even) at the origin
    light = (np.arange(2 * n)[:, None] >= n) == (np.arange(2 * n)[None, :] < n)
    return np.where(light[..., None], CHECKER_LIGHT, CHECKER_DARK).astype(np.uint8)


def vertex_normals(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Unit vertex normals [V, 3] (the vertices' float dtype): the area-weighted sum of the
    adjacent face normals (face normal = cross product of two edges, length = 2 x area).

    `np.take` and one bincount per corner and axis: ~3x faster than fancy indexing
    `vertices[faces]` on the mannequin's 48k faces (this runs once per rendered frame).
    """
    count = len(vertices)
    a, b, c = (np.take(vertices, faces[:, corner], axis=0) for corner in range(3))
    face_normals = np.ascontiguousarray(np.cross(b - a, c - a).T, dtype=np.float64)  # [3, F]
    normals = np.empty((3, count))
    for axis in range(3):
        normals[axis] = sum(
            np.bincount(faces[:, corner], weights=face_normals[axis], minlength=count)
            for corner in range(3)
        )
    length = np.sqrt((normals * normals).sum(0))
    normals /= np.where(length > 0, length, 1.0)
    dtype = vertices.dtype if vertices.dtype.kind == "f" else np.float64
    return normals.T.astype(dtype)


def _bounds_of(bodies: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Bounding box (low [3], high [3]) of every vertex of every body and frame."""
    boxes = [bounds(body) for body in bodies]
    return np.min([b[0] for b in boxes], axis=0), np.max([b[1] for b in boxes], axis=0)


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
        everything = (
            bodies[0]
            if len(bodies) == 1
            else np.concatenate([b.reshape(b.shape[0], -1, 3) for b in bodies], axis=1)
        )
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

    def _ground_placement(self, job: _Job) -> tuple[np.ndarray, np.ndarray]:
        """Where the ground quad lies: its (x, z) centre per frame [T, 2] and one half-size [2].

        The quad covers the bodies and the eye plus a margin: with a fixed camera the whole
        motion (one centre for all frames, so the ground picture stays the same), with a
        moving one each frame's bodies (a quad of one size that moves with the camera). So
        its size never grows with the distance a motion travels under a following camera, and
        it is 4 vertices whatever its size. Centres lie on the checker's 2-tile grid, so the
        checkers stay put on the ground while the quad moves.
        """
        low, high = _bounds_of(job.bodies)
        margin = 2.0 + 2.0 * float(high[1] - low[1])
        eyes = np.stack([c.pose[:3, 3] for c in job.cameras])[:, [0, 2]]
        if all(np.array_equal(c.pose, job.cameras[0].pose) for c in job.cameras[1:]):
            lows = np.minimum(low[[0, 2]], eyes.min(0))[None].repeat(job.frames, 0)
            highs = np.maximum(high[[0, 2]], eyes.max(0))[None].repeat(job.frames, 0)
        else:
            lows = np.min([b.min(1) for b in job.bodies], axis=0)[:, [0, 2]]  # [T, 2]
            highs = np.max([b.max(1) for b in job.bodies], axis=0)[:, [0, 2]]
            lows, highs = np.minimum(lows, eyes), np.maximum(highs, eyes)
        period = 2.0 * self.ground_tile  # one light and one dark tile
        centres = np.round((lows + highs) / 2 / period) * period
        reach = np.maximum(highs - centres, centres - lows).max(0) + margin
        return centres, np.ceil(reach / period) * period

    def _ground_mesh(self, half: np.ndarray) -> Any:
        """The checkered ground: one quad [-half, half] in x and z at y = 0 (placed by its
        node's pose) with a repeating checker texture, one texture period per 2 tiles.

        A texture, not a grid of tiles: memory stays flat however far the ground reaches (a
        grid of quads grew with the square of the distance travelled: 1 GB at 54 m). The
        texture holds the two tile colours (CHECKER_LIGHT / DARK, in sRGB: the shader turns
        the texture into linear light, as it does the vertex colours of before) and is
        mipmapped, so far tiles blend to grey instead of flickering.
        """
        pyrender = self._pyrender
        from pyrender.constants import GLTF

        x, z = float(half[0]), float(half[1])
        corners = np.array([[-x, -z], [-x, z], [x, z], [x, -z]])  # counter-clockwise seen from +Y
        positions = np.stack([corners[:, 0], np.zeros(4), corners[:, 1]], axis=-1)
        uv = (corners + half) / (2.0 * self.ground_tile)  # whole periods from the corner: in phase
        material = pyrender.MetallicRoughnessMaterial(
            baseColorFactor=[1.0, 1.0, 1.0, 1.0], metallicFactor=0.0, roughnessFactor=1.0,
            baseColorTexture=pyrender.Texture(
                source=_checker_texture(), source_channels="RGB",
                sampler=pyrender.Sampler(
                    magFilter=GLTF.LINEAR, minFilter=GLTF.LINEAR_MIPMAP_LINEAR,
                    wrapS=GLTF.REPEAT, wrapT=GLTF.REPEAT,
                ),
            ),
        )  # fmt: skip
        primitive = pyrender.Primitive(
            positions=positions.astype(np.float32),
            normals=np.tile(np.float32([0.0, 1.0, 0.0]), (4, 1)),
            texcoord_0=uv.astype(np.float32),
            indices=np.array([[0, 1, 2], [0, 2, 3]], dtype=np.int32),
            material=material,
        )
        return pyrender.Mesh([primitive])

    def _ground_pose(self, job: _Job, centres: np.ndarray, t: int) -> np.ndarray:
        """The ground node's pose in frame t: the quad's centre, at the motion's lowest vertex."""
        pose = np.eye(4)
        pose[[0, 1, 2], 3] = centres[t, 0], float(_bounds_of(job.bodies)[0][1]), centres[t, 1]
        return pose

    def _body_mesh(self, vertices: np.ndarray, faces: np.ndarray, material: Any) -> Any:
        pyrender = self._pyrender
        primitive = pyrender.Primitive(
            positions=vertices,
            normals=vertex_normals(vertices, faces).astype(np.float32),
            indices=faces,
            material=material,
        )
        return pyrender.Mesh([primitive])

    def _add_lights(self, scene: Any, bodies: list[np.ndarray]) -> None:
        """Two directional lights (key and fill) aimed at the centre of the whole motion."""
        pyrender = self._pyrender
        centre = np.mean(_bounds_of(bodies), axis=0)
        for direction, intensity in (((1.0, 2.0, 2.0), 3.0), ((-1.5, 1.0, -1.0), 1.5)):
            eye = centre + np.asarray(direction)
            scene.add(
                pyrender.DirectionalLight(color=np.ones(3), intensity=intensity),
                pose=look_at(eye, centre),
            )

    def _scene(self, job: _Job, *, bodies: bool = True) -> tuple[Any, Any, list[Any]]:
        """The whole scene (ground, lights, camera at frame 0's pose, and with `bodies` the
        bodies at frame 0) -> (scene, camera node, body nodes). With a ground, `job.ground`
        is set: its node and its pose per frame."""
        pyrender = self._pyrender
        scene = pyrender.Scene(bg_color=[*self.background, 1.0], ambient_light=[AMBIENT] * 3)
        if self.ground:
            centres, half = self._ground_placement(job)
            poses = [self._ground_pose(job, centres, t) for t in range(job.frames)]
            job.ground = (scene.add(self._ground_mesh(half), pose=poses[0]), poses)
        self._add_lights(scene, job.bodies)
        first = job.cameras[0]
        camera_node = scene.add(
            pyrender.PerspectiveCamera(
                yfov=self.yfov, aspectRatio=first.aspect, znear=first.znear, zfar=job.zfar
            ),
            pose=first.pose,
        )
        nodes = self._add_bodies(scene, job) if bodies else []
        return scene, camera_node, nodes

    def _add_bodies(self, scene: Any, job: _Job) -> list[Any]:
        """Add one mesh node per body, posed as in frame 0; -> the nodes."""
        return [
            scene.add(self._body_mesh(body[0], face, material))
            for body, face, material in zip(job.bodies, job.faces, job.materials)
        ]

    def _pose(self, nodes: list[Any], job: _Job, t: int) -> None:
        """Give each body node its mesh of frame t (frame 0 is there from `_add_bodies`)."""
        if t == 0:
            return
        for node, body, face, material in zip(nodes, job.bodies, job.faces, job.materials):
            node.mesh = self._body_mesh(body[t], face, material)

    def _draw(self, scene: Any, width: int, height: int, flags: int) -> tuple[Any, Any]:
        """One pyrender render of `scene` at width x height on the shared context."""
        from .gl import RENDER_LOCK, offscreen_renderer

        with RENDER_LOCK:  # one shared OpenGL context (see vhdiff.viz.gl)
            self._renderer = offscreen_renderer(width, height)
            return self._renderer.render(scene, flags=flags)

    # ---- rendering ----------------------------------------------------------------------------

    def _prepare(self, bodies: Any, faces: Any, camera: Camera | Sequence[Camera] | None) -> _Job:
        """Check the input and choose the cameras (ValueError on bad input)."""
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
        materials = [
            pyrender.MetallicRoughnessMaterial(
                baseColorFactor=[*self.body_colors[i % len(self.body_colors)], 1.0],
                metallicFactor=0.0,
                roughnessFactor=0.6,
            )
            for i in range(len(body_list))
        ]
        return _Job(bodies=body_list, faces=face_list, cameras=cameras, materials=materials)

    def iter_frames(
        self, bodies: Any, faces: Any, *, camera: Camera | Sequence[Camera] | None = None
    ) -> Iterator[np.ndarray]:
        """Render a motion frame by frame: an iterator of uint8 [H, W, 3] frames, in order.

        Same arguments and pictures as `render` (without depth). The input is checked
        now (ValueError before any frame is drawn); each frame is drawn when the iterator
        is advanced, so a writer can encode frame t while frame t + 1 is drawn (see
        `vhdiff.viz.writers.write_mp4`, which takes such an iterator) and only one frame
        is held at a time.
        """
        return self._frames(self._prepare(bodies, faces, camera))

    def _frames(self, job: _Job) -> Iterator[np.ndarray]:
        if self._ground_is_static(job):
            return self._composited_frames(job)
        return (color for color, _ in self._scene_frames(job, depth=False))

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
        job = self._prepare(bodies, faces, camera)
        colors = np.empty((job.frames, self.height, self.width, 3), dtype=np.uint8)
        if not return_depth:
            for t, color in enumerate(self._frames(job)):
                colors[t] = color
            return colors
        depths = np.empty((job.frames, self.height, self.width), dtype=np.float32)
        for t, (color, depth) in enumerate(self._scene_frames(job, depth=True)):
            colors[t], depths[t] = color, depth
        return colors, depths

    def _scene_frames(self, job: _Job, *, depth: bool) -> Iterator[tuple[np.ndarray, Any]]:
        """Draw the whole scene (ground, lights, bodies) for every frame -> (uint8 [H, W, 3]
        colour, float32 [H, W] depth or None)."""
        pyrender = self._pyrender
        scene, camera_node, nodes = self._scene(job)
        flags = (
            pyrender.RenderFlags.SHADOWS_DIRECTIONAL if self.shadows else pyrender.RenderFlags.NONE
        )
        for t in range(job.frames):
            self._pose(nodes, job, t)
            scene.set_pose(camera_node, pose=job.cameras[t].pose)
            if job.ground is not None:  # the quad moves with a moving camera
                scene.set_pose(job.ground[0], pose=job.ground[1][t])
            color, depth_map = self._draw(scene, self.width, self.height, flags)
            yield color[..., :3], (depth_map if depth else None)
        # (the next render's new scene makes pyrender free this scene's GPU buffers)

    # ---- the fast path: a static ground drawn once -----------------------------------------

    def _ground_is_static(self, job: _Job) -> bool:
        """True when every frame shows the same ground picture behind the bodies, so it can be
        drawn once: one camera pose for all frames, no shadows (a body's shadow changes the
        ground), and the camera above the ground plane (then the ground, at the lowest
        vertex of the motion, never hides a body: every sight line from the eye to a point
        at or above the plane stays above it)."""
        first = job.cameras[0].pose
        if self.shadows or any(not np.array_equal(c.pose, first) for c in job.cameras[1:]):
            return False
        floor = float(_bounds_of(job.bodies)[0][1])
        return not self.ground or float(first[1, 3]) > floor + 1e-6

    def _body_windows(self, job: _Job) -> tuple[np.ndarray, int, int]:
        """Per frame the top-left pixel (col, row) [T, 2] of a window of one size, (width,
        height), that holds every pixel the bodies cover in that frame: the box of the
        projected vertices plus WINDOW_MARGIN pixels, kept inside the image. A frame with a
        vertex at or behind the near plane gets the whole image."""
        camera = job.cameras[0]
        size = np.array([self.width, self.height])
        low = np.zeros((job.frames, 2), dtype=np.int64)
        high = np.tile(size, (job.frames, 1))
        for t in range(job.frames):
            points = np.concatenate([body[t] for body in job.bodies])
            pixels, depth = camera.project(points)
            if depth.min() > camera.znear:
                low[t] = np.floor(pixels.min(0)) - WINDOW_MARGIN
                high[t] = np.ceil(pixels.max(0)) + WINDOW_MARGIN
        low, high = np.clip(low, 0, size), np.clip(high, 0, size)
        window = np.clip((high - low).max(0), 1, size)
        corners = np.minimum(low, size - window)
        return corners, int(window[0]), int(window[1])

    def _composited_frames(self, job: _Job) -> Iterator[np.ndarray]:
        """The same pictures as `_scene_frames`, drawn faster when `_ground_is_static`.

        The ground (with the background colour) is drawn once, at full size. Each frame
        then draws only the bodies, with the same lights, camera and 4x multisampling, over
        a transparent background into a small window around them (an off-centre crop of
        the full camera: principal point shifted by the window's corner), and lays that
        over the ground picture with the premultiplied "over" operator (Porter & Duff,
        Compositing Digital Images, 1984): out = body_rgb + (1 - body_alpha) * ground.
        Multisampling averages the covered samples with the transparent ones, so
        body_rgb is premultiplied by coverage and outline pixels blend with the ground as
        they do when both are drawn together (up to a grey level of rounding). On a CPU
        (Mesa llvmpipe) this is about 3x faster at 512x512: the checkered ground and most
        of the image are no longer shaded, resolved and read back every frame.
        """
        pyrender = self._pyrender
        background, _, _ = self._scene(job, bodies=False)
        ground = self._draw(background, self.width, self.height, pyrender.RenderFlags.NONE)[0]
        ground = np.ascontiguousarray(ground[..., :3])
        corners, width, height = self._body_windows(job)
        camera = job.cameras[0]
        focal = self.height / 2 / math.tan(self.yfov / 2)  # pixels; = PerspectiveCamera's
        window_camera = pyrender.IntrinsicsCamera(
            fx=focal, fy=focal, cx=self.width / 2, cy=self.height / 2,
            znear=camera.znear, zfar=job.zfar,
        )  # fmt: skip
        scene = pyrender.Scene(bg_color=[0.0, 0.0, 0.0, 0.0], ambient_light=[AMBIENT] * 3)
        self._add_lights(scene, job.bodies)
        scene.add(window_camera, pose=camera.pose)
        nodes = self._add_bodies(scene, job)
        for t in range(job.frames):
            self._pose(nodes, job, t)
            col, row = (int(c) for c in corners[t])
            window_camera.cx = self.width / 2 - col  # the window's pixel (0, 0) is (col, row)
            window_camera.cy = self.height / 2 - row
            rgba = self._draw(scene, width, height, pyrender.RenderFlags.RGBA)[0]
            frame = ground.copy()
            under = frame[row : row + height, col : col + width]
            covered = rgba[..., 3] > 0
            alpha = rgba[covered, 3:].astype(np.float32) * (1.0 / 255.0)
            over = rgba[covered, :3] + (1.0 - alpha) * under[covered]
            under[covered] = np.minimum(np.rint(over), 255).astype(np.uint8)
            yield frame


@dataclass
class _Job:
    """One checked render request."""

    bodies: list[np.ndarray]  # [T, V_i, 3] float32, arranged
    faces: list[np.ndarray]  # [F_i, 3] int32
    cameras: list[Camera]  # one per frame
    materials: list[Any]  # one pyrender material per body
    ground: tuple[Any, list[np.ndarray]] | None = None  # (the ground's node, its pose per frame)

    @property
    def frames(self) -> int:
        return self.bodies[0].shape[0]

    @property
    def zfar(self) -> float:
        return max(c.zfar for c in self.cameras) + 50.0
