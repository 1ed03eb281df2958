"""Prompt snapping: prompts pulled towards the training captions' embeddings."""

from __future__ import annotations

import json

import pytest
import torch

from vhdiff.motion.pipeline import MotionPipeline
from vhdiff.text.snapping import CAPTIONS_FILE, CaptionIndex, SnapSettings


def _index() -> CaptionIndex:
    emb = torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [0.6, 0.8, 0.0]])
    return CaptionIndex(embeddings=emb, texts=["walk", "jump", "stand", "walk-jump"])


def test_strength_zero_leaves_prompts_alone_and_one_replaces_them():
    index = _index()
    q = torch.tensor([[0.9, 0.1, 0.05]])
    assert torch.equal(index.snap(q, SnapSettings(strength=0.0)), q)
    # a cold softmax over the nearest caption only: the nearest caption itself
    out = index.snap(q, SnapSettings(strength=1.0, k=1))
    torch.testing.assert_close(out, torch.tensor([[1.0, 0.0, 0.0]]))


def test_snap_is_the_softmax_blend_of_the_k_nearest_captions():
    index = _index()
    q = torch.tensor([[0.8, 0.6, 0.0], [0.0, 0.2, 1.0]])
    s = SnapSettings(strength=0.3, k=2, temperature=0.5)
    out = index.snap(q, s)
    unit = torch.nn.functional.normalize(index.embeddings, dim=-1)
    for row in range(2):
        sims = torch.nn.functional.normalize(q[row], dim=0) @ unit.T
        top = sims.topk(2)
        w = torch.softmax(top.values / 0.5, 0)
        want = 0.7 * q[row] + 0.3 * (w[:, None] * index.embeddings[top.indices]).sum(0)
        torch.testing.assert_close(out[row], want)
    assert index.nearest(q, k=1)[0][0][0] == "walk-jump"


def test_bad_settings_and_shapes_are_refused():
    with pytest.raises(ValueError, match="strength must lie in"):
        SnapSettings(strength=1.5)
    with pytest.raises(ValueError, match="k must be an integer"):
        SnapSettings(k=0)
    with pytest.raises(ValueError, match="temperature must be > 0"):
        SnapSettings(temperature=0.0)
    with pytest.raises(ValueError, match=r"must have shape \[B, 3\]"):
        _index().snap(torch.zeros(2, 4))
    with pytest.raises(ValueError, match="embeddings"):
        CaptionIndex(embeddings=torch.zeros(2, 3), texts=["one"])


def test_index_file_round_trip_and_corrupt_file(tmp_path):
    index = _index()
    path = index.save(tmp_path / CAPTIONS_FILE)
    back = CaptionIndex.load(path)
    assert back.texts == index.texts
    torch.testing.assert_close(back.embeddings, index.embeddings, atol=1e-3, rtol=0)
    path.write_bytes(b"not a safetensors file")
    with pytest.raises(ValueError, match="not a readable caption index"):
        CaptionIndex.load(path)


def test_pipeline_folder_keeps_the_index_and_encode_text_snaps(tiny_pipeline_dir, tmp_path):
    pipe = MotionPipeline.from_pretrained(tiny_pipeline_dir)
    assert pipe.caption_index is None
    raw = pipe.encode_text(["someone ambles forward"])["text_emb"]
    captions = ["a person walks forward", "a person jumps in place", "a person stands still"]
    pipe.caption_index = CaptionIndex(embeddings=pipe.text_encoder.encode(captions).float(), texts=captions)
    pipe.snapping = SnapSettings(strength=0.7, k=2)
    folder = pipe.save_pretrained(tmp_path / "snapping")
    meta = json.loads((folder / "pipeline.json").read_text())
    assert meta["prompt_snapping"]["k"] == 2 and meta["prompt_snapping"]["temperature"] == 0.02 and meta["generation"]["snap"] == 0.7

    loaded = MotionPipeline.from_pretrained(folder)
    assert loaded.caption_index.texts == captions and loaded.snapping.strength == 0.7
    snapped = loaded.encode_text(["someone ambles forward"])["text_emb"]
    torch.testing.assert_close(snapped, loaded.caption_index.snap(raw, loaded.snapping))
    assert (snapped - raw).abs().max() > 1e-2
    assert loaded.caption_index.nearest(raw, k=1)[0][0][0] == "a person walks forward"
    loaded.snapping = SnapSettings(strength=0.0)
    torch.testing.assert_close(loaded.encode_text(["someone ambles forward"])["text_emb"], raw)
