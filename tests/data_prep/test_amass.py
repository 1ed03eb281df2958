"""AMASS -> vhdiff layout: resampling, Z-up -> Y-up, HumanML3D index segments, mirrors,
bad files skipped and reported, the prep commands."""

import numpy as np
import pytest
from vhdiff.data_prep.amass import convert_amass, load_amass, resample_motion, to_y_up

from tests.data_prep.amass_files import write_amass_npz, yup_motion
from vhdiff.body import rotations_np as nr
from vhdiff.body.smpl_motion import SMPLMotion
from vhdiff.cli import main as cli_main
from vhdiff.motion.data import MotionTextDataset
from vhdiff.motion.representation.smpl import joints_from_motion


def _reference(motion, step, start=0, stop=None):
    """Our format of a Y-up motion taken every `step` source frames, on the floor."""
    sl = slice(start, stop, step)
    ref = SMPLMotion(
        global_orient=motion["poses"][sl, 0], body_pose=motion["poses"][sl, 1:],
        transl=motion["transl"][sl], betas=np.zeros(10), fps=20.0,
    )  # fmt: skip
    joints = joints_from_motion(ref)
    joints[..., 1] -= joints[..., 1].min()
    return joints


def test_resampling_is_exact_for_uniform_rotation_and_linear_translation():
    t30 = np.arange(31) / 30.0  # 1 s at 30 fps
    axis = np.array([0.3, 0.8, -0.52]) / np.linalg.norm([0.3, 0.8, -0.52])
    poses = (1.7 * t30)[:, None, None] * axis  # [31, 1, 3]: constant angular speed
    trans = np.stack((t30, 2 * t30, -t30), 1)
    out_poses, out_trans = resample_motion(poses, trans, 30.0, 20.0)
    t20 = np.arange(21) / 20.0
    np.testing.assert_allclose(out_poses[:, 0], (1.7 * t20)[:, None] * axis, atol=1e-9)
    np.testing.assert_allclose(out_trans, np.stack((t20, 2 * t20, -t20), 1), atol=1e-12)


def test_z_up_becomes_y_up():
    upright_in_amass = nr.matrix_to_axis_angle(nr.axis_angle_to_matrix(np.array([np.pi / 2, 0, 0])))
    poses = np.zeros((1, 22, 3))
    poses[0, 0] = upright_in_amass  # SMPL's +Y (body up) -> AMASS +Z
    out, _ = to_y_up(poses, np.zeros((1, 3)))
    up = nr.axis_angle_to_matrix(out[0, 0]) @ np.array([0.0, 1.0, 0.0])
    np.testing.assert_allclose(up, [0, 1, 0], atol=1e-12)


def test_amass_file_converts_to_the_same_motion_at_20_fps(tmp_path):
    motion = yup_motion(3.0, 120.0)
    write_amass_npz(tmp_path / "amass" / "KIT" / "3" / "walk_poses.npz", motion, 120.0)
    source = load_amass(tmp_path / "amass" / "KIT" / "3" / "walk_poses.npz")
    assert source.fps == 120.0 and source.poses.shape == (361, 22, 3) and source.gender == "female"
    report = convert_amass(tmp_path / "amass", tmp_path / "out")
    assert report.written == ["KIT__3__walk_poses"] and report.skipped == []
    out = SMPLMotion.load(tmp_path / "out" / "motions" / "KIT__3__walk_poses.npz")
    assert out.fps == 20.0 and out.num_frames == 61 and out.gender == "female"
    np.testing.assert_allclose(joints_from_motion(out), _reference(motion, 6), atol=1e-5)
    assert (tmp_path / "out" / "feature_stats.npz").is_file()


def _index(path, rows):
    path.write_text(
        "source_path,start_frame,end_frame,new_name\n"
        + "".join(f"{s},{a},{b},{n}\n" for s, a, b, n in rows)
    )
    return path


