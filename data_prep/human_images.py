"""`vhdiff prep human-images OUT`: a labelled set of rendered human images with captions.

Writes, in the layout :class:`vhdiff.image.data.ImageFolder` reads::

    OUT/images/ID.png        RGB, size x size (32 or 64), 8-bit
    OUT/texts/ID.txt         one caption: pose family, view and clothing colours
    OUT/train.txt val.txt test.txt    80 / 10 / 10 % of the IDs, stratified by pose family
    OUT/labels.jsonl         one JSON line per image: id, split, family (+ its index), view,
                             azimuth, elevation, colours, background, body shape, caption
    OUT/dataset.json         how it was made: kind "human-images", counts, size, seed, the
                             families, views, colours, backgrounds, render speed (written last)

What an image shows:

- a pose of one of POSE_FAMILIES (standing, raising both arms, raising the right arm, ...),
  a frame picked from a procedural clip of :mod:`vhdiff.data_prep.motion_vocab` (the
  family's segment with fixed parameters; the frames near the clip's peak, see
  `PoseFamily.pick`), so the poses are those the motion set teaches. Jumping and turning are
  left out: a still frame of either, without a floor, looks like standing.
- the body of `load_body_model` (the mannequin, or SMPL with VHDIFF_SMPL_DIR) in one of
  `shapes` random body shapes (motion_vocab's betas prior);
- clothing by vertex region (`clothing_regions`: skin, shirt, trousers, shoes, from each
  vertex's nearest bone in the rest pose), shirt / trousers / shoes in named colours;
- a view (front, front left, left, back, right, front right; azimuth jittered by up to 12
  degrees, elevation 0 to 20 degrees), random key, fill and ambient light;
- a background that is not flat: a gradient, stripes, smooth noise or checks, with grain.

Rendering: pyrender offscreen through vhdiff.viz.gl (EGL; Mesa's llvmpipe on a CPU), one
scene reused for every image (only the body mesh, camera and lights change), the body
drawn over a transparent background at `supersample` x the size (128 pixels by default), laid over the background
("over" operator), then box-averaged down (antialiasing). Images are drawn grouped by body
shape (a shape change re-shapes the mannequin, ~40 ms). The set is built in a temporary
folder beside OUT and renamed into place (vhdiff.atomic_io.atomic_folder); an existing OUT
is replaced only when it is empty or an earlier human-images set, and then only with force.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np
from vhdiff.data_prep.motion_vocab.actions import build_segment
from vhdiff.data_prep.motion_vocab.clips import sample_betas
from vhdiff.data_prep.motion_vocab.poses import joint
from vhdiff.data_prep.motion_vocab.track import solve_root
from vhdiff.viz.camera import frame_points, look_at
from vhdiff.viz.mesh_renderer import vertex_normals

from vhdiff.atomic_io import FolderKind, atomic_folder, check_writable
from vhdiff.extras import require

__all__ = [
    "BACKGROUNDS",
    "CLOTHING_COLOURS",
    "HUMAN_IMAGES_KIND",
    "POSE_FAMILIES",
    "REGIONS",
    "SHOE_COLOURS",
    "SIZES",
    "VIEWS",
    "HumanImagesSummary",
    "ImageLabel",
    "PoseFamily",
    "PoseSource",
    "caption_for",
    "clothing_regions",
    "pose_sources",
    "write_human_images",
]

SIZES = (32, 64)
MAX_IMAGES = 1_000_000
SPLIT_FRACTIONS = {"train": 0.8, "val": 0.1, "test": 0.1}
FPS = 20.0
YFOV_DEG = 40.0
AZIMUTH_JITTER = 12.0  # degrees either side of a view's azimuth
ELEVATION_RANGE = (0.0, 20.0)
MARGIN_RANGE = (1.08, 1.3)  # how much room the camera leaves around the body
GRAIN = 1.5 / 255.0  # background grain (standard deviation) in the final image's pixels
POSE_CHUNK = 32  # bodies per body-model call
RENDER_SIZE = 128  # pixels drawn per side before the box filter (the default supersample)


@dataclass(frozen=True, kw_only=True)
class PoseFamily:
    """A pose family: its caption words, the motion_vocab segments it is taken from (one
    drawn per image) and which frames of a segment show it.

    pick: "peak" the frames whose joint angles and lean differ from the segment's first
    (standing) frame by at least 90% of the largest difference; "stride" the frames whose
    hips are spread by at least 85% of the widest stride; "leg_lift" those whose higher
    thigh is lifted by at least 85% of its highest lift; "any" every frame.
    """

    name: str
    phrase: str
    segments: tuple[dict[str, Any], ...]
    pick: Literal["peak", "stride", "leg_lift", "any"] = "peak"


def _raise(side: str, height: str) -> dict[str, Any]:
    return {"family": "raise_arm", "side": side, "height": height, "hold": 1.0}


POSE_FAMILIES: dict[str, PoseFamily] = {
    f.name: f
    for f in (
        PoseFamily(name="standing", phrase="standing", pick="any",
                   segments=({"family": "stand_still", "duration": 3.0},)),
        PoseFamily(name="raising_both_arms", phrase="raising both arms",
                   segments=(_raise("both", "overhead"),)),
        PoseFamily(name="raising_right_arm", phrase="raising the right arm",
                   segments=(_raise("right", "overhead"),)),
        PoseFamily(name="raising_left_arm", phrase="raising the left arm",
                   segments=(_raise("left", "overhead"),)),
        PoseFamily(name="arms_out", phrase="holding both arms out to the sides",
                   segments=(_raise("both", "shoulder"),)),
        PoseFamily(name="squatting", phrase="squatting",
                   segments=({"family": "squat", "repetitions": 1, "depth": "deep"},)),
        PoseFamily(name="walking", phrase="walking", pick="stride",
                   segments=({"family": "walk", "speed": "normal", "direction": "forward",
                              "curve": "none", "duration": 4.0},)),
        PoseFamily(name="kicking", phrase="kicking", pick="leg_lift",
                   segments=tuple({"family": "kick", "side": side, "height": "high",
                                   "repetitions": 1} for side in ("left", "right"))),
        PoseFamily(name="sitting", phrase="sitting",
                   segments=({"family": "sit_down", "speed": "normal", "hold": 1.5},)),
        PoseFamily(name="bowing", phrase="bowing",
                   segments=({"family": "bow", "depth": "deep", "hold": 1.0},)),
    )
}  # fmt: skip

# view -> (caption words, camera azimuth in degrees; vhdiff.viz.camera: +90 = the body's left)
VIEWS: dict[str, tuple[str, float]] = {
    "front": ("the front", 0.0),
    "front_left": ("the front left", 45.0),
    "left": ("the left", 90.0),
    "back": ("the back", 180.0),
    "right": ("the right", -90.0),
    "front_right": ("the front right", -45.0),
}

# sRGB in [0, 1]
CLOTHING_COLOURS: dict[str, tuple[float, float, float]] = {
    "red": (0.80, 0.12, 0.12),
    "orange": (0.95, 0.50, 0.10),
    "yellow": (0.95, 0.85, 0.15),
    "green": (0.15, 0.60, 0.20),
    "blue": (0.15, 0.30, 0.85),
    "purple": (0.50, 0.20, 0.65),
    "pink": (0.95, 0.55, 0.70),
    "white": (0.93, 0.93, 0.93),
    "grey": (0.50, 0.50, 0.50),
    "black": (0.08, 0.08, 0.08),
    "brown": (0.45, 0.28, 0.12),
}
SHOE_COLOURS = ("black", "white", "brown", "grey", "red", "blue")
SKIN_TONES: tuple[tuple[float, float, float], ...] = (
    (0.98, 0.84, 0.72),
    (0.92, 0.73, 0.58),
    (0.78, 0.57, 0.42),
    (0.58, 0.40, 0.28),
    (0.38, 0.25, 0.17),
)
REGIONS = ("skin", "shirt", "trousers", "shoes")
BACKGROUNDS = ("gradient", "stripes", "noise", "checks")

# Bones (SMPL joint pairs) of each clothing region; "hand" / "head_top" are points beyond
# the wrists and the head (see clothing_regions).
_BONES: dict[str, tuple[tuple[Any, Any], ...]] = {
    "shirt": ((0, 3), (3, 6), (6, 9), (9, 12), (9, 13), (9, 14), (13, 16), (14, 17),
              (16, 18), (17, 19)),
    "trousers": ((0, 1), (0, 2), (1, 4), (2, 5), (4, 7), (5, 8)),
    "skin": ((18, 20), (19, 21), (20, "left_hand"), (21, "right_hand"), (12, 15),
             (15, "head_top")),
}  # fmt: skip
HAND_LENGTH = 0.2  # metres beyond the wrist
HEAD_HEIGHT = 0.25  # metres above the head joint
SHOE_HEIGHT = 0.03  # metres above the higher ankle joint: below is shoe
WAIST = 0.5  # the waist lies this far from the pelvis joint towards spine1


def _is_human_images(folder: Path) -> bool:
    try:
        return (
            json.loads((folder / "dataset.json").read_text(encoding="utf-8"))["kind"]
            == "human-images"
        )
    except (OSError, ValueError, KeyError, TypeError):
        return False


HUMAN_IMAGES_KIND = FolderKind(
    name="human-images set", rule='holds dataset.json of kind "human-images"', test=_is_human_images
)


@dataclass(frozen=True, kw_only=True)
class ImageLabel:
    """What one image shows (a line of labels.jsonl)."""

    id: str
    split: str
    family: str
    family_index: int
    view: str
    azimuth: float
    elevation: float
    shirt: str
    trousers: str
    shoes: str
    skin: int
    background: str
    shape: int
    betas: list[float]
    caption: str


@dataclass(frozen=True, kw_only=True)
class HumanImagesSummary:
    """A written set: where, how many, how it was made, and how fast it rendered."""

    out: Path
    num: int
    size: int
    seed: int
    render_size: int
    splits: dict[str, int]
    families: dict[str, int]  # images per pose family
    seconds: float
    images_per_second: float
    labels: list[ImageLabel] = field(repr=False)


def caption_for(*, family: str, view: str, shirt: str, trousers: str, shoes: str) -> str:
    """'a person raising both arms, seen from the left, red shirt, blue trousers, black shoes'."""
    return (
        f"a person {POSE_FAMILIES[family].phrase}, seen from {VIEWS[view][0]}, {shirt} shirt, "
        f"{trousers} trousers, {shoes} shoes"
    )


# ---- the body's regions -----------------------------------------------------------------------


def clothing_regions(vertices: np.ndarray, joints: np.ndarray) -> np.ndarray:
    """Clothing region (index into REGIONS) per vertex of a body in its rest pose (arms out,
    standing on its feet): vertices [V, 3], joints [>= 22, 3] (SMPL order) -> int64 [V].

    Each vertex takes the region of its nearest bone (`_BONES`: torso, collars and upper
    arms -> shirt; hips and legs -> trousers; forearms, hands, neck and head -> skin); below
    the waist the shirt's vertices are trousers, and every vertex less than SHOE_HEIGHT
    above the higher ankle joint is shoe.
    """
    joints = np.asarray(joints, dtype=np.float64)[:22]
    vertices = np.asarray(vertices, dtype=np.float64)
    points = {i: joints[i] for i in range(22)}
    for side, wrist, elbow in (("left", 20, 18), ("right", 21, 19)):
        along = joints[wrist] - joints[elbow]
        points[f"{side}_hand"] = joints[wrist] + HAND_LENGTH * along / np.linalg.norm(along)
    points["head_top"] = joints[15] + np.array([0.0, HEAD_HEIGHT, 0.0])
    starts, ends, owners = [], [], []
    for region, bones in _BONES.items():
        for a, b in bones:
            starts.append(points[a])
            ends.append(points[b])
            owners.append(REGIONS.index(region))
    a, b = np.array(starts), np.array(ends)  # [S, 3]
    ab = b - a
    u = np.einsum("vsk,sk->vs", vertices[:, None] - a[None], ab) / (ab * ab).sum(1)
    nearest = a[None] + np.clip(u, 0.0, 1.0)[..., None] * ab[None]  # [V, S, 3]
    distance = ((vertices[:, None] - nearest) ** 2).sum(-1)
    regions = np.asarray(owners)[distance.argmin(1)]
    waist = joints[0, 1] + WAIST * (joints[3, 1] - joints[0, 1])
    y = vertices[:, 1]
    regions[(regions == REGIONS.index("shirt")) & (y < waist)] = REGIONS.index("trousers")
    regions[y < max(joints[7, 1], joints[8, 1]) + SHOE_HEIGHT] = REGIONS.index("shoes")
    return regions.astype(np.int64)


# ---- poses ------------------------------------------------------------------------------------


@dataclass
class PoseSource:
    """One segment of a family, solved to SMPL parameters once: global_orient [T, 3],
    body_pose [T, 21, 3], and the frames that show the family."""

    global_orient: np.ndarray
    body_pose: np.ndarray
    frames: np.ndarray


def _pick_frames(track: Any, pick: str) -> np.ndarray:
    angles = track.angles
    if pick == "any":
        return np.arange(track.frames)
    if pick == "stride":
        spread = np.abs(angles[:, joint("hip", "left"), 0] - angles[:, joint("hip", "right"), 0])
        return np.flatnonzero(spread >= 0.85 * spread.max())
    if pick == "leg_lift":  # negative hip x swings the thigh forward
        lift = -np.minimum(angles[:, joint("hip", "left"), 0], angles[:, joint("hip", "right"), 0])
        return np.flatnonzero(lift >= 0.85 * lift.max())
    lean = np.stack((track.pitch, track.roll), 1)
    change = np.abs(angles - angles[:1]).sum((1, 2)) + np.abs(lean - lean[:1]).sum(1)
    return np.flatnonzero(change >= 0.9 * change.max())


def pose_sources() -> dict[str, list[PoseSource]]:
    """Every family's segments (POSE_FAMILIES order) as SMPL parameters and their frames."""
    sources: dict[str, list[PoseSource]] = {}
    for name, family in POSE_FAMILIES.items():
        sources[name] = []
        for segment in family.segments:
            track = build_segment(dict(segment), FPS)
            motion = solve_root(track, fps=FPS, betas=np.zeros(10, np.float32))
            sources[name].append(
                PoseSource(
                    global_orient=motion.global_orient,
                    body_pose=motion.body_pose,
                    frames=_pick_frames(track, family.pick),
                )
            )
    return sources


