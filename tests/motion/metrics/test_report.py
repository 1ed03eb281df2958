"""evaluate_motion and `vhdiff eval motion` / `vhdiff prep motion-evaluator` on the toy set."""

import json

import pytest
import torch

from vhdiff.cli import main
from vhdiff.motion.metrics.report import evaluate_motion

from .toy_generators import noise, retrieval


def _factory_kwargs(toy_splits, toy_data):
    return {
        "data": toy_data,
        "stats": toy_splits["test"].stats,
        "fps": 20.0,
        "device": "cpu",
        "seed": 0,
    }


@pytest.fixture(scope="module")
def reports(trained, toy_splits, toy_data):
    kwargs = _factory_kwargs(toy_splits, toy_data)
    return {
        name: evaluate_motion(
            toy_data, generate_fn=factory(None, **kwargs), evaluator=trained.evaluator, mm_texts=8
        )
        for name, factory in (("retrieval", retrieval), ("noise", noise))
    }


def test_ground_truth_rows_and_split_fid(reports):
    report = reports["retrieval"]
    truth, floor = report.row("ground truth (test)"), report.row("ground truth (val)")
    assert truth.fid is None and truth.multimodality is None and truth.num_samples == 64
    assert report.split_fid == floor.fid and floor.fid > 0
    assert truth.r_precision[2] > 0.45  # the true caption ranks top-3 far above chance (3/32)
    assert truth.diversity > 0 and truth.diversity_times == 64
    # the toy clips stand on the ground and do not slide much
    assert truth.penetration < 0.01 and truth.skating_ratio < 0.2


def test_a_real_motion_generator_scores_near_ground_truth_and_noise_scores_badly(reports):
    good = reports["retrieval"].row("generated")
    bad = reports["noise"].row("generated")
    floor = reports["retrieval"].split_fid
    assert good.fid < 3 * floor + 0.05 < bad.fid
    assert good.r_precision[2] > 0.4
    assert bad.r_precision[2] < 0.3  # about chance
    assert good.multimodality > 0 and bad.multimodality > 0
    assert bad.jitter > 10 * good.jitter  # white-noise features shake every joint


def test_report_json_round_trip(reports, tmp_path):
    path = reports["noise"].save(tmp_path / "m.json")
    data = json.loads(path.read_text())
    assert [r["name"] for r in data["rows"]] == [
        "ground truth (test)",
        "ground truth (val) [floor]",
        "generated",
    ]
    assert data["settings"]["num_samples"] == 64 and data["settings"]["mm_texts"] == 8
    assert len(data["rows"][2]["r_precision"]) == 3
    assert "R@3" in reports["noise"].table()


def test_generate_fn_output_is_checked(trained, toy_data):
    import torch

    with pytest.raises(ValueError, match=r"must return \[B=64, T>="):
        evaluate_motion(
            toy_data,
            generate_fn=lambda captions, lengths: torch.zeros(len(captions), 3, 140),
            evaluator=trained.evaluator,
        )


def test_evaluate_motion_needs_32_clips(trained, toy_data):
    with pytest.raises(ValueError, match="at least 32 clips"):
        evaluate_motion(toy_data, evaluator=trained.evaluator, num_samples=20)


def test_prep_and_eval_commands_end_to_end(toy_data, tmp_path, capsys, one_thread):
    """MiniLM for real: train 40 steps with the prep command, then evaluate via the CLI."""
    status = main(["prep", "motion-evaluator", str(toy_data), "--steps", "40", "--batch-size", "16",
                   "--out", str(tmp_path / "ev"), "--quiet"])  # fmt: skip
    assert status == 0
    record = json.loads((tmp_path / "ev" / "training.json").read_text())
    assert record["steps"] == 40 and len(record["ground_truth"]["test"]["r_precision"]) == 3
    assert "ground truth test" in capsys.readouterr().out

    out = tmp_path / "metrics.json"
    args = ["eval", "motion", "--data", str(toy_data), "--evaluator", str(tmp_path / "ev"),
            "--out", str(out), "--mm-texts", "4"]  # fmt: skip
    generator = "tests.motion.metrics.toy_generators:retrieval"
    assert main([*args, "--generator", generator]) == 0
    printed = capsys.readouterr().out
    assert "ground truth (test)" in printed and "generated (tests.motion.metrics" in printed
    data = json.loads(out.read_text())
    assert data["settings"]["generator"] == generator and len(data["rows"]) == 3


