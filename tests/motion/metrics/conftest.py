"""Fixtures: a toy dataset on disk and an evaluator trained on it for a few steps."""

from __future__ import annotations

import pytest
import torch

from .toy_data import HashTextEncoder, make_toy_dataset

TINY_MODEL = {
    "latent_dim": 64,
    "num_layers": 1,
    "num_heads": 4,
    "ff_dim": 128,
    "text_hidden": 128,
    "embed_dim": 64,
}


@pytest.fixture(scope="session")
def one_thread():
    """Run torch on one thread: on this shared 2-core machine 2 threads are slower."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def toy_data(tmp_path_factory):
    return make_toy_dataset(
        tmp_path_factory.mktemp("motion") / "toy", clips={"train": 160, "val": 48, "test": 64}
    )


@pytest.fixture(scope="session")
def toy_splits(toy_data):
    from vhdiff.motion.data import MotionTextDataset

    train = MotionTextDataset(toy_data, "train")
    return {
        "train": train,
        "val": MotionTextDataset(toy_data, "val", stats=train.stats),
        "test": MotionTextDataset(toy_data, "test", stats=train.stats),
    }


@pytest.fixture(scope="session")
def trained(toy_splits, one_thread):
    """A tiny evaluator trained 150 steps with the hash text encoder (about 10 s)."""
    from vhdiff.motion.metrics.evaluator_training import train_evaluator

    return train_evaluator(
        toy_splits["train"],
        steps=150,
        batch_size=32,
        model_kwargs=TINY_MODEL,
        text_encoder=HashTextEncoder(),
    )
