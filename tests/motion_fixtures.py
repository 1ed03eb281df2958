"""A tiny random text-to-motion pipeline folder (MiniLM text encoder, 1-layer transformer,
100 diffusion steps, at most 2 s), saved once per test session."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture(scope="session")
def tiny_pipeline_dir(tmp_path_factory):
    import torch

    from vhdiff.backbones import MotionTransformer
    from vhdiff.motion.pipeline import MotionPipeline
    from vhdiff.motion.representation.smpl import FEATURE_DIM
    from vhdiff.motion.representation.stats import FeatureStats

    torch.manual_seed(0)
    model = MotionTransformer(
        input_dim=FEATURE_DIM, latent_dim=32, num_layers=1, num_heads=2, ff_dim=64,
        dropout=0.0, max_len=40, text_dim=384,
    )  # fmt: skip
    stats = FeatureStats(mean=np.zeros(FEATURE_DIM), std=np.full(FEATURE_DIM, 0.2))
    pipe = MotionPipeline(
        model=model,
        diffusion={"timesteps": 100, "prediction": "x0"},
        stats=stats,
        text_encoder={"name": "minilm", "params": {}},
        fps=20.0,
    )
    return pipe.save_pretrained(tmp_path_factory.mktemp("pipelines") / "tiny")


@pytest.fixture(scope="session")
def planted_pipeline_dir(tiny_pipeline_dir, tmp_path_factory):
    """The tiny pipeline with its contact channels' mean at 0.5: about half of its frames
    mark a foot as planted (the tiny pipeline's own stats almost never do)."""
    from vhdiff.motion.pipeline import MotionPipeline
    from vhdiff.motion.representation.smpl import CONTACTS
    from vhdiff.motion.representation.stats import FeatureStats

    pipe = MotionPipeline.from_pretrained(tiny_pipeline_dir)
    mean = np.array(pipe.stats.mean, dtype=np.float64)
    mean[CONTACTS] = 0.5
    pipe.stats = FeatureStats(mean=mean, std=pipe.stats.std)
    return pipe.save_pretrained(tmp_path_factory.mktemp("pipelines") / "planted")