# ---- what each image shows --------------------------------------------------------------------


@dataclass
class _Plan:
    """One image's random draws (everything but the label's text)."""

    family: str
    source: int
    frame: int
    view: str
    azimuth: float
    elevation: float
    margin: float
    shirt: str
    trousers: str
    shoes: str
    skin: int
    background: str
    background_seed: int
    shape: int
    key: tuple[float, float, float]  # azimuth (deg), elevation (deg), intensity
    fill: tuple[float, float, float]
    ambient: float


def _split_names(families: list[str], rng: np.random.Generator) -> list[str]:
    """A split per image, stratified: the images are taken family by family in turn
    (round robin, shuffled within each family); the first go to test, the next to val, the
    rest to train. With 3 or more images, val and test hold at least one each."""
    count = len(families)
    sizes = {name: round(fraction * count) for name, fraction in SPLIT_FRACTIONS.items()}
    if count >= 3:
        sizes["val"], sizes["test"] = max(sizes["val"], 1), max(sizes["test"], 1)
    else:
        sizes["val"] = sizes["test"] = 0
    rank = np.zeros(count, dtype=np.int64)  # position of each image within its family
    order = rng.permutation(count)
    seen: dict[str, int] = {}
    for index in order:
        rank[index] = seen.get(families[index], 0)
        seen[families[index]] = rank[index] + 1
    family_order = {name: i for i, name in enumerate(rng.permutation(sorted(seen)))}
    turns = sorted(range(count), key=lambda i: (rank[i], family_order[families[i]]))
    splits = ["train"] * count
    for position, index in enumerate(turns):
        if position < sizes["test"]:
            splits[index] = "test"
        elif position < sizes["test"] + sizes["val"]:
            splits[index] = "val"
    return splits


