"""The README's main job: `vhdiff demo` writes a rendered, playable motion per prompt, the
edit and the overview picture, and each motion does what its prompt says (measured)."""

import numpy as np
import pytest

from vhdiff.body.smpl_motion import SMPLMotion
from vhdiff.cli import main
from vhdiff.motion.demo import DEMO_PROMPTS
from vhdiff.motion.representation import get_representation
from vhdiff.motion.representation.smpl import root_heading


def joints(motion: SMPLMotion) -> np.ndarray:
    rep = get_representation("smpl")
    return rep.to_motion(rep.from_smpl(motion), fps=motion.fps)[1]


@pytest.mark.slow
def test_demo_writes_every_prompt_and_the_edit(tmp_path):
    import imageio.v3 as iio

    assert main(["demo", "--out", str(tmp_path), "--size", "96"]) == 0
    motions = {}
    for name in [*DEMO_PROMPTS, "walk_edit_upper"]:
        motions[name] = SMPLMotion.load(tmp_path / f"{name}.npz")
        seconds = DEMO_PROMPTS.get(name, DEMO_PROMPTS["walk"])[1]
        assert motions[name].num_frames == round(seconds * 20) and np.isfinite(motions[name].body_pose).all()
        frames = iio.imread(tmp_path / f"{name}.mp4")
        assert frames.shape[0] == round(seconds * 20) and frames.std() > 1.0  # not a blank video
        assert (tmp_path / f"{name}.bvh").stat().st_size > 1000
    overview = iio.imread(tmp_path / "overview.png")
    assert overview.shape[0] > 3 * 192 and overview.std() > 1.0
    walk, jump = joints(motions["walk"]), joints(motions["jump"])
    assert np.linalg.norm(walk[-1, 0, [0, 2]] - walk[0, 0, [0, 2]]) > 3.0  # walks forward
    height = jump[:, 0, 1]
    up = height > np.median(height) + 0.08
    assert int(up[0]) + int(np.sum(up[1:] & ~up[:-1])) >= 2  # jumps up and down ...
    assert np.linalg.norm(jump[-1, 0, [0, 2]] - jump[0, 0, [0, 2]]) < 0.5  # ... on the spot
    heading = np.degrees(np.unwrap(root_heading(motions["turn"])))
    assert -220 < heading[-1] - heading[0] < -140  # turns around (about 180 degrees) to the right
    # the edit kept the walk's legs and path and waves the right hand (wrist over shoulder)
    source, edited = motions["walk"], motions["walk_edit_upper"]
    np.testing.assert_allclose(edited.transl, source.transl, atol=1e-4)
    np.testing.assert_allclose(edited.body_pose[:, [0, 1, 3, 4]], source.body_pose[:, [0, 1, 3, 4]], atol=1e-3)
    wave = joints(edited)
    assert (wave[:, 21, 1] > wave[:, 17, 1]).mean() > 0.5 and (wave[:, 20, 1] > wave[:, 16, 1]).mean() < 0.2
