"""Atomic checkpoints: round trip, pruning, leftovers of killed saves, and corrupt files."""

import errno
import json
import os
import subprocess
import sys

import pytest
import torch

from tests.training.helpers import assert_same, params
from vhdiff.atomic_io import OutputError, partial_prefix
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
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


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


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_partial_saves_are_ignored_and_only_dead_ones_cleaned(tmp_path):
    """remove_partial deleted every .tmp-* folder, a live save's included; now only those
    whose process is dead (the new .partial-PID@HOST- names and the older .tmp-*-PID)."""
    _save(tmp_path, 1)
    dead = dead_pid()
    own = partial_prefix("step_00000002")
    partials = [tmp_path / f"{own.replace(f'-{os.getpid()}@', f'-{dead}@')}abc",
                tmp_path / f".tmp-step_00000002-{dead}", tmp_path / f"{own}live"]
    for partial in partials:
        partial.mkdir()
        (partial / "training_state.pt").write_bytes(b"half")
    assert [c.step for c in ckpt.list_checkpoints(tmp_path)] == [1]
    assert ckpt.latest_checkpoint(tmp_path).step == 1
    assert sorted(ckpt.remove_partial(tmp_path)) == sorted(partials[:2])
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["step_00000001", partials[2].name])


def test_a_step_folder_without_meta_is_skipped_kept_and_set_aside_by_a_save(tmp_path):
    _save(tmp_path, 1)
    path = _save(tmp_path, 2)
    (path / "meta.json").unlink()
    (tmp_path / "step_00000003").mkdir()
    (tmp_path / "step_00000003" / "notes.txt").write_text("mine")
    assert [c.step for c in ckpt.list_checkpoints(tmp_path)] == [1]
    assert ckpt.skipped_checkpoints(tmp_path) == [path, tmp_path / "step_00000003"]
    before = sorted(p.relative_to(path) for p in path.rglob("*"))
    with pytest.warns(UserWarning, match=r"step_00000002 is not a complete checkpoint \(no meta.json\).*kept as step_00000002.incomplete"):
        _save(tmp_path, 2)
    kept = tmp_path / "step_00000002.incomplete"
    assert sorted(p.relative_to(kept) for p in kept.rglob("*")) == before  # nothing deleted
    ckpt.verify_checkpoint(tmp_path / "step_00000002")
    assert ckpt.prune_checkpoints(tmp_path, keep_last=1) == [tmp_path / "step_00000001"]
    assert kept.is_dir() and (tmp_path / "step_00000003" / "notes.txt").read_text() == "mine"


def test_a_full_disk_during_a_save_leaves_no_partial_and_the_old_checkpoints(tmp_path, monkeypatch):
    """torch.save on a full disk once left a .tmp-step_* folder filling the disk and two
    tracebacks; now the partial folder is removed and the error is an OutputError."""
    _save(tmp_path, 1)

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(torch, "save", full)
    with pytest.raises(OutputError, match="the disk is full.*free some space"):
        _save(tmp_path, 2)
    assert [p.name for p in tmp_path.iterdir()] == ["step_00000001"]
    ckpt.verify_checkpoint(tmp_path / "step_00000001")


def test_a_save_onto_a_real_full_disk(full_disk):
    with pytest.raises(OutputError, match="the disk is full"):
        _save(full_disk / "checkpoints", 1)
    assert [p.name for p in (full_disk / "checkpoints").iterdir()] == []


def test_weights_with_nan_are_refused_as_corrupt(tmp_path):
    model = ToyMLP(hidden=8, layers=2)
    with torch.no_grad():
        next(model.parameters())[0, 0] = float("nan")
    path = _save(tmp_path, 1, model=model)
    with pytest.raises(CheckpointError, match=r"the weights in .*model\.safetensors are corrupt: .* hold NaN or infinite values"):
        ckpt.load_module_weights(ToyMLP(hidden=8, layers=2), path / "model")


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