def _plan(
    rng: np.random.Generator, sources: dict[str, list[PoseSource]], *, num: int, shapes: int
) -> list[_Plan]:
    names = list(POSE_FAMILIES)
    families = [names[i] for i in rng.permutation(np.arange(num) % len(names))]
    colours, views = list(CLOTHING_COLOURS), list(VIEWS)
    plans = []
    for family in families:
        source = int(rng.integers(len(sources[family])))
        frames = sources[family][source].frames
        view = views[int(rng.integers(len(views)))]
        shirt, trousers = (colours[i] for i in rng.choice(len(colours), size=2, replace=False))
        plans.append(
            _Plan(
                family=family,
                source=source,
                frame=int(frames[rng.integers(len(frames))]),
                view=view,
                azimuth=VIEWS[view][1] + float(rng.uniform(-AZIMUTH_JITTER, AZIMUTH_JITTER)),
                elevation=float(rng.uniform(*ELEVATION_RANGE)),
                margin=float(rng.uniform(*MARGIN_RANGE)),
                shirt=shirt,
                trousers=trousers,
                shoes=SHOE_COLOURS[int(rng.integers(len(SHOE_COLOURS)))],
                skin=int(rng.integers(len(SKIN_TONES))),
                background=BACKGROUNDS[int(rng.integers(len(BACKGROUNDS)))],
                background_seed=int(rng.integers(2**31)),
                shape=int(rng.integers(shapes)),
                key=(
                    float(rng.uniform(-70, 70)),
                    float(rng.uniform(20, 60)),
                    float(rng.uniform(2.0, 3.5)),
                ),
                fill=(
                    float(rng.uniform(110, 250)),
                    float(rng.uniform(0, 40)),
                    float(rng.uniform(0.6, 1.5)),
                ),
                ambient=float(rng.uniform(0.25, 0.45)),
            )
        )
    return plans


