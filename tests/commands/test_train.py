"""`vhdiff train`: a toy run end to end, --resume, and one-line errors for user mistakes."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

from tests.training.helpers import REPO, TOY_CONFIG, assert_same, checkpoint_weights, cli_env
from vhdiff.cli import main
from vhdiff.training import latest_checkpoint, verify_checkpoint

FAST = ["trainer.progress=false", "trainer.sample_hooks=[]", "trainer.log_every=5",
        "model.params.hidden=32", "data.params.n=512", "trainer.batch_size=32"]


def _train(out, *extra):
    return main(["train", str(TOY_CONFIG), "--device", "cpu", "--out", str(out), *FAST, *extra])


def test_train_then_resume_matches_one_run(tmp_path, capsys):
    assert _train(tmp_path / "one", "trainer.max_steps=20", "trainer.save_every=10") == 0
    assert "trained to step 20" in capsys.readouterr().out

    assert _train(tmp_path / "two", "trainer.max_steps=20", "trainer.save_every=10", "--seed", "0") == 0
    # a second run into the same folder without --resume would mix runs: refused
    assert _train(tmp_path / "two", "trainer.max_steps=20") == 2
    assert "pass --resume" in capsys.readouterr().err
    # lose the last checkpoint: --resume goes on from step 10 and ends where run one did
    shutil.rmtree(tmp_path / "two" / "checkpoints" / "step_00000020")
    assert _train(tmp_path / "two", "trainer.max_steps=20", "--resume") == 0
    final = latest_checkpoint(tmp_path / "two" / "checkpoints")
    assert final.step == 20
    assert_same(checkpoint_weights(final.path), checkpoint_weights(tmp_path / "one" / "checkpoints" / "step_00000020"))
    resolved = (final.path / "config.yaml").read_text()
    assert "max_steps: 20" in resolved and str(tmp_path / "two") in resolved
    lines = [json.loads(s) for s in (tmp_path / "one" / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in lines] == [5, 10, 15, 20]


def test_resume_skips_a_step_without_meta_and_deletes_nothing(tmp_path, capsys):
    """The newest step's meta.json missing: --resume once deleted that folder silently and
    went on from the one before. Now it warns, keeps every file and says where it resumed."""
    assert _train(tmp_path, "trainer.max_steps=20", "trainer.save_every=10") == 0
    step20 = tmp_path / "checkpoints" / "step_00000020"
    (step20 / "meta.json").unlink()
    files = sorted(str(p.relative_to(step20)) for p in step20.rglob("*"))
    capsys.readouterr()
    assert _train(tmp_path, "trainer.max_steps=20", "trainer.save_every=10", "--resume") == 0
    captured = capsys.readouterr()
    err = captured.err.strip().splitlines()
    assert len(err) == 2, captured.err
    assert err[0].startswith(f"vhdiff train: warning: skipping {step20}: it has no meta.json")
    assert "nothing is deleted" in err[0]
    assert err[1] == (f"vhdiff train: warning: {step20} is not a complete checkpoint (no meta.json), so it "
                      "was not written by a save; kept as step_00000020.incomplete and step 20 saved in its place")
    assert f"resumed from step 10 ({tmp_path / 'checkpoints' / 'step_00000010'})" in captured.out
    kept = tmp_path / "checkpoints" / "step_00000020.incomplete"
    assert sorted(str(p.relative_to(kept)) for p in kept.rglob("*")) == files
    verify_checkpoint(step20)


def test_every_resume_says_where_it_resumed(tmp_path, capsys):
    assert _train(tmp_path, "trainer.max_steps=4", "trainer.save_every=2") == 0
    capsys.readouterr()
    assert _train(tmp_path, "trainer.max_steps=6", "--resume") == 0
    out = capsys.readouterr().out
    assert f"resumed from step 4 ({tmp_path / 'checkpoints' / 'step_00000004'})" in out


def test_a_full_disk_is_refused_before_the_run_starts(capsys, full_disk):
    assert _train(full_disk / "run", "trainer.max_steps=2") == 2
    assert "the disk is full" in capsys.readouterr().err
    assert [p.name for p in full_disk.iterdir()] == ["filler"]


def test_a_full_disk_while_saving_is_one_line_and_leaves_no_partial_checkpoint(tmp_path, capsys, monkeypatch):
    import errno

    import torch

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(torch, "save", full)
    assert _train(tmp_path, "trainer.max_steps=2") == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "the disk is full" in err and "step_00000002" in err
    assert "Traceback" not in err and "inline_container" not in err
    assert sorted(p.name for p in (tmp_path / "checkpoints").iterdir()) == []


def test_seed_beyond_its_range_is_one_line(tmp_path, capsys):
    assert _train(tmp_path, "--seed", str(2**70)) == 2
    assert "trainer.seed must lie in [0, 2**32)" in capsys.readouterr().err
    assert _train(tmp_path, "trainer.num_workers=100000") == 2
    assert "trainer.num_workers must be at most 64" in capsys.readouterr().err


def test_user_errors_are_one_line(tmp_path, capsys):
    assert _train(tmp_path, "trainer.max_step=3") == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "unknown config key 'trainer.max_step'" in err
    assert "Traceback" not in err
    assert main(["train", str(tmp_path / "missing.yaml")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert _train(tmp_path, "model.params.widht=3") == 2
    assert "unknown parameter(s) widht for model 'toy_mlp'" in capsys.readouterr().err


def test_corrupt_checkpoint_on_resume_names_the_file(tmp_path, capsys):
    assert _train(tmp_path, "trainer.max_steps=4", "trainer.save_every=2") == 0
    weights = tmp_path / "checkpoints" / "step_00000004" / "model" / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-10])
    assert _train(tmp_path, "trainer.max_steps=6", "--resume") == 2
    err = capsys.readouterr().err
    assert str(weights) in err and "truncated" in err and err.strip().count("\n") == 0


def test_sigkill_during_a_save_keeps_the_previous_checkpoint(tmp_path):
    """Kill -9 a run while it writes its step-20 checkpoint; --resume continues from step 10."""
    out = tmp_path / "run"
    args = [sys.executable, "-m", "vhdiff.cli", "train", str(TOY_CONFIG), "--device", "cpu",
            "--out", str(out), *FAST, "trainer.max_steps=20", "trainer.save_every=10"]
    # saves from step 20 on sleep a minute before their rename
    proc = subprocess.Popen(args, cwd=REPO, env=cli_env(VHDIFF_TEST_SAVE_DELAY_S="60@20"),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    ckdir = out / "checkpoints"
    deadline = time.monotonic() + 90
    try:
        while time.monotonic() < deadline:
            partial = list(ckdir.glob(".step_00000020.partial-*/meta.json")) if ckdir.is_dir() else []
            if partial:  # every file of the new checkpoint is written; the rename is pending
                break
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.05)
        else:
            pytest.fail("the run never reached its second save")
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.communicate()
    assert proc.returncode == -signal.SIGKILL
    assert latest_checkpoint(ckdir).step == 10
    verify_checkpoint(ckdir / "step_00000010")
    assert not (ckdir / "step_00000020").exists()

    assert _train(out, "trainer.max_steps=20", "trainer.save_every=10", "--resume") == 0
    assert latest_checkpoint(ckdir).step == 20
    assert not list(ckdir.glob(".*"))  # the killed save's partial folder is gone
    # identical to a run that was never killed
    assert _train(tmp_path / "clean", "trainer.max_steps=20", "trainer.save_every=10") == 0
    assert_same(checkpoint_weights(ckdir / "step_00000020"),
                checkpoint_weights(tmp_path / "clean" / "checkpoints" / "step_00000020"))


def test_text_condition_encodes_the_batch_prompts():
    import torch

    from vhdiff.text.condition import TextCondition

    class Encoder:
        def encode(self, texts):
            return torch.tensor([[float(len(t))] for t in texts], dtype=torch.float64)

    cond = TextCondition(encoder=Encoder(), text_key="text", output_key="text_emb",
                         device=torch.device("cpu"))
    out = cond({"x": torch.zeros(2, 2), "text": ["walk", "jump up"]})
    assert out["text_emb"].tolist() == [[4.0], [7.0]] and out["text_emb"].dtype == torch.float32
    with pytest.raises(ValueError, match="no 'text' entry"):
        cond(torch.zeros(2, 2))


def test_config_imports_must_exist(tmp_path, capsys):
    assert _train(tmp_path, "imports=[vhdiff_no_such_module]") == 2
    assert "cannot import 'vhdiff_no_such_module'" in capsys.readouterr().err


def test_help_lists_the_options(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["train", "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    for option in ("--resume", "--device", "--seed", "--out", "key=value"):
        assert option in out
