"""TextMotionEvaluator: embeddings, contrastive loss, save/load, training on a toy set."""

import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from vhdiff.motion.metrics.evaluator import TextMotionEvaluator, contrastive_loss
from vhdiff.motion.metrics.evaluator_training import ground_truth_r_precision, train_evaluator

from .conftest import TINY_MODEL
from .toy_data import HashTextEncoder


def tiny(**kwargs):
    return TextMotionEvaluator(feature_dim=12, **{**TINY_MODEL, **kwargs}).eval()


def test_motion_embeddings_are_unit_vectors_and_ignore_padding():
    model = tiny()
    x = torch.randn(3, 30, 12)
    mask = torch.ones(3, 30, dtype=torch.bool)
    mask[1, 13:] = False
    emb = model.embed_motions(x, mask)
    assert emb.shape == (3, 64)
    assert torch.allclose(emb.norm(dim=1), torch.ones(3), atol=1e-5)
    alone = model.embed_motions(x[1:2, :13])  # the same clip without padding
    assert torch.allclose(emb[1], alone[0], atol=1e-5)
    garbage = x.clone()
    garbage[1, 13:] = 1e3
    assert torch.allclose(model.embed_motions(garbage, mask)[1], emb[1], atol=1e-5)


def test_embed_motions_restores_training_mode_and_batches():
    model = tiny(dropout=0.0).train()
    x = torch.randn(5, 16, 12)
    whole = model.embed_motions(x)
    assert model.training
    assert torch.allclose(model.embed_motions(x, batch_size=2), whole, atol=1e-5)


def test_contrastive_loss_matches_cross_entropy_and_shares_duplicate_captions():
    motion = F.normalize(torch.randn(4, 8), dim=-1)
    text = F.normalize(torch.randn(4, 8), dim=-1)
    scale = torch.tensor(np.log(10.0))
    logits = 10.0 * motion @ text.T
    labels = torch.arange(4)
    expected = (F.cross_entropy(logits, labels) + F.cross_entropy(logits.T, labels)) / 2
    assert torch.allclose(contrastive_loss(motion, text, scale), expected, atol=1e-6)
    # rows 0 and 2 share a caption: swapping which of them pairs with which text is free
    captions = ["walk", "jump", "walk", "sit"]
    swapped = text[[2, 1, 0, 3]]
    assert torch.allclose(
        contrastive_loss(motion, text, scale, captions),
        contrastive_loss(motion, swapped, scale, captions),
        atol=1e-6,
    )
    # a perfect, confident model has a loss near 0
    same = torch.eye(4)
    low = contrastive_loss(same, same, torch.tensor(np.log(100.0)), ["a", "b", "c", "d"])
    assert low < 1e-3


def test_save_and_load_round_trip(tmp_path):
    model = tiny()
    model.save_pretrained(tmp_path / "ev")
    assert {p.name for p in (tmp_path / "ev").iterdir()} == {"config.json", "model.safetensors"}
    config = json.loads((tmp_path / "ev" / "config.json").read_text())
    assert config["feature_dim"] == 12 and config["text_encoder"] == "minilm"
    loaded = TextMotionEvaluator.load(tmp_path / "ev")
    x = torch.randn(2, 20, 12)
    assert torch.equal(loaded.embed_motions(x), model.embed_motions(x))
    sentences = torch.randn(2, 384)
    assert torch.equal(
        loaded.encode_text_features(sentences), model.encode_text_features(sentences)
    )


def test_bad_input_messages(tmp_path):
    model = tiny()
    with pytest.raises(ValueError, match=r"\[B, T, 12\]"):
        model.embed_motions(torch.randn(2, 10, 13))
    with pytest.raises(ValueError, match="at least one real frame"):
        model.embed_motions(torch.randn(2, 10, 12), torch.zeros(2, 10))
    with pytest.raises(ValueError, match=r"mask must be \[B, T\]"):
        model.embed_motions(torch.randn(2, 10, 12), torch.ones(2, 9))
    with pytest.raises(ValueError, match="text_dim=384"):
        model.set_text_encoder(type("Small", (), {"dim": 16})())
    with pytest.raises(ValueError, match=r"\[B, 384\]"):
        model.encode_text_features(torch.randn(2, 100))
    with pytest.raises(ValueError, match="multiple of num_heads"):
        TextMotionEvaluator(latent_dim=30, num_heads=4)
    with pytest.raises(FileNotFoundError, match="config.json"):
        TextMotionEvaluator.load(tmp_path / "nothing")


def test_training_ranks_the_true_caption_well_above_chance(trained, toy_splits):
    assert trained.final_loss < np.mean(trained.losses[:10]) - 1.0
    score = ground_truth_r_precision(trained.evaluator, toy_splits["test"])
    top1, _, top3 = score["r_precision"]
    # chance is 1/32, 2/32, 3/32; eight actions, so ~4 same-action clips share each batch
    assert top3 > 0.45 and top1 > 0.15
    assert score["num_samples"] == 64


def test_training_is_reproducible_with_a_seed(toy_splits, one_thread):
    runs = [
        train_evaluator(
            toy_splits["train"],
            steps=3,
            batch_size=8,
            model_kwargs=TINY_MODEL,
            text_encoder=HashTextEncoder(),
            seed=3,
        )
        for _ in range(2)
    ]
    assert runs[0].losses == runs[1].losses
    state = [r.evaluator.state_dict() for r in runs]
    assert all(torch.equal(state[0][k], state[1][k]) for k in state[0])
