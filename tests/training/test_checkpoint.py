"""Atomic checkpoints: round trip, pruning, leftovers of killed saves, and corrupt files."""

import json

import pytest
import torch

from tests.training.helpers import assert_same, params
from vhdiff.toy import ToyMLP
from vhdiff.training import checkpoint as ckpt
from vhdiff.training.checkpoint import CheckpointError


def _save(root, step, metric=None, model=None):
    model = model or ToyMLP(hidden=8, layers=2)
    state = {"step": step, "optimizer": {"lr": torch.tensor([0.5])}, "rng": [torch.arange(3)]}
    return ckpt.save_checkpoint(
        root, step, model=model, ema_model=model, training_state=state, config_text="a: 1\n",
        metric=metric,
    )


def test_round_trip_weights_state_and_config(tmp_path):
    model = ToyMLP(hidden=8, layers=2)
    path = _save(tmp_path, 7, metric=0.25, model=model)
    assert path.name == "step_00000007"
    assert {p.name for p in path.iterdir()} == {"model", "ema", "training_state.pt", "config.yaml", "meta.json"}
    assert json.loads((path / "model" / "config.json").read_text())["hidden"] == 8
    assert ToyMLP.from_pretrained(path / "ema").config == model.config  # a backbone-style folder
    fresh = ToyMLP(hidden=8, layers=2)
    ckpt.load_module_weights(fresh, path / "model")
    assert_same(params(fresh), params(model))
    meta = ckpt.verify_checkpoint(path)
    assert meta["step"] == 7 and meta["metric"] == 0.25
    state = ckpt.load_training_state(path)
    assert state["step"] == 7 and torch.equal(state["rng"][0], torch.arange(3))
    assert (path / "config.yaml").read_text() == "a: 1\n"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".tmp-")]


def test_plain_modules_get_safetensors_and_a_class_named_config(tmp_path):
    lin = torch.nn.Linear(3, 2)
    ckpt.save_module_weights(lin, tmp_path / "w")
    cfg = json.loads((tmp_path / "w" / "config.json").read_text())
    assert cfg["_class_name"] == "torch.nn.modules.linear.Linear"
    other = torch.nn.Linear(3, 2)
    ckpt.load_module_weights(other, tmp_path / "w")
    assert torch.equal(other.weight, lin.weight)
    with pytest.raises(CheckpointError, match="do not fit this model"):
        ckpt.load_module_weights(torch.nn.Linear(4, 2), tmp_path / "w")


def test_partial_saves_are_ignored_and_cleaned(tmp_path):
    _save(tmp_path, 1)
    partial = tmp_path / ".tmp-step_00000002-999"
    partial.mkdir()
    (partial / "training_state.pt").write_bytes(b"half")
    assert [c.step for c in ckpt.list_checkpoints(tmp_path)] == [1]
    assert ckpt.latest_checkpoint(tmp_path).step == 1
    assert ckpt.remove_partial(tmp_path) == [partial]
    assert not partial.exists()


def test_prune_keeps_last_n_and_the_best(tmp_path):
    for step, metric in [(1, 0.9), (2, 0.1), (3, 0.5), (4, 0.4), (5, 0.3)]:
        _save(tmp_path, step, metric)
    ckpt.write_best(tmp_path, 2, 0.1)
    deleted = ckpt.prune_checkpoints(tmp_path, keep_last=2)
    assert sorted(p.name for p in deleted) == ["step_00000001", "step_00000003"]
    assert [c.step for c in ckpt.list_checkpoints(tmp_path)] == [2, 4, 5]
    assert ckpt.read_best(tmp_path) == {"step": 2, "metric": 0.1, "path": "step_00000002"}


def test_resaving_a_step_replaces_it_whole(tmp_path):
    a = ToyMLP(hidden=8, layers=2)
    _save(tmp_path, 3, model=a)
    b = ToyMLP(hidden=8, layers=2)
    path = _save(tmp_path, 3, model=b)
    fresh = ToyMLP(hidden=8, layers=2)
    ckpt.load_module_weights(fresh, path / "model")
    assert_same(params(fresh), params(b))
    assert [p.name for p in tmp_path.iterdir()] == ["step_00000003"]


def test_truncated_weights_name_the_file(tmp_path):
    path = _save(tmp_path, 1)
    weights = path / "model" / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:100])
    with pytest.raises(CheckpointError, match=r"model\.safetensors has 100 bytes.*truncated"):
        ckpt.verify_checkpoint(path)
    with pytest.raises(CheckpointError, match=r"cannot read .*model\.safetensors.*truncated or corrupt"):
        ckpt.load_module_weights(ToyMLP(hidden=8, layers=2), path / "model")


def test_flipped_byte_is_caught_by_the_hash(tmp_path):
    path = _save(tmp_path, 1)
    f = path / "training_state.pt"
    data = bytearray(f.read_bytes())
    data[len(data) // 2] ^= 0xFF
    f.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match=r"training_state\.pt is corrupt \(SHA-256"):
        ckpt.verify_checkpoint(path)
    ckpt.verify_checkpoint(path, hashes=False)  # same size: only the hash notices


def test_garbage_training_state_names_the_file(tmp_path):
    path = _save(tmp_path, 1)
    (path / "training_state.pt").write_bytes(b"not a zip file at all")
    with pytest.raises(CheckpointError, match=r"cannot read .*training_state\.pt"):
        ckpt.load_training_state(path)


def test_missing_or_corrupt_meta(tmp_path):
    path = _save(tmp_path, 1)
    (path / "meta.json").write_text("{not json")
    with pytest.raises(CheckpointError, match=r"meta\.json is corrupt"):
        ckpt.verify_checkpoint(path)
    (path / "meta.json").unlink()
    with pytest.raises(CheckpointError, match=r"meta\.json is missing"):
        ckpt.verify_checkpoint(path)
    with pytest.raises(CheckpointError, match="does not exist"):
        ckpt.verify_checkpoint(tmp_path / "nowhere")
