"""PointCloudPipeline on the shared base: folders, conditions, any point count, seeds."""

import numpy as np
import pytest
import torch

from tests.pointcloud_fixtures import TINY_POINTS
from vhdiff.pointcloud.pipeline import PointCloudGeneration, PointCloudPipeline


def test_round_trip_and_the_defaults_it_keeps(tiny_cloud_pipeline_dir, tmp_path):
    pipe = PointCloudPipeline.from_pretrained(tiny_cloud_pipeline_dir)
    assert pipe.condition == "none" and pipe.generation.steps == 4
    again = PointCloudPipeline.from_pretrained(pipe.save_pretrained(tmp_path / "copy"))
    assert again.normalization == pipe.normalization and again.generation == pipe.generation
    for a, b in zip(pipe.model.state_dict().values(), again.model.state_dict().values(), strict=True):
        torch.testing.assert_close(a, b)


def test_samples_are_in_metres_reproducible_and_any_point_count(tiny_cloud_pipeline_dir):
    pipe = PointCloudPipeline.from_pretrained(tiny_cloud_pipeline_dir)
    a = pipe(3, seed=5)
    assert a.points.shape == (3, TINY_POINTS, 3) and a.points.dtype == np.float32 and a.seed == 5
    np.testing.assert_array_equal(pipe(3, seed=5).points, a.points)
    assert not np.array_equal(pipe(3, seed=6).points, a.points)
    big = pipe(2, seed=0, points=300, steps=2)
    assert big.points.shape == (2, 300, 3)
    # the model-space sample, undone with the set's normalization (metres)
    from vhdiff.pipelines import make_generator

    _, generator = make_generator(5)
    raw = pipe.sample((3, TINY_POINTS, 3), pipe.generation, generator=generator).sample.numpy()
    np.testing.assert_allclose(a.points, pipe.normalization.undo(raw), rtol=1e-5, atol=1e-5)


def test_intermediates_are_kept_in_metres(tiny_cloud_pipeline_dir):
    pipe = PointCloudPipeline.from_pretrained(tiny_cloud_pipeline_dir)
    out = pipe(2, seed=0, intermediates=(999, 500))
    assert sorted(out.intermediates) == sorted(out.pred_x0) and len(out.intermediates) == 2
    noise = out.intermediates[max(out.intermediates)]
    # x_T is unit noise in model space: its spread in metres is the normalization's scale
    assert abs(noise.std(axis=(0, 1)).mean() / pipe.normalization.scale - 1) < 0.3


def test_conditions(tiny_cloud_pipeline_dir, tiny_text_cloud_pipeline_dir, tiny_pose_cloud_pipeline_dir):
    plain = PointCloudPipeline.from_pretrained(tiny_cloud_pipeline_dir)
    with pytest.raises(ValueError, match="unconditional: it takes no prompt"):
        plain(2, prompt="a person squats")
    text = PointCloudPipeline.from_pretrained(tiny_text_cloud_pipeline_dir)
    squat = text(2, prompt="a person squats", seed=0, guidance=3.0)
    assert not np.array_equal(squat.points, text(2, prompt="a person waves", seed=0, guidance=3.0).points)
    assert not np.array_equal(squat.points, text(2, seed=0).points)  # no prompt: the null condition
    with pytest.raises(ValueError, match="text-conditional: it takes no pose"):
        text(2, pose=np.zeros((22, 3)))
    pose = PointCloudPipeline.from_pretrained(tiny_pose_cloud_pipeline_dir)
    bent = np.zeros((22, 3), np.float32)
    bent[4, 0] = 1.5
    assert not np.array_equal(pose(2, pose=bent, seed=0).points, pose(2, pose=np.zeros((22, 3)), seed=0).points)
    with pytest.raises(ValueError, match="22, 3"):
        pose(2, pose=np.zeros((21, 3)))
    with pytest.raises(ValueError, match="pose-conditional: it takes no prompt"):
        pose(2, prompt="a person")


@pytest.mark.parametrize("overrides, message", [
    ({"points": 0}, "points must be"), ({"points": 10**9}, "points must be"), ({"steps": 0}, "steps must be"),
    ({"steps": 500}, "steps must be in \\[1, 100\\]"),
])
def test_bad_settings_are_named(tiny_cloud_pipeline_dir, overrides, message):
    pipe = PointCloudPipeline.from_pretrained(tiny_cloud_pipeline_dir)
    with pytest.raises(ValueError, match=message):
        pipe(2, **overrides)


def test_generation_defaults():
    config = PointCloudGeneration()
    assert config.points == 2048 and config.sampler == "dpm++"
    assert PointCloudGeneration.from_dict(config.to_dict()) == config


def test_other_modalities_folders_are_refused(tiny_pipeline_dir):
    with pytest.raises(ValueError, match="not a PointCloudPipeline"):
        PointCloudPipeline.from_pretrained(tiny_pipeline_dir)
