"""The 'motion_text' training set, its caption-embedding table, the built-in set builder, and
`vhdiff train configs/motion_synthetic.yaml` -> `vhdiff motion-export` -> MotionPipeline."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from vhdiff.motion.training.setup import MotionTrainingSet, ensure_builtin_set
from vhdiff.text.embedding_table import caption_embeddings


@pytest.fixture(scope="module")
def minilm():
    from vhdiff.text import load_text_encoder

    return load_text_encoder("minilm")


def _all_captions(dataset: MotionTrainingSet) -> list[str]:
    return sorted({c for i in range(len(dataset)) for c in dataset[i]["captions"]})


def test_collate_gives_features_mask_and_the_captions_embeddings(tiny_set, minilm):
    dataset = MotionTrainingSet(root=str(tiny_set), split="train", min_frames=10, max_frames=60)
    assert len(dataset) == 10 and dataset.feature_dim == 140
    torch.manual_seed(3)
    batch = dataset.collate_fn([dataset[i] for i in range(4)])
    assert set(batch) == {"x", "mask", "captions", "text_emb"}
    x, mask = batch["x"], batch["mask"]
    assert x.dtype == torch.float32 and mask.dtype == torch.bool
    assert x.shape[0] == 4 and x.shape[2] == 140 and mask.shape == x.shape[:2]
    lengths = [dataset[i]["length"] for i in range(4)]
    assert mask.sum(1).tolist() == lengths and x.shape[1] == max(lengths) <= 60
    assert (x[~mask] == 0).all()
    assert batch["text_emb"].shape == (4, 384) and batch["text_emb"].dtype == torch.float32
    for row, caption in enumerate(batch["captions"]):
        assert caption in dataset[row]["captions"]
    with torch.no_grad():
        want = minilm.encode(batch["captions"]).float()
    torch.testing.assert_close(batch["text_emb"], want, atol=1e-5, rtol=1e-4)


def test_embedding_table_is_reused_without_the_encoder(tiny_set, monkeypatch):
    first = MotionTrainingSet(root=str(tiny_set), split="train", min_frames=10)
    table = tiny_set / "text_embeddings" / "minilm.safetensors"
    assert table.is_file()
    import vhdiff.text

    def refuse(*args, **kwargs):
        raise AssertionError("the text encoder was loaded although every caption is in the table")

    monkeypatch.setattr(vhdiff.text, "load_text_encoder", refuse)
    again = MotionTrainingSet(root=str(tiny_set), split="train", min_frames=10)
    captions = _all_captions(again)
    assert set(captions) <= set(again.embeddings)
    for caption in captions:
        torch.testing.assert_close(again.embeddings[caption], first.embeddings[caption])
    # a caption that is not in the table needs the encoder: then it IS loaded
    with pytest.raises(AssertionError, match="was loaded"):
        caption_embeddings(tiny_set, ["a person does something new"], encoder="minilm")


def test_unconditional_set_has_no_text_emb(tiny_set):
    dataset = MotionTrainingSet(root=str(tiny_set), split="train", min_frames=10, text_encoder=None)
    batch = dataset.collate_fn([dataset[0], dataset[1]])
    assert "text_emb" not in batch and len(batch["captions"]) == 2


def test_bad_representation_is_refused(tiny_set):
    with pytest.raises(ValueError, match="unknown motion representation 'bvh'; choose one of smpl, humanml3d"):
        MotionTrainingSet(root=str(tiny_set), representation="bvh")


def test_ensure_builtin_set_builds_atomically_and_keeps_what_is_there(tmp_path):
    root = tmp_path / "data" / "built"
    assert ensure_builtin_set(root, clips=12, seed=1) == root
    assert (root / "train.txt").is_file() and (root / "feature_stats.npz").is_file()
    assert len(list((root / "motions").glob("*.npz"))) == 12
    assert [p.name for p in (tmp_path / "data").iterdir()] == ["built"]  # no temporary left
    stamp = (root / "train.txt").stat().st_mtime_ns
    ensure_builtin_set(root, clips=30, seed=2)  # a dataset is there: left alone
    assert (root / "train.txt").stat().st_mtime_ns == stamp
    assert len(list((root / "motions").glob("*.npz"))) == 12
    empty = tmp_path / "empty"
    empty.mkdir()
    ensure_builtin_set(empty, clips=12)  # an existing empty folder is filled
    assert (empty / "train.txt").is_file()


def test_ensure_builtin_set_refuses_a_folder_holding_something_else(tmp_path):
    root = tmp_path / "mine"
    root.mkdir()
    (root / "notes.txt").write_text("keep me")
    with pytest.raises(ValueError, match="holds no dataset .no train.txt.; point data.params.root"):
        ensure_builtin_set(root, clips=12)
    assert [p.name for p in root.iterdir()] == ["notes.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["mine"]


def test_train_two_steps_export_and_generate(tmp_path, capsys):
    from vhdiff.cli import main
    from vhdiff.motion.pipeline import MotionPipeline

    run, out, data = tmp_path / "run", tmp_path / "model", tmp_path / "data"
    overrides = [
        "model.params.latent_dim=32", "model.params.num_layers=1", "model.params.num_heads=2",
        "model.params.ff_dim=64", "model.params.max_len=60", "trainer.batch_size=4", "trainer.num_workers=0",
        "trainer.max_steps=2", "trainer.save_every=2", "trainer.log_every=1",
        "trainer.warmup_steps=1", f"data.params.root={data}", "data.params.clips=12",
        "data.params.min_frames=10", "data.params.max_frames=60",
    ]  # fmt: skip
    argv = ["train", "configs/motion_synthetic.yaml", *overrides, "--out", str(run), "--device", "cpu"]
    assert main(argv) == 0
    assert "trained to step 2" in capsys.readouterr().out
    assert (data / "train.txt").is_file()  # build: true made the built-in set
    assert (data / "text_embeddings" / "minilm.safetensors").is_file()

    assert main(["motion-export", str(run), str(out), "--fp16"]) == 0
    assert "fp16" in capsys.readouterr().out
    meta = json.loads((out / "pipeline.json").read_text())
    assert meta["_class"] == "MotionPipeline" and meta["text_encoder"]["name"] == "minilm"
    assert meta["info"]["step"] == 2 and meta["info"]["weights"] == "ema"
    from safetensors import safe_open

    with safe_open(str(out / "model" / "model.safetensors"), framework="pt") as f:
        assert {f.get_slice(k).get_dtype() for k in f.keys()} == {"F16"}  # noqa: SIM118
    pipe = MotionPipeline.from_pretrained(out)
    assert pipe.max_frames == 60 and pipe.fps == 20.0
    # prompt snapping: the index holds the TRAIN split's captions only
    from vhdiff.motion.data import MotionTextDataset

    def split_captions(split):
        return {c for item in MotionTextDataset(data, split, min_frames=10, max_frames=60).captions for c in item}

    assert meta["generation"]["snap"] == 0.5 and meta["prompt_snapping"]["k"] == 8
    assert set(pipe.caption_index.texts) == split_captions("train")
    assert not (split_captions("test") - split_captions("train")) & set(pipe.caption_index.texts)
    np.testing.assert_allclose(pipe.stats.mean, np.load(data / "feature_stats.npz")["mean"])
    motions = pipe(["a person walks forward", "someone jumps"], seconds=1.0, steps=2, seed=0)
    assert [m.num_frames for m in motions] == [20, 20]
    assert all(np.isfinite(m.joints).all() and m.smpl is not None for m in motions)
    assert "init_from" not in meta["info"]

    # fine-tune the exported model (fp16 weights) one more step; the export records its origin
    tuned, tuned_out = tmp_path / "tuned", tmp_path / "tuned_model"
    argv = ["train", "configs/motion_synthetic.yaml", *overrides, "trainer.max_steps=1",
            f"trainer.init_from={out}", "--out", str(tuned), "--device", "cpu"]
    assert main(argv) == 0
    assert main(["motion-export", str(tuned), str(tuned_out)]) == 0
    capsys.readouterr()
    assert json.loads((tuned_out / "pipeline.json").read_text())["info"]["init_from"] == str(out)
