"""The procedural text-motion set: clips obey their captions, feet stay planted, the set
loads, splits and held-out templates are as documented."""

import json

import numpy as np
import pytest
from vhdiff.data_prep.motion_vocab.actions import FAMILIES, JUMP_HEIGHTS, nominal_distance
from vhdiff.data_prep.motion_vocab.captions import HELD_OUT_TEMPLATES, SUBJECTS, clip_captions
from vhdiff.data_prep.motion_vocab.clips import ClipSpec, make_motion, sample_clip
from vhdiff.data_prep.motion_vocab.poses import euler_to_matrix
from vhdiff.data_prep.synthetic_motion import write_synthetic_set

from vhdiff.body import rotations_np as nr
from vhdiff.cli import main as cli_main
from vhdiff.motion.data import MotionTextDataset, read_split
from vhdiff.motion.representation.smpl import joints_from_motion, root_heading

FPS = 20.0


def _motion(segment, heading=0.7):
    spec = ClipSpec(segments=[segment], betas=np.zeros(10, np.float32), start_heading=heading)
    motion = make_motion(spec, fps=FPS)
    return motion, joints_from_motion(motion)


def _facing(joints):
    """Facing direction (x, z) per frame from the hips and shoulders (HumanML3D's rule)."""
    across = (joints[:, 2] - joints[:, 1]) + (joints[:, 17] - joints[:, 16])  # right - left
    forward = np.cross([0.0, 1.0, 0.0], across)  # up x across: +Z in the rest pose
    return forward[:, [0, 2]] / np.linalg.norm(forward[:, [0, 2]], axis=1, keepdims=True)


def skating_transitions(joints, fps=FPS, height=0.05, speed=0.5):
    """Per foot joint (10, 11) and transition: in contact (below `height` at both frames)
    while moving faster than `speed` m/s horizontally (GMD-style, without the window)."""
    feet = joints[:, [10, 11]]
    contact = (feet[1:, :, 1] < height) & (feet[:-1, :, 1] < height)
    velocity = np.linalg.norm(np.diff(feet[..., [0, 2]], axis=0), axis=-1) * fps
    return contact & (velocity > speed)


def test_euler_angles_compose_as_documented():
    angles = np.random.default_rng(0).normal(size=(5, 3))
    rx, ry, rz = (nr.axis_angle_to_matrix(np.eye(3)[i] * angles[:, i : i + 1]) for i in range(3))
    np.testing.assert_allclose(euler_to_matrix(angles), ry @ rx @ rz, atol=1e-12)


@pytest.mark.parametrize(
    ("speed", "direction"),
    [("slow", "forward"), ("normal", "forward"), ("fast", "forward"), ("normal", "backward")],
)
def test_walk_covers_speed_times_duration_along_its_heading(speed, direction):
    segment = {
        "family": "walk",
        "speed": speed,
        "direction": direction,
        "curve": "none",
        "duration": 5.0,
    }
    motion, joints = _motion(segment, heading=0.7)
    facing = np.array([np.sin(0.7), np.cos(0.7)])
    travel = motion.transl[-1, [0, 2]] - motion.transl[0, [0, 2]]
    expected = nominal_distance(segment) * (1 if direction == "forward" else -1)
    assert travel @ facing == pytest.approx(expected, rel=0.05)
    lateral = travel @ np.array([facing[1], -facing[0]])
    assert abs(lateral) < 0.1
    np.testing.assert_allclose(_facing(joints)[[0, -1]], [facing, facing], atol=0.05)
    assert not skating_transitions(joints).any()
    assert joints[..., 1].min() > -1e-4


def test_run_is_faster_than_walk_and_never_slides():
    walk, _ = _motion(
        {
            "family": "walk",
            "speed": "fast",
            "direction": "forward",
            "curve": "none",
            "duration": 4.0,
        }
    )
    run, joints = _motion({"family": "run", "speed": "jog", "duration": 4.0})
    distance = lambda m: np.linalg.norm(m.transl[-1, [0, 2]] - m.transl[0, [0, 2]])
    assert distance(run) > distance(walk) * 1.15
    assert not skating_transitions(joints).any()


@pytest.mark.parametrize("side", ["left", "right"])
def test_wave_raises_that_wrist_above_that_shoulder(side):
    _, joints = _motion({"family": "wave", "side": side, "repetitions": 3})
    wrist, shoulder = (20, 16) if side == "left" else (21, 17)
    other_wrist, other_shoulder = (21, 17) if side == "left" else (20, 16)
    above = joints[:, wrist, 1] > joints[:, shoulder, 1] + 0.1
    assert above.mean() > 0.4
    assert not (joints[:, other_wrist, 1] > joints[:, other_shoulder, 1]).any()
    # the hand moves back and forth while up (waving), not just held
    assert np.ptp(joints[above, wrist, 0] - joints[above, shoulder, 0]) > 0.1


@pytest.mark.parametrize("height", ["low", "high"])
def test_jump_leaves_the_ground_and_lands_in_place(height):
    _, joints = _motion({"family": "jump", "repetitions": 1, "height": height, "forward": False})
    lowest = joints[..., 1].min(axis=1)
    assert lowest.max() == pytest.approx(JUMP_HEIGHTS[height], abs=0.03)
    assert lowest[0] < 1e-4 and lowest[-1] < 1e-4
    feet = joints[:, [7, 8, 10, 11]][..., [0, 2]]
    np.testing.assert_allclose(feet[-1], feet[0], atol=0.05)


