"""`vhdiff motion --edit IN.npz --keep first:20,last:20` with the bundled model: the
in-between motion starts at the first keyframes and ends at the last ones, in place and
facing the same way (not only in pose)."""

from __future__ import annotations

import numpy as np

from vhdiff.body import SMPLMotion
from vhdiff.cli import main
from vhdiff.motion.representation.smpl import joints_from_motion, root_heading


def test_in_betweening_ends_at_the_source_end_keyframes(tmp_path):
    common = ["--steps", "10", "--no-video", "--seed", "4"]
    source_path = tmp_path / "walk.npz"
    assert main(["motion", "a person walks forward", "--length", "4", "--out", str(source_path), *common]) == 0  # fmt: skip
    edit = ["--edit", str(source_path), "--keep", "first:20,last:20"]
    assert main(["motion", "a person jumps", *edit, "--out", str(tmp_path / "jump.npz"), *common]) == 0
    source, edited = SMPLMotion.load(source_path), SMPLMotion.load(tmp_path / "jump.npz")
    assert edited.num_frames == source.num_frames == 80
    want, got = joints_from_motion(source), joints_from_motion(edited)
    np.testing.assert_allclose(got[:20], want[:20], atol=1e-3)
    place = np.linalg.norm(edited.transl[-20:, [0, 2]] - source.transl[-20:, [0, 2]], axis=-1)
    assert place.max() < 3e-3
    turn = np.angle(np.exp(1j * (root_heading(edited)[-20:] - root_heading(source)[-20:])))
    assert np.abs(turn).max() < 0.01
    np.testing.assert_allclose(got[-20:], want[-20:], atol=5e-3)  # every joint, in the world
    assert np.abs(got[25:55] - want[25:55]).max() > 0.05  # the middle is regenerated
