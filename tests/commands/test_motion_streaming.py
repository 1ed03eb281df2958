"""`vhdiff motion` streams rendered frames into the MP4 writer: every frame, in order, under
a temporary name; a renderer failing part-way leaves no file of the run."""

from __future__ import annotations

import numpy as np
import pytest
from vhdiff.viz.mesh_renderer import MeshRenderer

from vhdiff.body import SMPLMotion
from vhdiff.cli import main
from vhdiff.commands import motion as motion_command

pytest.importorskip("pyrender")
FRAMES = 5


@pytest.fixture()
def stepping_motion(monkeypatch):
    """generate() returns one motion of FRAMES frames that walks along +Z (no model)."""
    transl = np.zeros((FRAMES, 3))
    transl[:, 1], transl[:, 2] = 0.9, np.linspace(0.0, 1.0, FRAMES)
    motion = SMPLMotion(
        global_orient=np.zeros((FRAMES, 3)),
        body_pose=np.zeros((FRAMES, 21, 3)),
        transl=transl,
        betas=np.zeros(10),
        fps=20.0,
    )

    class Generated:
        smpl, prompt = motion, "walk"

    monkeypatch.setattr(motion_command, "generate", lambda args, plan: [Generated()])


def names(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_mp4_holds_every_rendered_frame_in_order(tmp_path, stepping_motion, monkeypatch):
    """The frames the renderer yields are what the MP4 holds (frame by frame), and the
    destination appears only after the last frame is written."""
    import imageio.v3 as iio

    drawn, listings = [], []
    real = MeshRenderer.iter_frames

    def recording(self, vertices, faces, **kwargs):
        for frame in real(self, vertices, faces, **kwargs):
            listings.append(names(tmp_path))
            drawn.append(frame)
            yield frame

    monkeypatch.setattr(MeshRenderer, "iter_frames", recording)
    out = tmp_path / "walk.mp4"
    assert main(["motion", "walk", "--out", str(out), "--size", "64"]) == 0
    assert len(drawn) == FRAMES
    assert all("walk.mp4" not in listing for listing in listings)
    assert any(name.startswith(".walk.") for name in listings[-1])  # a temporary name
    video = iio.imread(out)
    assert video.shape == (FRAMES, 64, 64, 3)
    drawn = np.stack(drawn).astype(float)
    errors = [[np.abs(video[t] - drawn[s]).mean() for s in range(FRAMES)] for t in range(FRAMES)]
    assert [int(np.argmin(row)) for row in errors] == list(range(FRAMES))  # in order
    assert max(errors[t][t] for t in range(FRAMES)) < 3  # the same pictures (lossy coding)
    assert names(tmp_path) == ["walk.mp4", "walk.npz"]


def test_renderer_failing_part_way_leaves_nothing(tmp_path, stepping_motion, monkeypatch):
    real = MeshRenderer.iter_frames

    def failing(self, vertices, faces, **kwargs):
        frames = real(self, vertices, faces, **kwargs)
        yield next(frames)
        yield next(frames)
        raise ValueError("simulated renderer failure after two frames")

    monkeypatch.setattr(MeshRenderer, "iter_frames", failing)
    out = tmp_path / "new" / "walk.mp4"
    assert main(["motion", "walk", "--out", str(out), "--size", "32"]) == 2
    assert not (tmp_path / "new").exists()
    old = tmp_path / "old"
    old.mkdir()
    (old / "walk.mp4").write_bytes(b"old video")
    assert main(["motion", "walk", "--out", str(old / "walk.mp4"), "--size", "32"]) == 2
    assert names(old) == ["walk.mp4"] and (old / "walk.mp4").read_bytes() == b"old video"