@pytest.mark.parametrize(("side", "sign"), [("left", 1.0), ("right", -1.0)])
def test_turn_left_is_counter_clockwise_seen_from_above(side, sign):
    motion, joints = _motion({"family": "turn", "side": side, "angle": 90, "duration": 2.5})
    first, last = _facing(joints)[[0, -1]]
    # cross product's y component: positive = counter-clockwise seen from +Y (above)
    cross_y = first[1] * last[0] - first[0] * last[1]
    assert np.sign(cross_y) == sign
    assert np.degrees(np.arccos(np.clip(first @ last, -1, 1))) == pytest.approx(90, abs=5)
    heading = root_heading(motion)
    assert np.degrees(heading[-1] - heading[0]) == pytest.approx(90 * sign, abs=1)
    assert np.linalg.norm(motion.transl[-1, [0, 2]] - motion.transl[0, [0, 2]]) < 0.1  # on the spot
    assert not skating_transitions(joints).any()


def test_random_clips_touch_but_never_penetrate_the_ground_and_barely_slide():
    rng = np.random.default_rng(5)
    ratios = []
    for _ in range(40):
        spec = sample_clip(rng, fps=FPS)
        joints = joints_from_motion(make_motion(spec, fps=FPS))
        lowest = joints[..., 1].min(axis=1)
        assert lowest.min() > -1e-4  # no penetration
        if not any(s["family"] == "jump" for s in spec.segments):
            assert lowest.max() < 1e-4  # something always touches the ground
        assert 2.0 <= (len(joints) - 1) / FPS <= 9.8
        ratios.append(skating_transitions(joints).any(axis=1).mean())
    assert max(ratios) == 0.0  # measured: 0 of 400 clips skate (benchmarks/bench_motion_data.py)


def test_captions_state_the_parameters():
    rng = np.random.default_rng(0)
    walk = {
        "family": "walk",
        "speed": "slow",
        "direction": "backward",
        "curve": "none",
        "duration": 4.0,
    }
    for caption in clip_captions([walk], rng, count=3):
        assert "backward" in caption
    wave = {"family": "wave", "side": "right", "repetitions": 2}
    turn = {"family": "turn", "side": "left", "angle": 180, "duration": 3.0}
    captions = clip_captions([wave, turn], rng, count=3, held_out=True)
    assert len(captions) == 3 and len(set(captions)) == 3
    for caption in captions:
        assert "right" in caption and "left" in caption or "counter-clockwise" in caption
    assert captions[0].startswith(HELD_OUT_TEMPLATES["subject"])
    assert "counter-clockwise" in captions[0] and "greets" in captions[0]


def test_written_set_loads_with_documented_splits_and_held_out_templates(tmp_path):
    report = write_synthetic_set(tmp_path, clips=40, seed=3)
    assert report["splits"] == {"train": 32, "val": 4, "test": 4}
    ids = {split: read_split(tmp_path, split) for split in ("train", "val", "test")}
    assert sorted(i for members in ids.values() for i in members) == [f"{i:06d}" for i in range(40)]
    records = [json.loads(line) for line in (tmp_path / "clips.jsonl").read_text().splitlines()]
    assert len({s["family"] for r in records for s in r["segments"]}) >= 8
    for split, members in ids.items():
        data = MotionTextDataset(tmp_path, split)
        assert data.skipped == [] and len(data) == len(members)
        for clip_id in members:
            captions = (tmp_path / "texts" / f"{clip_id}.txt").read_text().splitlines()
            assert len(captions) == 3
            held = [c for c in captions if c.startswith(SUBJECTS[-1] + " ")]
            assert len(held) == (1 if split == "test" else 0)
    meta = json.loads((tmp_path / "dataset.json").read_text())
    assert meta["held_out_templates"]["subject"] == SUBJECTS[-1]
    assert len(meta["families"]) == len(FAMILIES) >= 12
    again = tmp_path / "again"
    write_synthetic_set(again, clips=40, seed=3)
    assert (again / "clips.jsonl").read_text() == (tmp_path / "clips.jsonl").read_text()


def test_command_line_writes_and_refuses_to_overwrite(tmp_path, capsys):
    out = tmp_path / "set"
    assert cli_main(["prep", "synthetic-motion", str(out), "--clips", "6", "--seed", "1"]) == 0
    assert "wrote 6 clips" in capsys.readouterr().out
    assert (out / "feature_stats.npz").is_file()
    assert cli_main(["prep", "synthetic-motion", str(out), "--clips", "6"]) == 2
    assert "--force" in capsys.readouterr().err
    assert cli_main(["prep", "synthetic-motion", str(out), "--clips", "6", "--force"]) == 0


@pytest.mark.parametrize("clips", [2, 10**9])
def test_clip_counts_beyond_the_range_are_refused(tmp_path, clips):
    with pytest.raises(ValueError, match=r"--clips \(data.params.clips\) must be between 3 and 1000000"):
        write_synthetic_set(tmp_path / "set", clips=clips)
    assert not (tmp_path / "set").exists()
