"""`vhdiff prep bvh-motion`: real CMU and boxing mocap (Debian's assimp-testmodels) import
with the feet on the ground and plausible joint angles; a folder with broken files converts
the rest and counts the skips; the output trains like the built-in set; outputs replace
only what the command wrote."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from vhdiff.data_prep.bvh_motion import DEFAULT_CAPTION, MARKER, convert_bvh

from vhdiff.body import rotations_np as nr
from vhdiff.body.bvh import write_bvh
from vhdiff.body.smpl_motion import SMPLMotion
from vhdiff.cli import main
from vhdiff.motion.data import MotionTextDataset
from vhdiff.motion.representation.smpl import joints_from_motion

ASSIMP_BVH = Path("/usr/share/assimp/models/BVH")
REAL_CLIPS = {"01_01": "cmu", "01_03": "cmu", "Boxing_Toes": "biovision"}
needs_assimp_clips = pytest.mark.skipif(
    not all((ASSIMP_BVH / f"{name}.bvh").is_file() for name in REAL_CLIPS),
    reason=f"real mocap clips not installed ({ASSIMP_BVH}): apt-get install assimp-testmodels",
)
FEET = [7, 8, 10, 11]  # ankles, feet (toe bases)


@pytest.fixture(scope="module")
def real_set(tmp_path_factory):
    """The three real clips converted once (at 20 fps)."""
    out = tmp_path_factory.mktemp("bvh") / "mocap"
    report = convert_bvh(ASSIMP_BVH, out)
    return out, report


def small_motion(frames: int = 30, seed: int = 0) -> SMPLMotion:
    rng = np.random.default_rng(seed)
    pose = 0.3 * rng.normal(size=(frames, 22, 3))
    return SMPLMotion(
        global_orient=pose[:, 0], body_pose=pose[:, 1:],
        transl=np.linspace([0.0, 0.9, 0.0], [1.0, 0.9, 0.0], frames), betas=np.zeros(10), fps=40.0,
    )  # fmt: skip


@needs_assimp_clips
def test_real_clips_convert_with_their_naming(real_set):
    out, report = real_set
    assert sorted(report.written) == sorted(REAL_CLIPS) and report.skipped == []
    record = json.loads((out / MARKER).read_text())
    for name, convention in REAL_CLIPS.items():
        assert record["clips"][name]["convention"] == convention
    # cgspeed's CMU files start with a T-pose calibration frame; the boxing clip does not
    assert record["clips"]["01_01"]["dropped_bind_frame"] is True
    assert record["clips"]["Boxing_Toes"]["dropped_bind_frame"] is False
    for name in REAL_CLIPS:
        source = record["clips"][name]
        duration = (source["source_frames"] - source["dropped_bind_frame"] - 1) / source[
            "source_fps"
        ]
        assert source["frames"] == int(np.floor(duration * 20 + 1e-9)) + 1


@needs_assimp_clips
@pytest.mark.parametrize("name", sorted(REAL_CLIPS))
def test_real_clips_stand_on_the_ground_with_plausible_angles(real_set, name):
    out, _ = real_set
    motion = SMPLMotion.load(out / "motions" / f"{name}.npz")
    assert motion.fps == 20.0
    joints = joints_from_motion(motion)  # [T, 22, 3]
    feet = joints[:, FEET, 1].min(axis=1)  # lowest foot joint per frame
    assert abs(joints[..., 1].min()) < 1e-4 and abs(feet.min()) < 0.03  # on the floor (the
    # boxer once falls on a hand: its lowest joint is a wrist, the feet then 2.4 cm up)
    assert 0.0 < np.percentile(feet, 10) < 0.06  # and not floating: near it most of the time
    height = joints[:, 15, 1] - feet
    assert 1.2 < np.median(height) < 1.6  # head over the feet: a person standing, in metres
    for hip, knee, ankle in ((1, 4, 7), (2, 5, 8)):
        thigh, shin = joints[:, knee] - joints[:, hip], joints[:, ankle] - joints[:, knee]
        cos = (
            (thigh * shin).sum(-1) / np.linalg.norm(thigh, axis=-1) / np.linalg.norm(shin, axis=-1)
        )
        flexion = np.degrees(np.arccos(cos.clip(-1, 1)))
        assert flexion.max() < 170.0 and np.median(flexion) < 60.0
        # SMPL's knee flexes about its +x axis: no hyperextension beyond ~10 degrees
        assert motion.body_pose[:, knee - 1, 0].min() > -0.2
    quats = nr.matrix_to_quaternion(rotations(motion))
    step = np.degrees(2 * np.arccos(np.abs((quats[1:] * quats[:-1]).sum(-1)).clip(max=1.0)))
    assert step.max() < 120.0  # no flips between frames (50 ms)


def rotations(motion: SMPLMotion) -> np.ndarray:
    return nr.axis_angle_to_matrix(motion.poses.reshape(-1, 22, 3).astype(np.float64))


@needs_assimp_clips
def test_real_set_loads_like_the_built_in_set(real_set):
    out, report = real_set
    sizes = {split: len(MotionTextDataset(out, split)) for split in ("train", "val", "test")}
    assert sizes == report.splits and sum(sizes.values()) == 3
    assert (out / "texts" / "01_01.txt").read_text() == DEFAULT_CAPTION + "\n"


def broken_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "mocap"
    good = write_bvh(folder / "good.bvh", small_motion()).read_text()
    write_bvh(folder / "sub" / "also_good.bvh", small_motion(seed=1))
    (folder / "truncated.bvh").write_text(good[: len(good) // 3])
    (folder / "names.bvh").write_text(good.replace("left_knee", "Knee_L"))
    (folder / "empty.bvh").write_text(good.split("Frames:")[0] + "Frames: 0\nFrame Time: 0.025\n")
    (folder / "notes.txt").write_text("not a motion")
    return folder


def test_broken_files_are_skipped_and_counted(tmp_path, capsys):
    folder = broken_folder(tmp_path)
    (tmp_path / "captions").mkdir()
    (tmp_path / "captions" / "good.txt").write_text("a person sways.\n")
    out = tmp_path / "set"
    argv = ["prep", "bvh-motion", str(folder), str(out), "--captions", str(tmp_path / "captions")]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("converted 2, skipped 3 (")
    for reason in ("no frames", "no joint for SMPL's left_knee", "expected 30 frames of 69 values"):
        assert reason in printed
    assert sorted(p.name for p in (out / "motions").iterdir()) == ["good.npz", "sub__also_good.npz"]
    assert (out / "texts" / "good.txt").read_text() == "a person sways.\n"
    motion = SMPLMotion.load(out / "motions" / "good.npz")
    assert motion.fps == 20.0 and motion.num_frames == 15  # 30 frames at 40 fps -> 0.725 s
    assert abs(joints_from_motion(motion)[..., 1].min()) < 1e-5


def test_one_bad_file_is_a_one_line_error(tmp_path, capsys):
    folder = broken_folder(tmp_path)
    assert main(["prep", "bvh-motion", str(folder / "names.bvh"), str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--mapping FILE" in err and "Knee_L" in err
    assert not (tmp_path / "o").exists()
    (tmp_path / "nothing").mkdir()
    with pytest.raises(FileNotFoundError, match="no .bvh files"):
        convert_bvh(tmp_path / "nothing", tmp_path / "o")
    with pytest.raises(FileNotFoundError, match="not found"):
        convert_bvh(tmp_path / "missing.bvh", tmp_path / "o")


def test_mapping_file_converts_a_renamed_skeleton(tmp_path):
    folder = broken_folder(tmp_path)
    mapping = tmp_path / "map.json"
    mapping.write_text(json.dumps({"Knee_L": "left_knee"}))
    report = convert_bvh(folder / "names.bvh", tmp_path / "o", mapping=mapping)
    assert report.written == ["names"]
    record = json.loads((tmp_path / "o" / MARKER).read_text())
    assert record["clips"]["names"]["convention"] == "smpl+user"


def test_outputs_replace_only_what_the_command_wrote(tmp_path):
    source = write_bvh(tmp_path / "walk.bvh", small_motion())
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    with pytest.raises(FileExistsError, match="did not write it"):
        convert_bvh(source, mine)
    assert [p.name for p in mine.iterdir()] == ["notes.txt"]
    out = tmp_path / "set"
    convert_bvh(source, out)
    with pytest.raises(FileExistsError, match="--force"):
        convert_bvh(source, out)
    convert_bvh(source, out, fps=10.0, force=True)
    assert json.loads((out / MARKER).read_text())["fps"] == 10.0
    (out / "evaluator").mkdir()  # e.g. `vhdiff prep motion-evaluator` wrote into it since
    with pytest.raises(FileExistsError, match="not a BVH motion set"):
        convert_bvh(source, out, force=True)
    assert (out / "evaluator").is_dir()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine", "set", "walk.bvh"]


def test_own_export_round_trips_through_the_command(tmp_path):
    """An SMPL motion on the floor at 20 fps -> our BVH export -> `prep bvh-motion`: the
    same SMPL parameters (rotations and translation)."""
    from vhdiff.data_prep.amass import put_on_floor

    frames = 24
    rng = np.random.default_rng(3)
    pose = np.cumsum(0.05 * rng.normal(size=(frames, 22, 3)), axis=0)  # smooth: no bind frame
    path = np.linspace([0.0, 0.9, 0.0], [0.8, 0.95, 0.3], frames)
    raw = SMPLMotion(
        global_orient=pose[:, 0], body_pose=pose[:, 1:], transl=path, betas=np.zeros(10), fps=20.0
    )
    clip = put_on_floor(raw)
    convert_bvh(write_bvh(tmp_path / "walk.bvh", clip, scale=100.0), tmp_path / "set")
    back = SMPLMotion.load(tmp_path / "set" / "motions" / "walk.npz")
    assert back.num_frames == frames
    np.testing.assert_allclose(rotations(back), rotations(clip), atol=1e-4)
    np.testing.assert_allclose(back.transl, clip.transl, atol=1e-4)
