"""MeshRenderer (pyrender, EGL): silhouettes match the projected mesh, frames are real
pictures, several bodies sit side by side, the follow camera follows."""

from __future__ import annotations

import numpy as np
import pytest
import torch

pytest.importorskip("pyrender")

from vhdiff.viz.camera import Camera
from vhdiff.viz.mesh_renderer import MeshRenderer, vertex_normals

from vhdiff.body import load_body_model

SIZE = 192


def rasterize(pixels: np.ndarray, faces: np.ndarray, width: int, height: int) -> np.ndarray:
    """Our own reference silhouette -> bool [H, W]: a pixel is covered when its centre lies
    inside a projected triangle (edge functions of one sign), the rule OpenGL rasterises by.

    Vectorised over triangles: each offset inside the largest triangle bounding box is
    tested for all triangles at once.
    """
    tri = pixels[faces]  # [F, 3, 2] (col, row)
    low = np.ceil(tri.min(1) - 0.5).astype(int)  # first pixel whose centre may be inside
    high = np.floor(tri.max(1) - 0.5).astype(int)
    mask = np.zeros((height, width), dtype=bool)
    a, b, c = tri[:, 0], tri[:, 1], tri[:, 2]

    def edge(p, q, x, y):  # twice the signed area of (p, q, (x, y))
        return (q[:, 0] - p[:, 0]) * (y - p[:, 1]) - (q[:, 1] - p[:, 1]) * (x - p[:, 0])

    span = (high - low).max(0)
    for dx in range(max(span[0], 0) + 1):
        for dy in range(max(span[1], 0) + 1):
            col, row = low[:, 0] + dx, low[:, 1] + dy
            x, y = col + 0.5, row + 0.5
            e0, e1, e2 = edge(a, b, x, y), edge(b, c, x, y), edge(c, a, x, y)
            inside = ((e0 >= 0) & (e1 >= 0) & (e2 >= 0)) | ((e0 <= 0) & (e1 <= 0) & (e2 <= 0))
            inside &= (col <= high[:, 0]) & (row <= high[:, 1])
            inside &= (col >= 0) & (col < width) & (row >= 0) & (row < height)
            mask[row[inside], col[inside]] = True
    return mask


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / (a | b).sum())


@pytest.fixture(scope="module")
def body():
    model = load_body_model(kind="mannequin")
    frames = 3
    pose = torch.zeros(frames, 21, 3)
    pose[:, 15, 2] = torch.linspace(0.0, 1.2, frames)  # left shoulder lifts the arm
    pose[:, 3, 0] = torch.linspace(0.0, -0.8, frames)  # left knee bends
    transl = torch.zeros(frames, 3)
    transl[:, 0] = torch.linspace(0.0, 0.5, frames)
    out = model(torch.zeros(frames, 3), pose, transl=transl)
    return out.vertices.numpy(), out.faces.numpy()


@pytest.fixture(scope="module")
def renderer():
    with MeshRenderer(width=SIZE, height=SIZE, ground=False, background=(1.0, 1.0, 1.0)) as r:
        yield r


def test_silhouette_matches_projected_vertices(body, renderer):
    vertices, faces = body
    cameras = renderer.cameras([vertices])
    colors, depth = renderer.render(vertices, faces, return_depth=True)
    assert colors.shape == (3, SIZE, SIZE, 3) and colors.dtype == np.uint8
    for t in range(3):
        pixels, _ = cameras[t].project(vertices[t])
        reference = rasterize(pixels, faces, SIZE, SIZE)
        rendered = depth[t] > 0
        assert reference.sum() > 0.03 * SIZE * SIZE  # the body covers a real area
        assert iou(rendered, reference) >= 0.9, iou(rendered, reference)
        # the body is drawn in colour wherever it has depth (colour edges are anti-aliased,
        # so the colour silhouette is a little larger)
        drawn = np.any(colors[t] != 255, axis=-1)
        assert (drawn & rendered).sum() >= 0.98 * rendered.sum()
        assert drawn.sum() <= 1.3 * rendered.sum()