# ---- backgrounds ------------------------------------------------------------------------------


def _background(kind: str, size: int, seed: int, *, factor: int) -> np.ndarray:
    """A background that is not flat: float32 [size, size, 3] in [0, 1] (linear in sRGB),
    with grain that keeps GRAIN after a box filter of `factor` x `factor` pixels."""
    rng = np.random.default_rng(seed)
    rows, cols = np.mgrid[0:size, 0:size].astype(np.float64) / size  # [0, 1)
    angle = rng.uniform(0, np.pi)
    along = cols * np.cos(angle) + rows * np.sin(angle)
    first, second = rng.uniform(0.05, 0.95, 3), rng.uniform(0.05, 0.95, 3)
    if kind == "gradient":
        weight = (along - along.min()) / max(float(np.ptp(along)), 1e-9)
    elif kind == "stripes":
        period = rng.uniform(0.08, 0.3)
        weight = 0.5 + 0.5 * np.tanh(4.0 * np.sin(2 * np.pi * along / period))
    elif kind == "checks":
        cell = rng.uniform(0.08, 0.25)
        across = -cols * np.sin(angle) + rows * np.cos(angle)
        weight = ((np.floor(along / cell) + np.floor(across / cell)) % 2).astype(np.float64)
    else:  # smooth value noise: a random coarse grid, bicubic-upsampled
        Image = require("PIL.Image", needed_for="image data")

        grid = int(rng.integers(3, 9))
        coarse = Image.fromarray(rng.random((grid, grid)).astype(np.float32), mode="F")
        weight = np.asarray(coarse.resize((size, size), Image.Resampling.BICUBIC), dtype=np.float64)
        weight = np.clip(weight, 0.0, 1.0)
    picture = first + weight[..., None] * (second - first)
    picture += rng.normal(0.0, GRAIN * factor, picture.shape)
    return np.clip(picture, 0.0, 1.0).astype(np.float32)