def test_humanml3d_index_segments_trims_texts_splits_and_mirrors(tmp_path):
    amass = tmp_path / "amass"
    kit, eyes = yup_motion(5.0, 60.0, seed=1), yup_motion(8.0, 120.0, seed=2)
    write_amass_npz(amass / "KIT" / "3" / "kick_poses.npz", kit, 60.0)
    write_amass_npz(amass / "Eyes_Japan_Dataset" / "a" / "b_poses.npz", eyes, 120.0)
    write_amass_npz(amass / "KIT" / "4" / "bad_poses.npz", kit, 60.0)
    np.savez(amass / "KIT" / "4" / "bad_poses.npz", poses=np.zeros((10, 30)), trans=np.zeros((10, 3)),
             mocap_framerate=60.0)  # fmt: skip
    index = _index(
        tmp_path / "index.csv",
        [
            ("./pose_data/KIT/3/kick_poses.npy", 10, 70, "000000.npy"),
            ("./pose_data/Eyes_Japan_Dataset/a/b_poses.npy", 5, 65, "000001.npy"),
            ("./pose_data/humanact12/humanact12/P01G01R01F0001T0064A0101.npy", 0, 40, "000002.npy"),
            ("./pose_data/KIT/4/bad_poses.npy", 0, 50, "000003.npy"),
            ("./pose_data/KIT/9/missing_poses.npy", 0, 50, "000004.npy"),
        ],
    )
    texts = tmp_path / "texts"
    texts.mkdir()
    for name in ("000000", "M000000", "000001", "M000001"):
        (texts / f"{name}.txt").write_text(f"a person does {name}#a/DET person/NOUN#0.0#0.0\n")
    splits = tmp_path / "splits"
    splits.mkdir()
    (splits / "train.txt").write_text("000000\nM000000\n000003\n")
    (splits / "val.txt").write_text("000001\n")
    (splits / "test.txt").write_text("M000001\n000002\n")
    report = convert_amass(
        amass, tmp_path / "out", index=index, texts=texts, splits=splits, mirror=True
    )
    assert report.written == ["000000", "M000000", "000001", "M000001"]
    reasons = dict(report.skipped)
    assert "HumanAct12" in reasons["./pose_data/humanact12/humanact12/P01G01R01F0001T0064A0101.npy"]
    assert (
        "poses must have shape [N, >= 66]"
        in reasons["./pose_data/KIT/4/bad_poses.npy -> 000003.npy"]
    )
    assert "not found" in reasons["./pose_data/KIT/9/missing_poses.npy -> 000004.npy"]
    assert report.splits == {"train": 2, "val": 1, "test": 1}
    out = tmp_path / "out"
    kit_clip = SMPLMotion.load(out / "motions" / "000000.npz")
    # KIT at 60 fps: HumanML3D step 3; frames 10..70 at 20 fps -> source 30..210
    assert kit_clip.num_frames == 60  # = end - start, as HumanML3D's clip
    np.testing.assert_allclose(joints_from_motion(kit_clip), _reference(kit, 3, 30, 210), atol=1e-5)
    eyes_clip = SMPLMotion.load(out / "motions" / "000001.npz")
    # Eyes_Japan: 3 s trimmed first, then frames 5..65 at 20 fps -> source (60+5)*6 .. (60+65)*6
    assert eyes_clip.num_frames == 60
    np.testing.assert_allclose(
        joints_from_motion(eyes_clip), _reference(eyes, 6, 390, 750), atol=1e-5
    )
    mirrored = joints_from_motion(SMPLMotion.load(out / "motions" / "M000000.npz"))
    original = joints_from_motion(kit_clip)
    swap = [0, 2, 1, 3, 5, 4, 6, 8, 7, 9, 11, 10, 12, 14, 13, 15, 17, 16, 19, 18, 21, 20]
    # The pelvis mirrors exactly; other joints within the neutral skeleton's own left/right
    # asymmetry (its rest joints differ by up to ~1 cm between sides).
    np.testing.assert_allclose(mirrored[:, 0] * [-1, 1, 1], original[:, 0], atol=1e-5)
    np.testing.assert_allclose(mirrored[:, swap] * [-1, 1, 1], original, atol=0.02)
    data = MotionTextDataset(out, "train", min_frames=40)
    assert sorted(data.ids) == ["000000", "M000000"]
    assert data[0]["captions"] == ["a person does 000000"]


def test_bad_amass_files_are_skipped_and_the_rest_converts(tmp_path):
    amass = tmp_path / "amass"
    write_amass_npz(amass / "good_poses.npz", yup_motion(2.5, 30.0), 30.0)
    (amass / "broken.npz").write_bytes(b"garbage")
    np.savez(amass / "shape.npz", betas=np.zeros(16), gender="male")  # AMASS ships these
    np.savez(amass / "nan_poses.npz", poses=np.full((5, 156), np.nan), trans=np.zeros((5, 3)),
             mocap_framerate=30.0)  # fmt: skip
    report = convert_amass(amass, tmp_path / "out")
    assert report.written == ["good_poses"]
    reasons = {path.rsplit("/", 1)[-1]: reason for path, reason in report.skipped}
    assert "not a readable .npz" in reasons["broken.npz"]
    assert "missing keys ['poses', 'trans', 'mocap_framerate']" in reasons["shape.npz"]
    assert "NaN" in reasons["nan_poses.npz"]
    with pytest.raises(FileExistsError, match="--force"):
        convert_amass(amass, tmp_path / "out")


def test_prep_commands_convert_amass_and_humanml3d(tmp_path, capsys):
    amass = tmp_path / "amass"
    write_amass_npz(amass / "KIT" / "1" / "walk_poses.npz", yup_motion(4.0, 100.0), 100.0)
    assert cli_main(["prep", "amass", str(amass), str(tmp_path / "a"), "--fps", "20"]) == 0
    assert "converted 1 clips" in capsys.readouterr().out
    hml = tmp_path / "HumanML3D"
    (hml / "new_joint_vecs").mkdir(parents=True)
    (hml / "texts").mkdir()
    np.save(hml / "Mean.npy", np.zeros(263, np.float32))
    np.save(hml / "Std.npy", np.ones(263, np.float32))
    for name in ("000000", "M000000"):
        np.save(hml / "new_joint_vecs" / f"{name}.npy", np.zeros((40, 263), np.float32))
        (hml / "texts" / f"{name}.txt").write_text(f"someone walks {name}#someone/PRON#0.0#0.0\n")
    (hml / "train.txt").write_text("000000\nM000000\n")
    (hml / "val.txt").write_text("")
    (hml / "test.txt").write_text("")
    _index(tmp_path / "index.csv", [("./pose_data/KIT/1/walk_poses.npy", 0, 60, "000000.npy")])
    assert (
        cli_main(["prep", "humanml3d", str(hml), str(tmp_path / "h"), "--amass", str(amass)]) == 0
    )
    data = MotionTextDataset(tmp_path / "h", "train")
    assert sorted(data.ids) == ["000000", "M000000"]
    assert (
        cli_main(["prep", "humanml3d", str(tmp_path), str(tmp_path / "x"), "--amass", str(amass)])
        == 2
    )
    assert "new_joint_vecs/ is missing" in capsys.readouterr().err
