"""Prompts the bundled model cannot do are flagged (PromptMatch.far, a stderr warning), and
prompts it can do are not. Threshold and rates: benchmarks/prompt_coverage.py, docs/prompts.md."""

from __future__ import annotations

import pytest

from vhdiff.cli import main
from vhdiff.text.snapping import WARN_BELOW

FAR = ("a person does a cartwheel", "someone dances", "a person picks something up from the floor",
       "一个人在跳舞", "💃🕺", "the weather is nice today")
NEAR = ("a person walks forward", "someone ambles forward", "a person springs into the air",
        "someone applauds", "a person boxes with the right fist", "a woman takes a bow")


@pytest.fixture(scope="module")
def bundled():
    from vhdiff.motion.pipeline import MotionPipeline

    return MotionPipeline.from_pretrained()


def test_far_and_near_prompts(bundled):
    assert bundled.prompt_warning == WARN_BELOW == 0.55
    matches = bundled.match_prompts([*FAR, *NEAR])
    assert [m.far for m in matches] == [True] * len(FAR) + [False] * len(NEAR)
    for m in matches:
        assert m.nearest[0][1] == m.similarity and len(m.nearest) == 3
        assert m.nearest[0][0] in bundled.caption_index.texts
        assert (m.warning() is not None) == m.far
    assert "far from everything this model was trained on" in matches[0].warning()


def test_generated_motions_carry_the_match(bundled):
    motions = bundled(["a person does a cartwheel", "a person walks forward"], seconds=1.0, steps=2, seed=0)
    assert motions[0].prompt_match.far and not motions[1].prompt_match.far
    assert motions[0].prompt_match.prompt == "a person does a cartwheel"


def test_the_command_warns_on_stderr(tmp_path, capsys):
    argv = ["--length", "1", "--steps", "2", "--seed", "0", "--no-video"]
    assert main(["motion", "a person does a cartwheel", *argv, "--out", str(tmp_path / "c.npz")]) == 0
    err = capsys.readouterr().err
    assert err.count("warning:") == 1 and "'a person does a cartwheel' is far from everything" in err
    assert (tmp_path / "c.npz").is_file()  # still generated: the warning only informs
    assert main(["motion", "a person walks forward", *argv, "--out", str(tmp_path / "w.npz")]) == 0
    assert "warning" not in capsys.readouterr().err