# ---- rendering --------------------------------------------------------------------------------


class _BodyScene:
    """One pyrender scene for every image: a camera, a key and a fill light, and the body,
    whose mesh is replaced per image; drawn over a transparent background."""

    def __init__(self, size: int) -> None:
        from vhdiff.viz.gl import load_pyrender, offscreen_renderer

        self.pyrender = load_pyrender()
        offscreen_renderer(size, size)  # GLUnavailableError now, before any image is planned
        pyrender = self.pyrender
        self.size = size
        self.scene = pyrender.Scene(bg_color=[0.0, 0.0, 0.0, 0.0], ambient_light=[0.35] * 3)
        self.camera = pyrender.PerspectiveCamera(
            yfov=np.radians(YFOV_DEG), aspectRatio=1.0, znear=0.05
        )
        self.camera_node = self.scene.add(self.camera, pose=np.eye(4))
        self.lights = [pyrender.DirectionalLight(color=np.ones(3), intensity=1.0) for _ in range(2)]
        self.light_nodes = [self.scene.add(light, pose=np.eye(4)) for light in self.lights]
        self.body_node = None

    def draw(
        self, vertices: np.ndarray, faces: np.ndarray, colours: np.ndarray, plan: _Plan
    ) -> np.ndarray:
        """The body as uint8 RGBA [size, size, 4] (colour premultiplied by coverage)."""
        from vhdiff.viz.gl import RENDER_LOCK, offscreen_renderer

        pyrender = self.pyrender
        camera = frame_points(
            vertices, width=self.size, height=self.size, yfov=np.radians(YFOV_DEG),
            azimuth=plan.azimuth, elevation=plan.elevation, margin=plan.margin,
        )  # fmt: skip
        self.camera.zfar = camera.zfar
        self.scene.set_pose(self.camera_node, camera.pose)
        centre = vertices.mean(0)
        for light, node, (azimuth, elevation, intensity) in zip(
            self.lights, self.light_nodes, (plan.key, plan.fill)
        ):
            direction = _direction(plan.azimuth + azimuth, elevation)
            self.scene.set_pose(node, look_at(centre + direction, centre))
            light.intensity = intensity
        self.scene.ambient_light = np.full(3, plan.ambient)
        mesh = pyrender.Mesh([
            pyrender.Primitive(
                positions=vertices, normals=vertex_normals(vertices, faces).astype(np.float32),
                indices=faces, color_0=colours,
                material=pyrender.MetallicRoughnessMaterial(metallicFactor=0.0, roughnessFactor=0.7),
            )
        ])  # fmt: skip
        if self.body_node is None:
            self.body_node = self.scene.add(mesh)
        else:
            self.body_node.mesh = mesh
        with RENDER_LOCK:
            renderer = offscreen_renderer(self.size, self.size)
            rgba, _ = renderer.render(self.scene, flags=pyrender.RenderFlags.RGBA)
        return rgba


