"""A tiny built-in human point-cloud set (15 clouds of 64 points) and tiny random point-cloud
pipeline folders (unconditional, text- and pose-conditional), made once per test session."""

from __future__ import annotations

import pytest

TINY_POINTS = 64


@pytest.fixture(scope="session")
def tiny_cloud_set(tmp_path_factory):
    from vhdiff.data_prep.human_pointclouds import write_human_pointclouds

    out = tmp_path_factory.mktemp("pointclouds") / "set"
    write_human_pointclouds(out, num=15, points=TINY_POINTS, seed=3)
    return out


def _tiny_pipeline(tmp_path_factory, tiny_cloud_set, condition: str):
    import torch

    from vhdiff.backbones import PointNetDenoiser
    from vhdiff.pointcloud.data import set_normalization
    from vhdiff.pointcloud.pipeline import PointCloudPipeline
    from vhdiff.pointcloud.pose import POSE_DIM

    torch.manual_seed(0)
    model = PointNetDenoiser(
        encoder_dims=(16, 32), decoder_dims=(32,), context_dim=16,
        cond_dim=384 if condition == "text" else None, pose_dim=POSE_DIM if condition == "pose" else None,
    )
    pipe = PointCloudPipeline(
        model=model, diffusion={"timesteps": 100, "prediction": "eps"},
        normalization=set_normalization(tiny_cloud_set, "global"), condition=condition,
        text_encoder={"name": "minilm", "params": {}} if condition == "text" else None,
    )
    pipe.generation = pipe.generation.replace(steps=4, points=TINY_POINTS)
    return pipe.save_pretrained(tmp_path_factory.mktemp("pointcloud_pipelines") / condition)


@pytest.fixture(scope="session")
def tiny_cloud_pipeline_dir(tmp_path_factory, tiny_cloud_set):
    return _tiny_pipeline(tmp_path_factory, tiny_cloud_set, "none")


@pytest.fixture(scope="session")
def tiny_text_cloud_pipeline_dir(tmp_path_factory, tiny_cloud_set):
    return _tiny_pipeline(tmp_path_factory, tiny_cloud_set, "text")


@pytest.fixture(scope="session")
def tiny_pose_cloud_pipeline_dir(tmp_path_factory, tiny_cloud_set):
    return _tiny_pipeline(tmp_path_factory, tiny_cloud_set, "pose")
