"""torchrun with 2 CPU processes (gloo) optimises exactly what one process does."""

import json
import subprocess
import sys

from tests.training.helpers import REPO, TOY_CONFIG, assert_same, checkpoint_weights, cli_env
from vhdiff.cli import main

RUN = ["trainer.progress=false", "trainer.sample_hooks=[]", "trainer.log_every=2",
       "model.params.hidden=32", "data.params.n=256", "trainer.batch_size=32",
       "trainer.grad_accum=2", "trainer.max_steps=6", "trainer.save_every=3"]


def test_two_gloo_processes_match_one_process(tmp_path):
    ddp_out = tmp_path / "ddp"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           "-m", "vhdiff.cli", "train", str(TOY_CONFIG), "--device", "cpu", "--out", str(ddp_out), *RUN]
    proc = subprocess.run(cmd, cwd=REPO, env=cli_env(), capture_output=True, text=True,
                          timeout=240, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.count("trained to step 6") == 1  # rank 0 alone reports

    assert main(["train", str(TOY_CONFIG), "--device", "cpu", "--out", str(tmp_path / "one"), *RUN]) == 0

    for which in ("model", "ema"):
        # same data, t and noise per sample; only the all-reduce's summation order differs
        assert_same(checkpoint_weights(ddp_out / "checkpoints" / "step_00000006", which),
                    checkpoint_weights(tmp_path / "one" / "checkpoints" / "step_00000006", which),
                    atol=1e-5)
    ddp_log = [json.loads(s) for s in (ddp_out / "metrics.jsonl").read_text().splitlines()]
    one_log = [json.loads(s) for s in (tmp_path / "one" / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in ddp_log] == [2, 4, 6]  # written once, by rank 0
    for a, b in zip(ddp_log, one_log):
        assert abs(a["loss"] - b["loss"]) < 1e-5  # the logged loss is the global-batch mean
    state = __import__("torch").load(ddp_out / "checkpoints" / "step_00000006" / "training_state.pt",
                                     weights_only=True)
    assert state["world_size"] == 2 and len(state["rng"]) == 2