def _direction(azimuth: float, elevation: float) -> np.ndarray:
    az, el = np.radians(azimuth), np.radians(elevation)
    return np.array([np.cos(el) * np.sin(az), np.sin(el), np.cos(el) * np.cos(az)])


def _compose(rgba: np.ndarray, background: np.ndarray, factor: int) -> np.ndarray:
    """Body RGBA (premultiplied) over the background, box-averaged by `factor`: uint8 [s, s, 3]."""
    colour = rgba[..., :3].astype(np.float32) * (1.0 / 255.0)
    alpha = rgba[..., 3:].astype(np.float32) * (1.0 / 255.0)
    picture = colour + (1.0 - alpha) * background
    size = picture.shape[0] // factor
    small = picture.reshape(size, factor, size, factor, 3).mean((1, 3))
    return np.clip(np.rint(small * 255.0), 0, 255).astype(np.uint8)


def _vertex_colours(regions: np.ndarray, plan: _Plan) -> np.ndarray:
    table = np.array([
        SKIN_TONES[plan.skin], CLOTHING_COLOURS[plan.shirt], CLOTHING_COLOURS[plan.trousers],
        CLOTHING_COLOURS[plan.shoes],
    ], dtype=np.float32)  # fmt: skip
    return table[regions]


# ---- the set ----------------------------------------------------------------------------------


