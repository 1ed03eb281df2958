"""The bundled point-cloud model: small, offline, text-conditional, and what the docs say."""

from pathlib import Path

import numpy as np

from vhdiff.pointcloud.pipeline import PointCloudPipeline, bundled_model_dir


def test_the_bundle_is_small_and_loads_offline():
    folder = bundled_model_dir()
    size = sum(p.stat().st_size for p in Path(folder).rglob("*") if p.is_file())
    assert size <= 20 * 2**20  # fp16 weights + config + statistics
    pipe = PointCloudPipeline.from_pretrained()
    assert pipe.condition == "text" and pipe.normalization.kind == "global"
    assert pipe.generation.sampler == "dpm++" and pipe.generation.timestep_spacing == "leading"


def test_unconditional_and_prompted_samples_stand_on_the_floor():
    pipe = PointCloudPipeline.from_pretrained()
    for clouds in (pipe(2, seed=0, points=512), pipe(2, seed=0, points=512, prompt="a person squats", guidance=2.0)):
        assert clouds.points.shape == (2, 512, 3) and np.isfinite(clouds.points).all()
        low, high = np.percentile(clouds.points[..., 1], [1, 99], axis=1)
        assert np.all(np.abs(low) < 0.3) and np.all((high - low > 1.0) & (high - low < 2.2))