def test_explicit_camera_is_used(body, renderer):
    vertices, faces = body
    camera = renderer.cameras([vertices])[0]
    moved = Camera(yfov=camera.yfov, pose=camera.pose.copy(), width=SIZE, height=SIZE)
    moved.pose[:3, 3] += moved.pose[:3, 0] * 0.5  # half a metre to the camera's right
    _, depth = renderer.render(vertices[0], faces, camera=moved, return_depth=True)
    pixels, _ = moved.project(vertices[0])
    assert iou(depth[0] > 0, rasterize(pixels, faces, SIZE, SIZE)) >= 0.9
    with pytest.raises(ValueError, match="differs from the renderer"):
        renderer.render(
            vertices, faces, camera=Camera(yfov=0.7, pose=np.eye(4), width=64, height=64)
        )


def test_frames_are_shaded_pictures_with_ground():
    model = load_body_model(kind="mannequin")
    out = model(torch.zeros(2, 3), torch.zeros(2, 21, 3))
    with MeshRenderer(width=128, height=128) as r:
        frames = r.render(out.vertices, out.faces)
    frame = frames[0].astype(int)
    assert frame.std() > 20  # not blank
    bluish = (frame[..., 2] - frame[..., 0] > 40).mean()  # the body colour
    greyish = ((np.ptp(frame, axis=-1) < 8) & (frame[..., 0] < 235) & (frame[..., 0] > 120)).mean()
    assert bluish > 0.03 and greyish > 0.05  # a body and a checkered ground
    assert len(np.unique(frame[..., 2][frame[..., 2] - frame[..., 0] > 40])) > 20  # lit, not flat