def _check_options(num: int, size: int, supersample: int, shapes: int) -> None:
    if not isinstance(num, int) or not 1 <= num <= MAX_IMAGES:
        raise ValueError(f"--num must be a whole number between 1 and {MAX_IMAGES}, got {num!r}")
    if size not in SIZES:
        raise ValueError(f"--size must be one of {', '.join(map(str, SIZES))}, got {size!r}")
    if not isinstance(supersample, int) or not 1 <= supersample <= 8:
        raise ValueError(f"supersample must be a whole number from 1 to 8, got {supersample!r}")
    if not isinstance(shapes, int) or shapes < 1:
        raise ValueError(f"shapes must be a positive whole number, got {shapes!r}")


def write_human_images(
    out: str | os.PathLike,
    *,
    num: int = 2000,
    size: int = 64,
    seed: int = 0,
    supersample: int | None = None,
    shapes: int = 64,
    body_model: Any = None,
    force: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> HumanImagesSummary:
    """Render and write the set (module docstring).

    num: images; size: 32 or 64 pixels; seed: every random draw; supersample: render at
    size x supersample, then box-average down (None: RENDER_SIZE // size, 128 pixels:
    on llvmpipe 128 costs what 64 does, 192 twice as much); shapes: body shapes drawn (each image uses
    one of them); body_model: a vhdiff.body model (None: load_body_model()); force: replace
    an earlier human-images set at `out`; progress(done, num): called as images are drawn.
    Raises ValueError for bad options, FileExistsError when `out` may not be replaced,
    OutputError (an OSError) when it cannot be written; nothing is left half-written.
    """
    if supersample is None and size in SIZES:
        supersample = RENDER_SIZE // size
    _check_options(num, size, supersample, shapes)
    out = Path(out)
    check_writable(out)
    with atomic_folder(out, kind=HUMAN_IMAGES_KIND, force=force) as temp:
        summary = _write(temp, num=num, size=size, seed=seed, supersample=supersample,
                         shapes=shapes, body_model=body_model, progress=progress)  # fmt: skip
    return replace(summary, out=out)


def _write(
    folder: Path, *, num: int, size: int, seed: int, supersample: int, shapes: int,
    body_model: Any, progress: Callable[[int, int], None] | None,
) -> HumanImagesSummary:  # fmt: skip
    Image = require("PIL.Image", needed_for="image data")

    start = time.perf_counter()
    rng = np.random.default_rng(seed)
    sources = pose_sources()
    plans = _plan(rng, sources, num=num, shapes=min(shapes, num))
    splits = _split_names([p.family for p in plans], rng)
    pool = np.stack([sample_betas(rng) for _ in range(min(shapes, num))])
    if body_model is None:
        from vhdiff.body import load_body_model

        body_model = load_body_model()
    render_size = size * supersample
    scene = _BodyScene(render_size)
    rest = body_model(
        global_orient=np.zeros((1, 3), np.float32), body_pose=np.zeros((1, 21, 3), np.float32)
    )
    regions = clothing_regions(rest.vertices[0].cpu().numpy(), rest.joints[0].cpu().numpy())
    faces = rest.faces.cpu().numpy().astype(np.int32)
    (folder / "images").mkdir()
    (folder / "texts").mkdir()
    labels: list[ImageLabel | None] = [None] * num
    order = sorted(range(num), key=lambda i: plans[i].shape)  # one re-shape per body shape
    done = 0
    for begin in range(0, num, POSE_CHUNK):
        chunk = order[begin : begin + POSE_CHUNK]
        vertices = _pose(body_model, [plans[i] for i in chunk], sources, pool)
        for index, verts in zip(chunk, vertices):
            plan = plans[index]
            rgba = scene.draw(verts, faces, _vertex_colours(regions, plan), plan)
            picture = _compose(
                rgba,
                _background(plan.background, render_size, plan.background_seed, factor=supersample),
                supersample,
            )
            image_id = f"{index:06d}"
            caption = caption_for(family=plan.family, view=plan.view, shirt=plan.shirt,
                                  trousers=plan.trousers, shoes=plan.shoes)  # fmt: skip
            Image.fromarray(picture, mode="RGB").save(folder / "images" / f"{image_id}.png")
            (folder / "texts" / f"{image_id}.txt").write_text(caption + "\n", encoding="utf-8")
            labels[index] = ImageLabel(
                id=image_id, split=splits[index], family=plan.family,
                family_index=list(POSE_FAMILIES).index(plan.family), view=plan.view,
                azimuth=round(plan.azimuth, 2), elevation=round(plan.elevation, 2),
                shirt=plan.shirt, trousers=plan.trousers, shoes=plan.shoes, skin=plan.skin,
                background=plan.background, shape=plan.shape,
                betas=[round(float(b), 4) for b in pool[plan.shape]], caption=caption,
            )  # fmt: skip
            done += 1
            if progress is not None:
                progress(done, num)
    elapsed = time.perf_counter() - start
    written = [label for label in labels if label is not None]
    with open(folder / "labels.jsonl", "w", encoding="utf-8") as stream:
        stream.writelines(json.dumps(asdict(label)) + "\n" for label in written)
    counts = {}
    for name in SPLIT_FRACTIONS:
        members = [label.id for label in written if label.split == name]
        (folder / f"{name}.txt").write_text("".join(f"{i}\n" for i in members), encoding="utf-8")
        counts[name] = len(members)
    per_family = {name: sum(label.family == name for label in written) for name in POSE_FAMILIES}
    summary = HumanImagesSummary(
        out=folder, num=num, size=size, seed=seed, render_size=render_size, splits=counts,
        families=per_family, seconds=round(elapsed, 3),
        images_per_second=round(num / elapsed, 2), labels=written,
    )  # fmt: skip
    _write_description(folder, summary, body_model, shapes=min(shapes, num))
    return summary


def _pose(
    body_model: Any, plans: list[_Plan], sources: dict[str, list[PoseSource]], pool: np.ndarray
) -> np.ndarray:
    """Posed vertices [N, V, 3] float32 of the plans' bodies (one body-model call)."""
    chosen = [sources[p.family][p.source] for p in plans]
    out = body_model(
        global_orient=np.stack([s.global_orient[p.frame] for s, p in zip(chosen, plans)]),
        body_pose=np.stack([s.body_pose[p.frame] for s, p in zip(chosen, plans)]),
        betas=pool[[p.shape for p in plans]],
    )
    return out.vertices.cpu().numpy().astype(np.float32)


def _write_description(
    folder: Path, summary: HumanImagesSummary, body_model: Any, *, shapes: int
) -> None:
    """dataset.json, written last: its "kind" marks a finished set (HUMAN_IMAGES_KIND)."""
    description = {
        "kind": "human-images",
        "format": 1,
        "num": summary.num,
        "size": summary.size,
        "seed": summary.seed,
        "render_size": summary.render_size,
        "splits": summary.splits,
        "labels": "labels.jsonl",
        "body_model": getattr(body_model, "kind", type(body_model).__name__),
        "shapes": shapes,
        "pose_families": {
            name: {"index": i, "phrase": f.phrase, "segments": list(f.segments), "pick": f.pick,
                   "images": summary.families[name]}
            for i, (name, f) in enumerate(POSE_FAMILIES.items())
        },
        "views": {name: {"phrase": phrase, "azimuth": azimuth} for name, (phrase, azimuth) in VIEWS.items()},
        "azimuth_jitter": AZIMUTH_JITTER,
        "elevation_range": list(ELEVATION_RANGE),
        "clothing_colours": CLOTHING_COLOURS,
        "shoe_colours": list(SHOE_COLOURS),
        "skin_tones": [list(tone) for tone in SKIN_TONES],
        "regions": list(REGIONS),
        "backgrounds": list(BACKGROUNDS),
        "seconds": summary.seconds,
        "images_per_second": summary.images_per_second,
    }  # fmt: skip
    (folder / "dataset.json").write_text(json.dumps(description, indent=2) + "\n", encoding="utf-8")