def test_eval_command_errors(toy_data, tmp_path, capsys):
    assert main(["eval", "motion", "--data", str(tmp_path / "missing")]) == 2
    assert "is not a folder" in capsys.readouterr().err
    assert main(["eval", "motion", "--data", str(toy_data), "--evaluator", str(tmp_path)]) == 2
    assert "vhdiff prep motion-evaluator" in capsys.readouterr().err
    assert main(["prep", "motion-evaluator", str(tmp_path / "nothing")]) == 2
    assert "vhdiff prep synthetic-motion" in capsys.readouterr().err
    # MultiModality draws 10 pairs per caption: fewer repeats is refused before any work
    assert main(["eval", "motion", "--data", str(toy_data), "--mm-repeats", "5"]) == 2
    err = capsys.readouterr().err
    assert "--mm-repeats must be 0 (skip it) or >= 10" in err and err.strip().count("\n") == 0
    for option, value, message in [
        ("--mm-repeats", "1000000000", "--mm-repeats must be between 0 and 100 motions per caption"),
        ("--batch-size", "0", "--batch-size must be between 1 and 1024 captions"),
        ("--batch-size", "100000", "--batch-size must be between 1 and 1024 captions"),
        ("--num-samples", "0", "--num-samples must be between 1 and 100000 clips"),
        ("--smoothing", "1e9", "--smoothing must be a number of frames >= 0 (0 = off) and at most 50"),
        ("--seed", str(2**70), "--seed must be an integer from 0 to 2**63 - 1"),
    ]:
        assert main(["eval", "motion", "--data", str(toy_data), option, value]) == 2
        err = capsys.readouterr().err
        assert message in err and err.strip().count("\n") == 0, (option, err)
    with pytest.raises(SystemExit):  # argparse: auto, cpu or cuda only
        main(["eval", "motion", "--data", str(toy_data), "--device", "tpu"])
    assert "invalid choice: 'tpu'" in capsys.readouterr().err


def test_checkpoint_without_pipeline_or_bad_generator_is_a_clear_error(
    trained, toy_data, tmp_path, capsys
):
    trained.evaluator.save_pretrained(tmp_path / "ev")
    base = ["eval", "motion", "--data", str(toy_data), "--evaluator", str(tmp_path / "ev"),
            "--out", str(tmp_path / "m.json")]  # fmt: skip
    ckpt = tmp_path / "ckpt"
    ckpt.mkdir()
    assert main([*base, "--checkpoint", str(ckpt)]) == 2
    assert "neither a checkpoint folder" in capsys.readouterr().err  # an empty folder
    assert main([*base, "--generator", "nocolon"]) == 2
    assert "MODULE:FUNCTION" in capsys.readouterr().err
    assert main([*base, "--generator", "tests.motion.metrics.toy_generators:absent"]) == 2
    assert "no function 'absent'" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "options"),
    [
        (["eval", "motion", "--help"], ("--data", "--checkpoint", "--device", "--seed", "--mm-repeats")),
        (["prep", "motion-evaluator", "--help"], ("--steps", "--device", "--seed", "--out")),
        (["prep", "synthetic-motion", "--help"], ("--clips", "--seed", "--fps")),
    ],
)
def test_commands_have_help(argv, options, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert all(option in out for option in options), out


def test_generate_motion_set_batches_by_length_and_keeps_the_caption_order():
    from vhdiff.motion.metrics.protocol import generate_motion_set

    lengths = [5, 30, 12, 30, 7, 20, 3]
    captions = [f"caption {i}" for i in range(len(lengths))]
    calls = []

    def generate_fn(chunk, sizes):
        calls.append(list(sizes))
        out = torch.zeros(len(chunk), max(sizes), 4)
        for row, caption in enumerate(chunk):
            out[row, :, 0] = float(caption.split()[1])  # each row says which caption it was for
        return out

    motions = generate_motion_set(generate_fn, captions, lengths, feature_dim=4, batch_size=3)
    assert calls == [[30, 30, 20], [12, 7, 5], [3]]  # longest first; equal lengths in order
    for i, n in enumerate(lengths):
        assert (motions.features[i, :n, 0] == i).all() and (motions.features[i, n:] == 0).all()
    assert motions.captions == captions and motions.lengths == lengths
    assert motions.mask.sum(1).tolist() == lengths