def test_two_bodies_side_by_side(body, renderer):
    vertices, faces = body
    colors, depth = renderer.render([vertices[:1], vertices[:1]], faces, return_depth=True)
    columns = (depth[0] > 0).any(axis=0)
    filled = np.flatnonzero(columns)
    gaps = np.flatnonzero(~columns[filled[0] : filled[-1]])
    assert len(gaps) > 0  # two separate figures
    split = filled[0] + gaps[len(gaps) // 2]
    left, right = colors[0][:, :split], colors[0][:, split:]
    mask_left, mask_right = depth[0][:, :split] > 0, depth[0][:, split:] > 0
    assert left[mask_left][:, 2].mean() > left[mask_left][:, 0].mean()  # blue body
    assert right[mask_right][:, 0].mean() > right[mask_right][:, 2].mean()  # orange body


def test_follow_camera_keeps_the_body_centred():
    model = load_body_model(kind="mannequin")
    transl = torch.zeros(4, 3)
    transl[:, 0] = torch.linspace(0.0, 4.0, 4)
    out = model(torch.zeros(4, 3), torch.zeros(4, 21, 3), transl=transl)

    def centroids(mode: str) -> np.ndarray:
        with MeshRenderer(width=96, height=96, camera=mode, ground=False) as r:
            _, depth = r.render(out.vertices, out.faces, return_depth=True)
        return np.array([np.nonzero(d > 0)[1].mean() for d in depth])

    follow, fixed = centroids("follow"), centroids("frame")
    assert np.ptp(follow) < 3 and np.all(np.abs(follow - 48) < 8)
    assert np.ptp(fixed) > 25


def test_vertex_normals_of_a_cube_point_outwards():
    import trimesh

    cube = trimesh.creation.box()
    normals = vertex_normals(np.asarray(cube.vertices), np.asarray(cube.faces))
    np.testing.assert_allclose(np.linalg.norm(normals, axis=1), 1.0, atol=1e-6)
    assert np.all(np.sum(normals * cube.vertices, axis=1) > 0)


def test_bad_input(body, renderer):
    vertices, faces = body
    with pytest.raises(ValueError, match=r"shape \[T, V, 3\]"):
        renderer.render(vertices[..., :2], faces)
    with pytest.raises(ValueError, match="index vertex"):
        renderer.render(vertices[:, :100], faces)
    with pytest.raises(ValueError, match="different frame counts"):
        renderer.render([vertices, vertices[:2]], faces)
    with pytest.raises(ValueError, match="integer array"):
        renderer.render(vertices, faces.astype(float))
    with pytest.raises(ValueError, match="NaN"):
        renderer.render(np.full_like(vertices, np.nan), faces)
    with pytest.raises(ValueError, match="camera must be"):
        MeshRenderer(camera="orbit")
    closed = MeshRenderer(width=32, height=32)
    closed.close()
    with pytest.raises(ValueError, match="closed"):
        closed.render(vertices, faces)


def walking_bodies(frames: int = 4):
    """A mannequin that steps forward and lifts an arm: a moving body over the ground."""
    model = load_body_model(kind="mannequin")
    pose = torch.zeros(frames, 21, 3)
    pose[:, 15, 2] = torch.linspace(0.0, 1.2, frames)
    pose[:, 0, 0] = torch.linspace(0.0, -0.6, frames)  # left hip swings forward
    transl = torch.zeros(frames, 3)
    transl[:, 2] = torch.linspace(0.0, 0.8, frames)
    out = model(torch.zeros(frames, 3), pose, transl=transl)
    return out.vertices.numpy(), out.faces.numpy()


@pytest.mark.parametrize("contact_shadows", [False, True])
def test_static_ground_fast_path_draws_the_same_pictures(contact_shadows):
    """Without depth, a fixed camera draws the ground once and lays each frame's bodies over
    it; the pictures must match drawing the whole scene every frame (the return_depth path)
    up to rounding at the body outlines and the shadow's soft edge (an 8-bit alpha squared
    in the fast path, see MeshRenderer._shadow_mesh), for one body and for two, with and
    without the contact shadow. (Measured with it: mean 0.09 levels, 99.9th percentile 7.)"""
    vertices, faces = walking_bodies()
    with MeshRenderer(width=160, height=160, contact_shadows=contact_shadows) as r:
        for bodies in (vertices, [vertices, vertices[:, :, [2, 1, 0]] * [1, 1, -1]]):
            fast = r.render(bodies, faces)
            whole, depth = r.render(bodies, faces, return_depth=True)
            difference = np.abs(fast.astype(int) - whole.astype(int))
            assert difference.mean() < 0.2 and np.percentile(difference, 99.9) <= 12
            body = depth > 0
            assert body.mean() > 0.02  # the comparison covers a body, not only the ground
            assert difference.max(-1)[body].mean() < 1.0
            assert np.ptp(fast.reshape(4, -1).mean(1)) > 0  # the frames differ: it moves


def test_iter_frames_checks_now_and_draws_lazily(body, renderer):
    vertices, faces = body
    with pytest.raises(ValueError, match="index vertex"):
        renderer.iter_frames(vertices[:, :100], faces)  # before any frame is asked for
    frames = renderer.iter_frames(vertices, faces)
    first = next(frames)
    assert first.shape == (SIZE, SIZE, 3) and first.dtype == np.uint8
    rest = list(frames)
    assert len(rest) == 2
    np.testing.assert_array_equal(np.stack([first, *rest]), renderer.render(vertices, faces))


def test_fast_path_only_where_the_ground_picture_is_the_same_every_frame():
    """The ground is drawn once only for one fixed camera above the ground plane and no
    shadows; a follow camera, shadows or an eye below the plane draw the whole scene."""
    vertices, faces = walking_bodies(2)
    cases = [
        ({}, True),
        ({"camera": "follow"}, False),
        ({"shadows": True}, False),
        ({"elevation": -25.0}, False),
        ({"elevation": -25.0, "ground": False}, True),  # no ground to hide anything
    ]
    for options, expected in cases:
        with MeshRenderer(width=96, height=96, **options) as r:
            job = r._prepare(vertices, faces, None)
            assert r._ground_is_static(job) is expected, options
            if not expected:  # same pictures either way
                whole, _ = r.render(vertices, faces, return_depth=True)
                np.testing.assert_array_equal(r.render(vertices, faces), whole)


def _walk(distance: float, frames: int = 3):
    """The mannequin standing at frames points from x = 0 to x = distance (metres)."""
    model = load_body_model(kind="mannequin")
    transl = torch.zeros(frames, 3)
    transl[:, 0] = torch.linspace(0.0, distance, frames, dtype=torch.float64).float()
    out = model(torch.zeros(frames, 3), torch.zeros(frames, 21, 3), transl=transl)
    return out.vertices.numpy(), out.faces.numpy()


def checker_contrast(renderer: MeshRenderer, vertices: np.ndarray, faces: np.ndarray) -> list[float]:
    """Per frame: mean grey of ground pixels on light tiles ((i + j) even) minus dark ones,
    sampled at tile centres in view and not behind the body (the world's checker pattern)."""
    frames = renderer.render(vertices, faces).astype(float)
    cameras = renderer.cameras([vertices.astype(np.float32)])
    floor, tile = float(vertices[..., 1].min()), renderer.ground_tile
    contrasts = []
    for t, camera in enumerate(cameras):
        centre = vertices[t].mean(0)
        i, j = np.meshgrid(np.arange(-12, 13), np.arange(-12, 13), indexing="ij")
        i, j = i + int(centre[0] // tile), j + int(centre[2] // tile)
        points = np.stack([(i + 0.5) * tile, np.full(i.shape, floor), (j + 0.5) * tile], axis=-1)
        pixels, depth = camera.project(points)
        col, row = np.floor(pixels[..., 0]).astype(int), np.floor(pixels[..., 1]).astype(int)
        seen = (depth > 0) & (col >= 0) & (col < renderer.width) & (row >= 0) & (row < renderer.height)
        colour = frames[t][np.clip(row, 0, renderer.height - 1), np.clip(col, 0, renderer.width - 1)]
        grey = np.where(seen & (np.ptp(colour, axis=-1) <= 8), colour.mean(-1), np.nan)  # not the body
        even = (i + j) % 2 == 0
        contrasts.append(float(np.nanmean(grey[even]) - np.nanmean(grey[~even])))
    return contrasts


@pytest.mark.parametrize("mode", ["frame", "follow"])
def test_the_ground_is_a_checker_aligned_with_the_world(mode):
    vertices, faces = _walk(3.0)
    with MeshRenderer(width=128, height=128, camera=mode) as r:
        assert min(checker_contrast(r, vertices, faces)) > 10  # light tiles where (i + j) is even


def test_ground_memory_stays_flat_however_far_a_motion_travels():
    """The floor was one quad per tile over the whole path: ~1 GB at 54 m, and 219 TiB asked
    for at 10^6 m. Now it is one textured quad: the peak memory of a render does not grow."""
    import tracemalloc

    peaks = {}
    for distance in (1.0, 1e6):
        vertices, faces = _walk(distance)
        for mode in ("frame", "follow"):
            with MeshRenderer(width=64, height=64, camera=mode) as r:
                tracemalloc.start()
                frames = r.render(vertices, faces)
                peaks[distance, mode] = tracemalloc.get_traced_memory()[1]
                tracemalloc.stop()
            assert frames.shape == (3, 64, 64, 3) and frames.min() < 250  # a ground was drawn
    for mode in ("frame", "follow"):
        assert peaks[1e6, mode] < 1.5 * peaks[1.0, mode] + (1 << 20), peaks
    with MeshRenderer(width=128, height=128, camera="follow") as r:  # still checkered up close
        assert min(checker_contrast(r, *_walk(1e4))) > 10


def _standing_walk(distance: float, frames: int, *, sink: float = 0.0):
    """The mannequin standing on y = -sink (soles `sink` metres below the ground, as a
    generated motion's may be), at `frames` points from z = 0 to z = distance (towards a
    camera at azimuth 30)."""
    vertices, faces = _walk(0.0, frames)
    vertices = vertices - [0.0, vertices[..., 1].min() + sink, 0.0]
    vertices[..., 2] += np.linspace(0.0, distance, frames, dtype=np.float32)[:, None]
    return vertices.astype(np.float32), faces


def test_the_floor_is_the_motions_ground_with_a_contact_shadow():
    """Soles 8 cm below y = 0 stand in the floor at y = 0 (it is not moved down to the lowest
    vertex), and the floor under the feet is darker than the same tiles without the shadow."""
    vertices, faces = _standing_walk(0.0, 1, sink=0.08)
    with MeshRenderer(width=160, height=160, contact_shadows=False) as r:
        plain = r.render(vertices, faces, return_depth=True)[0].astype(float)[0]
        camera = r.cameras([vertices])[0]
    with MeshRenderer(width=160, height=160) as r:
        shaded, depth = r.render(vertices, faces, return_depth=True)
    feet = vertices[0][vertices[0][:, 1] < 0.05]
    # floor points just in front of the feet (the body faces +z)
    front = np.array([feet[:, 0].mean(), 0.0, feet[:, 2].max()])
    beside = front + np.array([[0.0, 0.0, 0.06], [0.06, 0.0, 0.06], [-0.06, 0.0, 0.06]])
    beside[:, 1] = 0.0
    pixels, distance = camera.project(beside)
    col, row = np.floor(pixels).astype(int).T
    seen = depth[0][row, col]
    np.testing.assert_allclose(seen, distance, rtol=0.01)  # y = 0 (the lowest vertex: 3-4 % off)
    darker = plain[row, col].mean(-1) - shaded[0].astype(float)[row, col].mean(-1)
    assert darker.min() > 8, darker  # the shadow beside the feet
    far = np.abs(plain - shaded[0].astype(float)).max(-1)[:20]  # the top rows: no shadow there
    assert far.max() <= 1


def _figure_rows(camera, vertices: np.ndarray) -> tuple[float, float]:
    pixels, _ = camera.project(vertices)
    return float(pixels[:, 1].min()), float(pixels[:, 1].max())


def _figure_cols(camera, vertices: np.ndarray) -> tuple[float, float]:
    pixels, _ = camera.project(vertices)
    return float(pixels[:, 0].min()), float(pixels[:, 0].max())


def test_the_camera_keeps_a_walk_large_in_the_picture():
    """A 6 m walk towards the camera at 512 x 512 (the old camera: a 110-pixel figure at the
    start, the top third of the picture empty). "frame": one camera whose view the walk
    fills from margin to margin (across or down), without an empty top third; "follow":
    every frame's body nearly picture high."""
    vertices, _ = _standing_walk(6.0, 5)
    with MeshRenderer(width=512, height=512) as r:
        camera = r.cameras([vertices])[0]
    rows = [_figure_rows(camera, frame) for frame in vertices]
    top, bottom = min(r[0] for r in rows), max(r[1] for r in rows)
    cols = [_figure_cols(camera, frame) for frame in vertices]
    left, right = min(c[0] for c in cols), max(c[1] for c in cols)
    assert max(bottom - top, right - left) > 0.9 * 512, (top, bottom, left, right)
    assert top < 0.2 * 512  # no empty top third
    assert rows[0][1] - rows[0][0] > 140  # the far end of the walk, 1.4 x the old figure
    with MeshRenderer(width=512, height=512, camera="follow") as r:
        cameras = r.cameras([vertices])
    heights = [b - a for a, b in (_figure_rows(c, f) for c, f in zip(cameras, vertices))]
    assert min(heights) > 0.8 * 512, heights
