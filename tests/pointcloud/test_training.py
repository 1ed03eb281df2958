"""The point-cloud training set: normalised clouds, subsets, conditions, and a short run."""

import numpy as np
import pytest
import torch

from tests.pointcloud_fixtures import TINY_POINTS
from vhdiff.pointcloud.data import load_clouds, read_split, set_normalization
from vhdiff.pointcloud.training import PointCloudTrainingSet


def test_items_are_normalised_with_the_sets_statistics(tiny_cloud_set):
    data = PointCloudTrainingSet(root=str(tiny_cloud_set), normalization="global")
    ids = read_split(tiny_cloud_set, "train")
    norm = set_normalization(tiny_cloud_set, "global")
    np.testing.assert_allclose(data[0]["x"].numpy(), norm.apply(load_clouds(tiny_cloud_set, ids[:1]))[0], atol=1e-6)
    boxed = PointCloudTrainingSet(root=str(tiny_cloud_set), normalization="shape_bbox")
    x = boxed[1]["x"]
    assert torch.isclose((x.max(0).values - x.min(0).values).max(), torch.tensor(2.0), atol=1e-5)


def test_subsets_and_conditions(tiny_cloud_set):
    data = PointCloudTrainingSet(root=str(tiny_cloud_set), condition="pose", train_points=16)
    item = data[0]
    assert item["x"].shape == (16, 3) and item["pose"].shape == (132,)
    full = PointCloudTrainingSet(root=str(tiny_cloud_set))[0]["x"]
    # a subset of the cloud's own points
    exact = torch.cdist(item["x"], full, compute_mode="donot_use_mm_for_euclid_dist")
    assert exact.min(dim=1).values.max() < 1e-6
    batch = data.collate_fn([data[0], data[1]])
    assert batch["x"].shape == (2, 16, 3) and batch["pose"].shape == (2, 132)
    text = PointCloudTrainingSet(root=str(tiny_cloud_set), condition="text")
    batch = text.collate_fn([text[0], text[1], text[2]])
    assert batch["text_emb"].shape == (3, 384) and all(batch["captions"])
    with pytest.raises(ValueError, match="train_points must be"):
        PointCloudTrainingSet(root=str(tiny_cloud_set), train_points=TINY_POINTS + 1)
    with pytest.raises(ValueError, match="unknown condition"):
        PointCloudTrainingSet(root=str(tiny_cloud_set), condition="colour")


def test_the_config_trains_and_exports(tiny_cloud_set, tmp_path):
    """configs/pointcloud_humans.yaml, shrunk, through `vhdiff train` and the export command."""
    from vhdiff.cli import main
    from vhdiff.pointcloud.pipeline import PointCloudPipeline

    run = tmp_path / "run"
    code = main([
        "train", "configs/pointcloud_humans.yaml", "--out", str(run), f"data.params.root={tiny_cloud_set}",
        "data.params.train_points=32", "trainer.max_steps=4", "trainer.batch_size=4", "trainer.save_every=4",
        "trainer.progress=false", "model.params.encoder_dims=[16,32]", "model.params.decoder_dims=[32]",
        "model.params.context_dim=16",
    ])
    assert code == 0
    assert main(["pointcloud-export", str(run), str(tmp_path / "model"), "--fp16"]) == 0
    pipe = PointCloudPipeline.from_pretrained(tmp_path / "model")
    assert pipe.condition == "text" and pipe.normalization == set_normalization(tiny_cloud_set, "global")
    assert pipe(2, prompt="a person jumps", steps=2, points=20, seed=0).points.shape == (2, 20, 3)
