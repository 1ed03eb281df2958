"""The evaluator and `vhdiff eval motion` on the built-in set (`vhdiff prep synthetic-motion`)."""

import json

import pytest

from vhdiff.cli import main
from vhdiff.motion.data import MotionTextDataset
from vhdiff.motion.metrics.evaluator_training import train_evaluator
from vhdiff.motion.metrics.report import evaluate_motion

from .conftest import TINY_MODEL
from .toy_data import HashTextEncoder


@pytest.fixture(scope="module")
def builtin_set(tmp_path_factory):
    out = tmp_path_factory.mktemp("builtin") / "set"
    assert main(["prep", "synthetic-motion", str(out), "--clips", "320", "--seed", "1"]) == 0
    return out


def test_evaluator_trains_and_evaluates_on_the_builtin_set(builtin_set, one_thread):
    train = MotionTextDataset(builtin_set, "train")
    result = train_evaluator(
        train, steps=150, batch_size=32, model_kwargs=TINY_MODEL, text_encoder=HashTextEncoder()
    )
    # the hash "sentence encoder" cannot generalise to unseen captions, so retrieval is
    # checked on the captions it was trained on (the train split), against val for FID
    report = evaluate_motion(builtin_set, evaluator=result.evaluator, split="train")
    truth = report.row("ground truth (train)")
    assert truth.num_samples == len(train) and truth.r_precision[2] > 0.3  # chance 0.094
    # the built-in clips keep their lowest joint on the ground and their feet planted
    assert truth.penetration < 1e-4 and truth.skating_ratio < 0.02
    assert report.split_fid is not None and report.split_fid >= 0


@pytest.mark.slow
def test_prep_and_eval_commands_on_the_builtin_set(builtin_set, tmp_path, capsys, one_thread):
    """MiniLM captions, 400 steps (a few minutes): R-precision far above chance."""
    assert main(["prep", "motion-evaluator", str(builtin_set), "--steps", "400", "--quiet"]) == 0
    record = json.loads((builtin_set / "evaluator" / "training.json").read_text())
    assert record["ground_truth"]["test"]["r_precision"][2] > 0.3  # chance 0.094
    out = tmp_path / "metrics.json"
    assert main(["eval", "motion", "--data", str(builtin_set), "--out", str(out)]) == 0
    assert "no generator" in capsys.readouterr().out
    rows = json.loads(out.read_text())["rows"]
    assert [r["name"] for r in rows] == ["ground truth (test)", "ground truth (val) [floor]"]
