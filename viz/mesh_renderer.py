"""Offscreen mesh rendering with pyrender: posed bodies over a checkered ground plane.

    from vhdiff.body import load_body_model
    from vhdiff.viz.mesh_renderer import MeshRenderer

    out = body(**motion.to_torch())                       # BodyOutput, vertices [T, V, 3]
    with MeshRenderer(width=512, height=512) as renderer:
        frames = renderer.render(out.vertices, out.faces)  # uint8 [T, 512, 512, 3]
        frames = renderer.render([motion_a, motion_b], faces)  # two bodies side by side
        write_mp4("walk.mp4", renderer.iter_frames(out.vertices, out.faces), fps=20)  # streamed

Conventions (vhdiff.body): Y up, metres, bodies face +Z. The floor lies at the motion's
own ground, y = 0 (vhdiff.viz.ground.floor_level), and shows each frame's soft contact
shadow (vhdiff.viz.ground.contact_shadow: a blended, textured quad just above the floor).
The look (floor, background, shadow) is vhdiff.viz.ground's, shared with the point-cloud
pictures and image grids. The camera fits the motion tightly ("frame") or follows the
body ("follow"), see vhdiff.viz.camera. One OpenGL context serves the whole process; each
motion gets one scene (ground, lights) where only the body meshes and the shadow change
from frame to frame. With one fixed camera (the default) the ground is drawn once per
motion and each frame draws only the bodies and their shadow, in a small window, laid over
it (see `MeshRenderer._composited_frames`).
OpenGL is set up by `vhdiff.viz.gl` (EGL by default; a clear error when unavailable).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from .camera import AZIMUTH, ELEVATION, Camera, bounds, follow_points, look_at, tight_camera
from .ground import (
    BACKGROUND,
    ContactShadow,
    FloorLevel,
    checker_texture,
    contact_shadow,
    floor_level,
    shadow_rectangle,
)

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
WINDOW_STEP = 32  # pixels: the fast path's window sides are multiples of this
FLOOR_GAP = 0.001  # metres: the floor quad lies this far below the floor's height
SHADOW_LIFT = 0.002  # metres: the shadow quad lies this far above the floor (no z-fighting)
SHADOW_ALPHA_FACTOR = 0.999  # < 1: pyrender draws the shadow quad after the opaque meshes


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


def _translation(x: float, y: float, z: float) -> np.ndarray:
    """A node pose [4, 4] that moves by (x, y, z)."""
    pose = np.eye(4)
    pose[:3, 3] = x, y, z
    return pose


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
        yfov_deg: vertical field of view of the camera (25 degrees: a portrait lens, so the
            near and the far end of a walk differ less in size than with a wide one).
        azimuth, elevation: camera direction in degrees (0, 0 = in front of a body facing +Z;
            see vhdiff.viz.camera.view_direction).
        camera: "frame" = one fixed camera, the nearest that sees every frame of the motion,
            moved sideways and up or down so the motion fills the picture
            (vhdiff.viz.camera.tight_camera); "follow" = a camera that keeps its direction
            and one distance and moves with the bodies over the ground, so they stay large
            (vhdiff.viz.camera.follow_points).
        ground: draw the checkered floor.
        floor: its height: "auto" (y = 0, the motion's ground, unless the motion is far from
            it; see vhdiff.viz.ground.floor_level), "lowest" (the lowest vertex) or a number.
        contact_shadows: the soft shadow under the bodies on the floor (vhdiff.viz.ground).
        ground_tile: checker size in metres.
        background: RGB in [0, 1] (default: the floor's far colour, vhdiff.viz.ground).
        body_colors: RGB per body (cycled).
        arrange: with several bodies, place them side by side (True) or where they are.
        shadows: directional-light shadows on the bodies (slower on a CPU); the floor, which
            is unlit (its colours are vhdiff.viz.ground's), shows the contact shadow.
    """

    def __init__(
        self,
        *,
        width: int = 512,
        height: int = 512,
        yfov_deg: float = 25.0,
        azimuth: float = AZIMUTH,
        elevation: float = ELEVATION,
        camera: CameraMode = "frame",
        ground: bool = True,
        floor: FloorLevel = "auto",
        contact_shadows: bool = True,
        ground_tile: float = 0.5,
        background: Sequence[float] = BACKGROUND,
        body_colors: Sequence[Sequence[float]] = BODY_COLORS,
        arrange: bool = True,
        shadows: bool = False,
    ) -> None:
        if camera not in ("frame", "follow"):
            raise ValueError(f"camera must be 'frame' or 'follow', got {camera!r}")
        if not 1.0 <= yfov_deg <= 170.0:
            raise ValueError(f"yfov_deg must be in [1, 170] degrees, got {yfov_deg}")
        floor_level(np.zeros((1, 3)), floor)  # ValueError now for an unknown floor
        from .gl import load_pyrender, offscreen_renderer

        self._pyrender = load_pyrender()
        self._renderer = offscreen_renderer(width, height)  # the process-wide context
        self.width, self.height = width, height
        self.yfov = math.radians(yfov_deg)
        self.azimuth, self.elevation = azimuth, elevation
        self.camera_mode = camera
        self.ground, self.ground_tile = ground, ground_tile
        self.floor, self.contact_shadows = floor, contact_shadows
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
        common = {"width": self.width, "height": self.height, "yfov": self.yfov,
                  "azimuth": self.azimuth, "elevation": self.elevation}  # fmt: skip
        if self.camera_mode == "follow":
            return follow_points(everything, **common)
        return [tight_camera(everything, **common)] * everything.shape[0]

    # ---- scene ------------------------------------------------------------------------------

    def _ground_placement(self, job: _Job) -> tuple[np.ndarray, np.ndarray]:
        """Where the ground quad lies: its (x, z) centre per frame [T, 2] and one half-size [2].

        The quad covers the bodies and the eye plus a margin: with a fixed camera the whole
        motion (one centre for all frames, so the ground picture stays the same), with a
        moving one each frame's bodies (a quad of one size that moves with the camera). So
        its size never grows with the distance a motion travels under a following camera, and
        it is 4 vertices whatever its size. Centres lie on the checker's 2-tile grid, so the
        checkers stay put on the ground while the quad moves. The margin reaches past where
        a tile is seen one pixel deep (a tile t at distance d from an eye h above the floor
        looks about t h f / d^2 pixels deep, f the focal length in pixels): the mipmapped
        tiles there are their mean grey, the background's colour, so the floor has no edge.
        """
        low, high = _bounds_of(job.bodies)
        eye_height = max(float(c.pose[1, 3]) - job.floor for c in job.cameras)
        focal = self.height / 2 / math.tan(self.yfov / 2)
        horizon = 1.5 * math.sqrt(self.ground_tile * max(eye_height, 0.0) * focal)
        margin = max(2.0 + 2.0 * float(high[1] - low[1]), horizon)
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
        texture holds the two tile colours (vhdiff.viz.ground.CHECKER_LIGHT / DARK, sRGB) and
        is mipmapped, so far tiles blend to grey instead of flickering. It is emissive and
        unlit (black, fully metallic: no diffuse, no specular light), so the floor shows
        exactly vhdiff.viz.ground's colours (`displayed`), whatever the lights, as the
        point-cloud pictures' numpy floor does.
        """
        pyrender = self._pyrender
        from pyrender.constants import GLTF

        x, z = float(half[0]), float(half[1])
        corners = np.array([[-x, -z], [-x, z], [x, z], [x, -z]])  # counter-clockwise seen from +Y
        positions = np.stack([corners[:, 0], np.zeros(4), corners[:, 1]], axis=-1)
        uv = (corners + half) / (2.0 * self.ground_tile)  # whole periods from the corner: in phase
        material = pyrender.MetallicRoughnessMaterial(
            baseColorFactor=[0.0, 0.0, 0.0, 1.0], metallicFactor=1.0, roughnessFactor=1.0,
            emissiveFactor=[1.0, 1.0, 1.0],
            emissiveTexture=pyrender.Texture(
                source=checker_texture(), source_channels="RGB",
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
        """The ground node's pose in frame t: the quad's centre, FLOOR_GAP below the floor's
        height (soles that rest exactly on the floor would otherwise fight it for depth)."""
        return _translation(centres[t, 0], job.floor - FLOOR_GAP, centres[t, 1])

    def _shadow(self, job: _Job, t: int) -> ContactShadow | None:
        """The bodies' contact shadow in frame t (None without one)."""
        if not (self.ground and self.contact_shadows):
            return None
        return contact_shadow(np.concatenate([body[t] for body in job.bodies]), floor=job.floor)

    def _shadow_mesh(self, shadow: ContactShadow, *, over_transparent: bool) -> Any:
        """The shadow as a quad SHADOW_LIFT above the floor over the shadow's rectangle: black,
        with the shadow's opacity as alpha, blended over what is behind it (after the opaque
        bodies, which hide it where they are in front).

        Blending (source alpha, 1 - source alpha) leaves the floor times (1 - opacity). Over a
        transparent background (the fast path's body window, `over_transparent`) the same
        blend leaves colour 0 and alpha = a^2 for a texture alpha a; the window is then laid
        over the ground with the "over" operator, floor * (1 - a^2): so there the texture
        holds a = sqrt(opacity), and both paths darken the floor alike.
        """
        pyrender = self._pyrender
        from pyrender.constants import GLTF

        alpha = np.sqrt(shadow.opacity) if over_transparent else shadow.opacity
        rgba = np.zeros((*shadow.opacity.shape[::-1], 4), dtype=np.uint8)
        rgba[..., 3] = np.rint(255.0 * alpha.T[::-1])  # texture rows run against z (as v)
        (x0, z0), (x1, z1) = shadow.origin, shadow.origin + shadow.size
        positions = np.array([[x0, 0, z0], [x0, 0, z1], [x1, 0, z1], [x1, 0, z0]], np.float32)
        uv = np.array([[0, 0], [0, 1], [1, 1], [1, 0]], dtype=np.float32)
        # an alpha factor below 1 makes pyrender count the quad as transparent and draw it
        # after every opaque mesh (with a texture alpha of bytes it looks only for a 0); drawn
        # among them it could come before the floor, blend with the background and hide
        # the floor under it by depth
        material = pyrender.MetallicRoughnessMaterial(
            baseColorFactor=[0.0, 0.0, 0.0, SHADOW_ALPHA_FACTOR], metallicFactor=1.0,
            roughnessFactor=1.0, alphaMode="BLEND",
            baseColorTexture=pyrender.Texture(
                source=rgba, source_channels="RGBA",
                sampler=pyrender.Sampler(
                    magFilter=GLTF.LINEAR, minFilter=GLTF.LINEAR,
                    wrapS=GLTF.CLAMP_TO_EDGE, wrapT=GLTF.CLAMP_TO_EDGE,
                ),
            ),
        )  # fmt: skip
        primitive = pyrender.Primitive(
            positions=positions + np.float32([0.0, SHADOW_LIFT, 0.0]),
            normals=np.tile(np.float32([0.0, 1.0, 0.0]), (4, 1)),
            texcoord_0=uv,
            indices=np.array([[0, 1, 2], [0, 2, 3]], dtype=np.int32),
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

    def _scene(self, job: _Job, *, bodies: bool = True) -> tuple[Any, Any, _Actors | None]:
        """The whole scene (ground, lights, camera at frame 0's pose, and with `bodies` the
        bodies and their shadow at frame 0) -> (scene, camera node, actors or None). With a
        ground, `job.ground` is set: its node and its pose per frame; `job.zfar` then
        reaches its far corners."""
        pyrender = self._pyrender
        scene = pyrender.Scene(bg_color=[*self.background, 1.0], ambient_light=[AMBIENT] * 3)
        if self.ground:
            centres, half = self._ground_placement(job)
            poses = [self._ground_pose(job, centres, t) for t in range(job.frames)]
            job.ground = (scene.add(self._ground_mesh(half), pose=poses[0]), poses)
            eyes = np.stack([c.pose[:3, 3] for c in job.cameras])
            reach = np.abs(eyes[:, [0, 2]] - centres).max() + float(half.max())
            job.zfar = max(job.zfar, math.sqrt(2.0) * reach + float(np.abs(eyes[:, 1]).max()))
        self._add_lights(scene, job.bodies)
        first = job.cameras[0]
        camera_node = scene.add(
            pyrender.PerspectiveCamera(
                yfov=self.yfov, aspectRatio=first.aspect, znear=first.znear, zfar=job.zfar
            ),
            pose=first.pose,
        )
        actors = self._add_actors(scene, job, over_transparent=False) if bodies else None
        return scene, camera_node, actors

    def _add_actors(self, scene: Any, job: _Job, *, over_transparent: bool) -> _Actors:
        """Add one mesh node per body and the contact shadow, as in frame 0; -> the nodes."""
        actors = _Actors(
            scene=scene,
            bodies=[
                scene.add(self._body_mesh(body[0], face, material))
                for body, face, material in zip(job.bodies, job.faces, job.materials)
            ],
            over_transparent=over_transparent,
        )
        self._pose_shadow(actors, job, 0)
        return actors

    def _pose(self, actors: _Actors, job: _Job, t: int) -> None:
        """Give each body node its mesh of frame t (frame 0 is there from `_add_actors`) and
        the shadow its frame t."""
        if t == 0:
            return
        for node, body, face, material in zip(actors.bodies, job.bodies, job.faces, job.materials):
            node.mesh = self._body_mesh(body[t], face, material)
        self._pose_shadow(actors, job, t)

    def _pose_shadow(self, actors: _Actors, job: _Job, t: int) -> None:
        """The shadow node shows frame t's contact shadow (added at the first frame that has
        one, hidden in frames without)."""
        shadow = self._shadow(job, t)
        if shadow is None:
            if actors.shadow is not None:
                actors.shadow.mesh.is_visible = False
            return
        mesh = self._shadow_mesh(shadow, over_transparent=actors.over_transparent)
        if actors.shadow is None:
            actors.shadow = actors.scene.add(mesh, pose=_translation(0.0, job.floor, 0.0))
        else:
            actors.shadow.mesh = mesh


    def _draw(self, scene: Any, width: int, height: int, flags: int) -> tuple[Any, Any]:
        """One pyrender render of `scene` at width x height on the shared context."""
        from .gl import RENDER_LOCK, offscreen_renderer, release_context

        with RENDER_LOCK:  # one shared OpenGL context (see vhdiff.viz.gl)
            self._renderer = offscreen_renderer(width, height)
            try:
                return self._renderer.render(scene, flags=flags)
            finally:
                release_context()  # so another thread (the app's worker) can make it current

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
        floor = floor_level(np.array([_bounds_of(body_list)[0]]), self.floor)
        return _Job(bodies=body_list, faces=face_list, cameras=cameras, materials=materials,
                    floor=floor, zfar=max(c.zfar for c in cameras) + 50.0)  # fmt: skip

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
        scene, camera_node, actors = self._scene(job)
        flags = (
            pyrender.RenderFlags.SHADOWS_DIRECTIONAL if self.shadows else pyrender.RenderFlags.NONE
        )
        for t in range(job.frames):
            self._pose(actors, job, t)
            scene.set_pose(camera_node, pose=job.cameras[t].pose)
            if job.ground is not None:  # the quad moves with a moving camera
                scene.set_pose(job.ground[0], pose=job.ground[1][t])
            color, depth_map = self._draw(scene, self.width, self.height, flags)
            yield color[..., :3], (depth_map if depth else None)
        # (the next render's new scene makes pyrender free this scene's GPU buffers)

    # ---- the fast path: a static ground drawn once -----------------------------------------

    def _ground_is_static(self, job: _Job) -> bool:
        """True when every frame shows the same ground picture behind the bodies, so it can be
        drawn once: one camera pose for all frames, no directional shadows (a body's shadow
        changes the ground; the contact shadow is drawn with the bodies), and the camera
        above the floor (then the floor hides no part of a body above it: every sight line
        from the eye to a point at or above the plane stays above it)."""
        first = job.cameras[0].pose
        if self.shadows or any(not np.array_equal(c.pose, first) for c in job.cameras[1:]):
            return False
        return not self.ground or float(first[1, 3]) > job.floor + 1e-6

    def _body_windows(self, job: _Job) -> tuple[np.ndarray, np.ndarray]:
        """Per frame the top-left pixel (col, row) [T, 2] and the size (width, height) [T, 2]
        of a window that holds every pixel the bodies and their shadow cover in that frame:
        the box of the projected vertices and shadow corners plus WINDOW_MARGIN pixels, its
        sides rounded up to WINDOW_STEP pixels (few framebuffer sizes: each new one costs a
        reallocation), kept inside the image. A frame with a point at or behind the near
        plane gets the whole image."""
        camera = job.cameras[0]
        size = np.array([self.width, self.height])
        low = np.zeros((job.frames, 2), dtype=np.int64)
        high = np.tile(size, (job.frames, 1))
        for t in range(job.frames):
            points = np.concatenate([body[t] for body in job.bodies])
            rectangle = (
                shadow_rectangle(points, floor=job.floor)
                if self.ground and self.contact_shadows
                else None
            )
            if rectangle is not None:
                (x0, z0), (x1, z1) = rectangle
                y = job.floor + SHADOW_LIFT
                corners = np.array([[x0, y, z0], [x0, y, z1], [x1, y, z0], [x1, y, z1]])
                points = np.concatenate([points, corners.astype(points.dtype)])
            pixels, depth = camera.project(points)
            if depth.min() > camera.znear:
                low[t] = np.floor(pixels.min(0)) - WINDOW_MARGIN
                high[t] = np.ceil(pixels.max(0)) + WINDOW_MARGIN
        low, high = np.clip(low, 0, size), np.clip(high, 0, size)
        window = np.minimum(-(-np.maximum(high - low, 1) // WINDOW_STEP) * WINDOW_STEP, size)
        return np.minimum(low, size - window), window

    def _composited_frames(self, job: _Job) -> Iterator[np.ndarray]:
        """The same pictures as `_scene_frames`, drawn faster when `_ground_is_static`.

        The ground (with the background colour) is drawn once, at full size. Each frame
        then draws only the bodies and their shadow (see `_shadow_mesh` for how it is
        blended), with the same lights, camera and 4x multisampling, over
        a transparent background into a small window around them (an off-centre crop of
        the full camera: principal point shifted by the window's corner), and lays that
        over the ground picture with the premultiplied "over" operator (Porter & Duff,
        Compositing Digital Images, 1984): out = body_rgb + (1 - body_alpha) * ground.
        Multisampling averages the covered samples with the transparent ones, so
        body_rgb is premultiplied by coverage and outline pixels blend with the ground as
        they do when both are drawn together (up to a grey level of rounding). The floor is
        not in the window: a sole below the floor shows whole here, cut by the floor there. On a CPU
        (Mesa llvmpipe) this is about 3x faster at 512x512: the checkered ground and most
        of the image are no longer shaded, resolved and read back every frame.
        """
        pyrender = self._pyrender
        background, _, _ = self._scene(job, bodies=False)
        ground = self._draw(background, self.width, self.height, pyrender.RenderFlags.NONE)[0]
        ground = np.ascontiguousarray(ground[..., :3])
        corners, sizes = self._body_windows(job)
        camera = job.cameras[0]
        focal = self.height / 2 / math.tan(self.yfov / 2)  # pixels; = PerspectiveCamera's
        window_camera = pyrender.IntrinsicsCamera(
            fx=focal, fy=focal, cx=self.width / 2, cy=self.height / 2,
            znear=camera.znear, zfar=job.zfar,
        )  # fmt: skip
        scene = pyrender.Scene(bg_color=[0.0, 0.0, 0.0, 0.0], ambient_light=[AMBIENT] * 3)
        self._add_lights(scene, job.bodies)
        scene.add(window_camera, pose=camera.pose)
        actors = self._add_actors(scene, job, over_transparent=True)
        for t in range(job.frames):
            self._pose(actors, job, t)
            (col, row), (width, height) = corners[t].tolist(), sizes[t].tolist()
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
    floor: float  # the floor's height
    zfar: float  # the far clipping plane: beyond the bodies (and the ground, once placed)
    ground: tuple[Any, list[np.ndarray]] | None = None  # (the ground's node, its pose per frame)

    @property
    def frames(self) -> int:
        return self.bodies[0].shape[0]


@dataclass
class _Actors:
    """What changes from frame to frame in a scene: the body nodes and the shadow's node."""

    scene: Any
    bodies: list[Any]
    over_transparent: bool  # the shadow is drawn over a transparent background
    shadow: Any = None
