"""Image grids and writers: videos read back with the right frame count and fps, PNG and
mesh files round-trip, writes are atomic."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from vhdiff.viz import writers
from vhdiff.viz.grid import image_grid, to_uint8
from vhdiff.viz.writers import (
    write_frames,
    write_gif,
    write_mesh_sequence,
    write_mp4,
    write_png_sequence,
)


def coloured_frames(count: int, height: int = 48, width: int = 64) -> np.ndarray:
    """Frames of distinct flat colours (easy to recognise after lossy coding)."""
    frames = np.zeros((count, height, width, 3), dtype=np.uint8)
    for t in range(count):
        frames[t] = ((t * 40) % 256, 255 - (t * 40) % 256, 128)
    return frames


def test_image_grid_places_tiles():
    tiles = [np.full((4, 6, 3), value, dtype=np.uint8) for value in (10, 20, 30)]
    grid = image_grid(tiles, ncols=2, pad=1, pad_value=0)
    assert grid.shape == (2 * 4 + 3, 2 * 6 + 3, 3)
    assert np.all(grid[1:5, 1:7] == 10) and np.all(grid[1:5, 8:14] == 20)
    assert np.all(grid[6:10, 1:7] == 30) and np.all(grid[6:10, 8:14] == 0)
    videos = np.stack([coloured_frames(3, 8, 8)] * 4)  # 4 videos of 3 frames
    assert image_grid(videos, pad=0).shape == (3, 16, 16, 3)
    with pytest.raises(ValueError, match="one shape"):
        image_grid([np.zeros((4, 4, 3), np.uint8), np.zeros((5, 4, 3), np.uint8)])
    with pytest.raises(ValueError, match="non-empty"):
        image_grid([])


def test_to_uint8_formats():
    assert to_uint8(np.array([[[0.0, 0.5, 1.5]]])).tolist() == [[[0, 128, 255]]]
    chw = torch.zeros(3, 5, 7)
    assert to_uint8(chw).shape == (5, 7, 3)
    assert to_uint8(np.zeros((5, 7), np.uint8)).shape == (5, 7, 3)
    with pytest.raises(ValueError, match="uint8 or floats"):
        to_uint8(np.zeros((2, 2, 3), np.int64))


def test_mp4_reads_back_with_frame_count_and_fps(tmp_path):
    import imageio.v3 as iio

    frames = coloured_frames(12, height=47, width=63)  # odd sizes are padded to even
    path = write_mp4(tmp_path / "clip.mp4", frames, fps=15)
    back = iio.imread(path)
    assert back.shape == (12, 48, 64, 3)
    assert iio.immeta(path)["fps"] == pytest.approx(15.0)
    np.testing.assert_allclose(back[:, :47, :63].mean((1, 2)), frames.mean((1, 2)), atol=6)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_gif_reads_back(tmp_path):
    import imageio.v3 as iio

    frames = coloured_frames(5)
    path = write_gif(tmp_path / "clip.gif", frames, fps=10)
    back = iio.imread(path)
    assert back.shape[:3] == (5, 48, 64)
    assert iio.immeta(path, index=0)["duration"] == pytest.approx(100, abs=10)  # ms per frame


def test_png_sequence_is_lossless(tmp_path):
    import imageio.v3 as iio

    frames = coloured_frames(3)
    paths = write_frames(tmp_path / "frames", frames, fps=30)
    assert [p.name for p in paths] == ["frame_00000.png", "frame_00001.png", "frame_00002.png"]
    for path, frame in zip(paths, frames):
        assert np.array_equal(iio.imread(path), frame)
    with pytest.raises(ValueError, match=r"\.mp4 or \.gif"):
        write_frames(tmp_path / "x.avi", frames, fps=30)
    (tmp_path / "file").write_text("x")
    with pytest.raises(NotADirectoryError):
        write_png_sequence(tmp_path / "file", frames)


@pytest.mark.parametrize("fmt", ["obj", "ply"])
def test_mesh_sequence_round_trip(tmp_path, fmt):
    import trimesh

    box = trimesh.creation.box()
    vertices = np.stack([box.vertices, box.vertices * 2.0])
    paths = write_mesh_sequence(tmp_path, vertices, box.faces, fmt=fmt)
    assert len(paths) == 2
    for path, expected in zip(paths, vertices):
        mesh = trimesh.load(path, process=False, force="mesh")
        np.testing.assert_allclose(mesh.vertices, expected, atol=1e-6)
        assert np.array_equal(mesh.faces, box.faces)
    with pytest.raises(ValueError, match="index vertex"):
        write_mesh_sequence(tmp_path, vertices[:, :4], box.faces)
    with pytest.raises(ValueError, match="'obj' or 'ply'"):
        write_mesh_sequence(tmp_path, vertices, box.faces, fmt="stl")


def test_failed_write_keeps_old_file_and_leaves_no_temp(tmp_path, monkeypatch):
    path = tmp_path / "clip.mp4"
    path.write_bytes(b"previous video")

    class Broken:
        def append_data(self, frame):
            raise OSError("disk full")

        def close(self):
            pass

    import imageio.v2

    monkeypatch.setattr(imageio.v2, "get_writer", lambda *a, **k: Broken())
    with pytest.raises(OSError, match="disk full"):
        write_mp4(path, coloured_frames(2), fps=10)
    assert path.read_bytes() == b"previous video"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.mp4"]


def test_bad_fps_and_frames(tmp_path):
    with pytest.raises(ValueError, match="fps"):
        write_gif(tmp_path / "a.gif", coloured_frames(2), fps=0)
    with pytest.raises(ValueError, match=r"\[T, H, W, 3\]"):
        write_mp4(tmp_path / "a.mp4", np.zeros((0, 4, 4, 3), np.uint8), fps=10)
    with pytest.raises(ValueError, match="SMPLMotion"):
        writers.write_motion(tmp_path / "m.npz", {"poses": 1})


def test_mp4_streams_an_iterator_in_order_under_a_temporary_name(tmp_path):
    """Frames from a generator are encoded as they come, in order, all of them; while they
    stream, only a hidden temporary file exists beside the destination."""
    import imageio.v3 as iio

    frames = coloured_frames(9, height=33, width=40)  # odd height: padded per frame
    path = tmp_path / "stream.mp4"
    seen = []

    def produce():
        for t, frame in enumerate(frames):
            if t == 5:  # part-way: the final name is not there, a temporary one is
                seen.append(sorted(p.name for p in tmp_path.iterdir()))
            yield frame

    assert write_mp4(path, produce(), fps=12) == path
    assert path.name not in seen[0] and len(seen[0]) == 1
    assert seen[0][0].startswith(".stream.") and seen[0][0].endswith(".mp4")
    back = iio.imread(path)
    assert back.shape == (9, 34, 40, 3)
    assert iio.immeta(path)["fps"] == pytest.approx(12.0)
    np.testing.assert_allclose(back[:, :33].mean((1, 2)), frames.mean((1, 2)), atol=6)
    assert [p.name for p in tmp_path.iterdir()] == ["stream.mp4"]


def test_mp4_stream_failing_part_way_leaves_no_file(tmp_path):
    """An error while frames stream in: the error reaches the caller, no file (or temporary
    file) is left, and an older file at the destination is untouched."""
    frames = coloured_frames(6)

    def failing():
        yield from frames[:3]
        raise RuntimeError("simulated renderer failure")

    path = tmp_path / "fail.mp4"
    with pytest.raises(RuntimeError, match="simulated"):
        write_mp4(path, failing(), fps=10)
    assert list(tmp_path.iterdir()) == []
    path.write_bytes(b"older video")
    with pytest.raises(RuntimeError, match="simulated"):
        write_mp4(path, failing(), fps=10)
    assert [p.name for p in tmp_path.iterdir()] == ["fail.mp4"]
    assert path.read_bytes() == b"older video"


def test_streamed_frames_must_share_one_size(tmp_path):
    frames = list(coloured_frames(4))
    frames[2] = frames[2][:-2]
    with pytest.raises(ValueError, match=r"frame 2 has shape \[46, 64, 3\] but frame 0 has"):
        write_mp4(tmp_path / "a.mp4", iter(frames), fps=10)
    with pytest.raises(ValueError, match="at least one frame"):
        write_mp4(tmp_path / "b.mp4", iter([]), fps=10)
    with pytest.raises(ValueError, match=r"shape \[H, W, 3\]"):
        write_mp4(tmp_path / "c.mp4", iter([np.zeros((2, 8, 8, 3), np.uint8)]), fps=10)
    assert list(tmp_path.iterdir()) == []


def test_gif_and_png_take_an_iterator_too(tmp_path):
    import imageio.v3 as iio

    frames = coloured_frames(3, height=16, width=16)
    gif = write_frames(tmp_path / "a.gif", iter(frames), fps=10)
    assert iio.imread(gif, index=None).shape[:3] == (3, 16, 16)
    pngs = write_frames(tmp_path / "pngs", (f for f in frames), fps=10)
    assert len(pngs) == 3
    np.testing.assert_array_equal(iio.imread(pngs[2]), frames[2])
