"""Shared test settings: deterministic, small, CPU only."""

import os

import pytest
import torch

os.environ.setdefault("PYOPENGL_PLATFORM", "egl")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(autouse=True)
def _seed_and_threads():
    torch.manual_seed(0)
    yield


# real write failures, a full disk and a read-only folder (tmpfs mounts; skipped without them);
# tiny random motion pipeline folders, shared by the pipeline, command and text tests
from tests.disk_fixtures import full_disk, read_only_dir  # noqa: F401
from tests.image_fixtures import (  # noqa: F401
    tiny_image_pipeline_dir,
    tiny_image_set,
    tiny_text_image_pipeline_dir,
)
from tests.motion_fixtures import planted_pipeline_dir, tiny_pipeline_dir  # noqa: F401
from tests.pointcloud_fixtures import (  # noqa: F401
    tiny_cloud_pipeline_dir,
    tiny_cloud_set,
    tiny_pose_cloud_pipeline_dir,
    tiny_text_cloud_pipeline_dir,
)
