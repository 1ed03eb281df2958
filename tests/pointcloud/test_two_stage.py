"""The two-stage point-cloud model: the autoencoder and prior configs through `vhdiff train`
and the export command, the latent training set, and the pipeline's encode / decode."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vhdiff.cli import main

AE_OVERRIDES = [
    "data.params.train_points=32", "trainer.max_steps=3", "trainer.batch_size=4", "trainer.save_every=3",
    "trainer.progress=false", "model.params.latent_dim=8", "model.params.encoder_dims=[16,32]",
    "model.params.head_dims=[16]", "model.params.denoiser_encoder_dims=[16]", "model.params.denoiser_decoder_dims=[16]",
    "model.params.context_dim=16",
]
PRIOR_OVERRIDES = [
    "trainer.max_steps=3", "trainer.batch_size=4", "trainer.save_every=3", "trainer.progress=false",
    "model.params.latent_dim=8", "model.params.width=16", "model.params.hidden=16", "model.params.depth=1",
]


@pytest.fixture(scope="module")
def two_stage(tiny_cloud_set, tmp_path_factory):
    """(the set, the autoencoder run, its export, the two-stage export), trained a few steps."""
    tmp = tmp_path_factory.mktemp("two_stage")
    ae_run, prior_run = tmp / "ae_run", tmp / "prior_run"
    assert main(["train", "configs/pointcloud_humans_ae.yaml", "--out", str(ae_run),
                 f"data.params.root={tiny_cloud_set}", *AE_OVERRIDES]) == 0
    assert main(["pointcloud-export", str(ae_run), str(tmp / "ae_model")]) == 0
    assert main(["train", "configs/pointcloud_humans_prior.yaml", "--out", str(prior_run),
                 f"data.params.root={tiny_cloud_set}", f"data.params.autoencoder={ae_run}", *PRIOR_OVERRIDES]) == 0
    assert main(["pointcloud-export", str(prior_run), str(tmp / "model"), "--fp16"]) == 0
    return tiny_cloud_set, ae_run, tmp / "ae_model", tmp / "model"


def test_the_exported_two_stage_model_samples_in_metres(two_stage, tmp_path):
    from vhdiff.pointcloud.pipeline import PointCloudPipeline

    _, _, _, folder = two_stage
    assert (folder / "prior" / "model" / "model.safetensors").is_file()
    pipe = PointCloudPipeline.from_pretrained(folder)
    assert pipe.prior is not None and pipe.condition == "text"
    a = pipe(3, seed=1, points=20, steps=2, prior_steps=3)
    assert a.points.shape == (3, 20, 3) and np.isfinite(a.points).all()
    np.testing.assert_array_equal(pipe(3, seed=1, points=20, steps=2, prior_steps=3).points, a.points)
    assert not np.array_equal(pipe(3, seed=2, points=20, steps=2, prior_steps=3).points, a.points)
    prompted = pipe(2, prompt="a person squats", guidance=2.0, points=20, steps=2, prior_steps=3, seed=0)
    assert prompted.points.shape == (2, 20, 3) and prompted.prompt == "a person squats"
    # a save of the loaded pipeline samples the same clouds
    again = PointCloudPipeline.from_pretrained(pipe.save_pretrained(tmp_path / "again"))
    np.testing.assert_array_equal(again(3, seed=1, points=20, steps=2, prior_steps=3).points, a.points)
    with pytest.raises(ValueError, match="takes no pose"):
        pipe(2, pose=np.zeros((22, 3)))


def test_the_command_writes_clouds_of_a_two_stage_model(two_stage, tmp_path):
    _, _, _, folder = two_stage
    out = tmp_path / "clouds"
    assert main(["pointcloud", "--checkpoint", str(folder), "--num", "2", "--points", "24", "--steps", "2",
                 "--seed", "0", "--out", str(out)]) == 0
    import trimesh

    cloud = trimesh.load(out / "cloud_001.ply")
    assert np.asarray(cloud.vertices).shape == (24, 3)


def test_encode_decode_and_an_autoencoder_alone(two_stage):
    from vhdiff.pointcloud.data import load_clouds, read_split
    from vhdiff.pointcloud.pipeline import PointCloudPipeline

    root, _, ae_folder, _ = two_stage
    pipe = PointCloudPipeline.from_pretrained(ae_folder)
    real = load_clouds(root, read_split(root, "test"))
    codes = pipe.encode(real)
    assert codes.shape == (len(real), 8)
    clouds = pipe.decode(codes, seed=0, points=30, steps=2)
    assert clouds.points.shape == (len(real), 30, 3)
    # in metres: undone with the set's normalization, so near the real clouds' scale
    assert 0.1 < clouds.points[..., 1].std() < 10
    with pytest.raises(ValueError, match="without a latent prior"):
        pipe(2)
    with pytest.raises(ValueError, match=r"codes \[K, 8\]"):
        pipe.decode(torch.zeros(2, 5))
    with pytest.raises(ValueError, match=r"clouds \[K, P, 3\]"):
        pipe.encode(np.zeros((4, 3)))


def test_one_stage_models_have_no_codes(tiny_cloud_pipeline_dir):
    from vhdiff.pointcloud.pipeline import PointCloudPipeline

    with pytest.raises(ValueError, match="one-stage"):
        PointCloudPipeline.from_pretrained(tiny_cloud_pipeline_dir).encode(np.zeros((1, 5, 3)))


def test_the_latent_set_is_standardised_train_codes(two_stage):
    from vhdiff.pointcloud.training import PointCloudLatentSet

    root, ae_run, _, _ = two_stage
    train = PointCloudLatentSet(root=str(root), autoencoder=str(ae_run), condition="text")
    torch.testing.assert_close(train.codes.mean(0), torch.zeros(8), atol=1e-5, rtol=0)
    torch.testing.assert_close(train.codes.std(0), torch.ones(8), atol=1e-4, rtol=0)
    batch = train.collate_fn([train[0], train[1]])
    assert batch["x"].shape == (2, 8) and batch["text_emb"].shape == (2, 384)
    test = PointCloudLatentSet(root=str(root), autoencoder=str(ae_run), split="test")
    torch.testing.assert_close(test.mean, train.mean)  # standardised with the train split's statistics
    with pytest.raises(ValueError, match="none or text"):
        PointCloudLatentSet(root=str(root), autoencoder=str(ae_run), condition="pose")


def test_a_prior_needs_an_autoencoder(two_stage, tiny_cloud_pipeline_dir):
    from vhdiff.pointcloud.pipeline import PointCloudPipeline

    with pytest.raises(ValueError, match="not a PointCloudAutoencoder"):
        PointCloudPipeline.load_autoencoder(tiny_cloud_pipeline_dir)
