"""The README's main job: `vhdiff demo` writes a rendered, playable motion per prompt."""

import numpy as np
import pytest

from vhdiff.body.smpl_motion import SMPLMotion
from vhdiff.cli import main
from vhdiff.motion.demo import DEMO_PROMPTS


@pytest.mark.slow
def test_demo_writes_every_prompt_and_the_edit(tmp_path):
    import imageio.v3 as iio

    assert main(["demo", "--out", str(tmp_path), "--size", "96"]) == 0
    first = next(iter(DEMO_PROMPTS))
    for name in [*DEMO_PROMPTS, f"{first}_edit_upper"]:
        motion = SMPLMotion.load(tmp_path / f"{name}.npz")
        assert motion.num_frames == 120 and np.isfinite(motion.body_pose).all()
        frames = iio.imread(tmp_path / f"{name}.mp4")
        assert frames.shape[0] == 120 and frames.std() > 1.0  # not a blank video
    for name in DEMO_PROMPTS:
        assert (tmp_path / f"{name}.bvh").stat().st_size > 1000
    # the edit kept the legs and path of the first motion
    source = SMPLMotion.load(tmp_path / f"{first}.npz")
    edited = SMPLMotion.load(tmp_path / f"{first}_edit_upper.npz")
    np.testing.assert_allclose(edited.transl, source.transl, atol=1e-4)
    np.testing.assert_allclose(edited.body_pose[:, [0, 1, 3, 4]], source.body_pose[:, [0, 1, 3, 4]], atol=1e-3)
