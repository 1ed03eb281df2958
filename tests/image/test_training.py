"""The image training set (8-bit pixels in memory, caption embeddings and tokens) and both
configs through `vhdiff train` and `vhdiff image-export`."""

import numpy as np
import pytest
import torch

from vhdiff.image.data import ImageFolder
from vhdiff.image.training import ImageTrainingSet


def test_items_are_the_folders_pixels_on_the_8bit_grid(tiny_image_set):
    data = ImageTrainingSet(root=str(tiny_image_set), size=32, split="train")
    folder = ImageFolder(root=tiny_image_set, size=32, split="train")
    assert len(data) == len(folder)
    x = data[0]["x"]
    assert x.shape == (3, 32, 32) and x.dtype == torch.float32
    levels = (x + 1) * 127.5
    torch.testing.assert_close(levels, levels.round(), atol=1e-4, rtol=0)
    np.testing.assert_array_equal(levels.round().to(torch.uint8).permute(1, 2, 0).numpy(), folder.pixels(0))
    assert data[0]["caption"].startswith("a person ")


def test_text_condition_gives_pooled_embeddings_and_tokens(tiny_image_set):
    data = ImageTrainingSet(root=str(tiny_image_set), size=32, condition="text")
    batch = data.collate_fn([data[0], data[1], data[2]])
    assert batch["x"].shape == (3, 3, 32, 32) and batch["text_emb"].shape == (3, 384)
    tokens, mask = batch["text_tokens"], batch["text_mask"]
    assert tokens.shape[:2] == mask.shape and tokens.shape[2] == 384 and mask.dtype == torch.bool
    assert bool(mask[:, 0].all()) and float(tokens[~mask].abs().sum()) == 0.0  # padding is zero
    # the tables are cached in the folder: a second set reads them back unchanged
    again = ImageTrainingSet(root=str(tiny_image_set), size=32, condition="text")
    torch.testing.assert_close(again.collate_fn([again[0]])["text_tokens"], tokens[:1, : mask[0].sum()])
    with pytest.raises(ValueError, match="unknown image condition"):
        ImageTrainingSet(root=str(tiny_image_set), size=32, condition="pose")


def test_hflip_mirrors_some_items(tiny_image_set):
    plain = ImageTrainingSet(root=str(tiny_image_set), size=32)
    flipped = ImageTrainingSet(root=str(tiny_image_set), size=32, hflip=True)
    torch.manual_seed(0)
    seen = {bool(torch.equal(flipped[0]["x"], plain[0]["x"].flip(-1))) for _ in range(20)}
    assert seen == {True, False}


@pytest.mark.parametrize("config", ["configs/image_humans_32.yaml", "configs/image_humans.yaml"])
def test_the_configs_train_and_export(config, tiny_image_set, tmp_path):
    """Both image configs, shrunk, through `vhdiff train` and the export command."""
    from vhdiff.cli import main
    from vhdiff.image.pipeline import ImagePipeline

    run = tmp_path / "run"
    code = main([
        "train", config, "--out", str(run), f"data.params.root={tiny_image_set}", "data.params.size=32",
        "data.params.build=false", "trainer.max_steps=2", "trainer.batch_size=2", "trainer.save_every=2",
        "trainer.progress=false", "model.params.image_size=32", "model.params.base_channels=16",
        "model.params.channel_mults=[1,2]", "model.params.num_res_blocks=1", "model.params.attention_resolutions=[16]",
        "model.params.norm_groups=4", "diffusion.timesteps=20",
    ])
    assert code == 0
    assert main(["image-export", str(run), str(tmp_path / "model"), "--fp16"]) == 0
    pipe = ImagePipeline.from_pretrained(tmp_path / "model")
    assert pipe.condition == "text" and pipe.diffusion.options.variance == "learned_range"
    assert pipe(2, prompt="a person squatting", steps=2, seed=0).images.shape == (2, 32, 32, 3)
