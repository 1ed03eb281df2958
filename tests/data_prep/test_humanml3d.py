"""HumanML3D's 263-dim vectors: joint recovery against an independent encoder, the folder
reader, bad files."""

import numpy as np
import pytest
from vhdiff.data_prep.humanml3d import HumanML3DFolder

from tests.motion.helpers import smooth_motion
from vhdiff.body import rotations_np as nr
from vhdiff.motion.data import HumanML3DDataset, collate_motion
from vhdiff.motion.representation.humanml3d import (
    HUMANML3D_DIM,
    LOCAL_VELOCITY,
    RIC,
    ROOT_HEIGHT,
    ROOT_LINEAR_VELOCITY,
    ROOT_YAW_VELOCITY,
    load_joint_vecs,
    recover_from_ric,
)
from vhdiff.motion.representation.smpl import joints_from_motion, root_heading


def encode_like_humanml3d(joints, heading):
    """The root / RIC / velocity part of HumanML3D's extract_features, written from its
    definitions: r_rot turns the body to face +Z (a rotation by -heading about Y);
    features have T - 1 rows."""
    frames = len(joints)
    to_local = nr.yaw_matrix(-heading)  # world -> body frame of each frame
    root = joints[:, 0]
    data = np.zeros((frames - 1, HUMANML3D_DIM))
    # r_velocity = r_rot[t+1] * r_rot[t]^-1: a rotation by -(psi_{t+1} - psi_t); arcsin of
    # its quaternion's y is half of that angle.
    data[:, ROOT_YAW_VELOCITY][:, 0] = -(heading[1:] - heading[:-1]) / 2
    step = np.einsum("tij,tj->ti", to_local[1:], root[1:] - root[:-1])
    data[:, ROOT_LINEAR_VELOCITY] = step[:, [0, 2]]
    data[:, ROOT_HEIGHT][:, 0] = root[:-1, 1]
    centred = joints - root[:, None] * np.array([1.0, 0.0, 1.0])
    ric = np.einsum("tij,tkj->tki", to_local, centred)
    data[:, RIC] = ric[:-1, 1:].reshape(frames - 1, 63)
    velocity = np.einsum("tij,tkj->tki", to_local[:-1], joints[1:] - joints[:-1])
    data[:, LOCAL_VELOCITY] = velocity.reshape(frames - 1, 66)
    return data


def _canonical_joints(frames=80):
    """Joints of a turning motion, moved so frame 0 faces +Z with its root above the origin
    (HumanML3D's canonical start), and its heading per frame."""
    motion = smooth_motion(frames, seed=2)
    heading = root_heading(motion)
    joints = joints_from_motion(motion)
    joints = joints - joints[0, 0] * np.array([1.0, 0.0, 1.0])
    joints = np.einsum("ij,tkj->tki", nr.yaw_matrix(-heading[0]), joints)
    return joints, heading - heading[0]


def test_recover_from_ric_inverts_humanml3d_features():
    joints, heading = _canonical_joints()
    assert np.ptp(heading) > 1.0  # the clip turns: the yaw integration matters
    data = encode_like_humanml3d(joints, heading)
    recovered = recover_from_ric(data)
    assert recovered.shape == (79, 22, 3) and recovered.dtype == np.float32
    np.testing.assert_allclose(recovered, joints[:-1], atol=1e-5)


def test_a_left_turn_has_negative_humanml3d_yaw_velocity():
    joints, heading = _canonical_joints()
    data = encode_like_humanml3d(joints, heading)
    turning_left = heading[1:] > heading[:-1]
    assert (data[turning_left, 0] < 0).all() and (data[~turning_left, 0] >= 0).all()


def test_recover_checks_its_input():
    with pytest.raises(ValueError, match=r"\[T, 263\].*Mean.npy"):
        recover_from_ric(np.zeros((5, 140)))
    with pytest.raises(ValueError, match=r"HumanML3D vectors have no frames"):
        recover_from_ric(np.zeros((0, 263)))
    with pytest.raises(ValueError, match=r"HumanML3D vectors contain NaN"):
        recover_from_ric(np.full((3, 263), np.inf))


def _folder(root, joints, heading):
    (root / "new_joint_vecs").mkdir(parents=True)
    (root / "new_joints").mkdir()
    (root / "texts").mkdir()
    vectors = encode_like_humanml3d(joints, heading).astype(np.float32)
    np.save(root / "new_joint_vecs" / "000000.npy", vectors)
    np.save(root / "new_joints" / "000000.npy", joints.astype(np.float32))
    np.save(root / "new_joint_vecs" / "M000000.npy", vectors)  # no new_joints: recovered
    np.save(root / "new_joint_vecs" / "000001.npy", np.zeros((30, 251), np.float32))  # bad
    (root / "texts" / "000000.txt").write_text(
        "a person walks in a circle.#a/DET person/NOUN walk/VERB in/ADP a/DET circle/NOUN#0.0#0.0\n"
        "a man turns and then waves.#a/DET man/NOUN turn/VERB#1.5#3.0\n"
    )
    (root / "texts" / "M000000.txt").write_text("a mirrored walk#a/DET#0.0#0.0\n")
    (root / "texts" / "000001.txt").write_text("")
    np.save(root / "Mean.npy", vectors.mean(0))
    np.save(root / "Std.npy", vectors.std(0) + 0.1)
    (root / "train.txt").write_text("000000\nM000000\n")
    (root / "test.txt").write_text("000001\n")
    (root / "all.txt").write_text("000000\nM000000\n000001\n")
    return vectors


def test_folder_reader(tmp_path):
    joints, heading = _canonical_joints()
    vectors = _folder(tmp_path, joints, heading)
    folder = HumanML3DFolder(tmp_path)
    assert folder.ids("train") == ["000000", "M000000"]
    np.testing.assert_array_equal(folder.joint_vecs("000000"), vectors)
    np.testing.assert_allclose(folder.joints("000000"), joints, atol=1e-6)  # new_joints/
    np.testing.assert_allclose(folder.joints("M000000"), joints[:-1], atol=1e-5)  # recovered
    captions = folder.captions("000000")
    assert [c.text for c in captions] == [
        "a person walks in a circle.",
        "a man turns and then waves.",
    ]
    assert captions[1].start == 1.5 and captions[1].end == 3.0 and not captions[1].whole_clip
    np.testing.assert_allclose(folder.denormalize(folder.normalize(vectors)), vectors, atol=1e-5)
    problems = {p.path.rsplit("/", 1)[-1]: p.reason for p in folder.check("all")}
    assert set(problems) == {"000001.npy", "000001.txt"}
    assert "[T, 263]" in problems["000001.npy"] and "empty" in problems["000001.txt"]
    with pytest.raises(ValueError, match=r"000001\.npy.*\[T, 263\]"):
        load_joint_vecs(tmp_path / "new_joint_vecs" / "000001.npy")
    with pytest.raises(FileNotFoundError, match="val.txt"):
        folder.ids("val")


def test_humanml3d_dataset_items_are_normalised_vectors(tmp_path):
    joints, heading = _canonical_joints()
    vectors = _folder(tmp_path, joints, heading)
    with pytest.warns(UserWarning, match="30 frames, fewer than min_frames=40"):
        data = HumanML3DDataset(tmp_path, "train", min_frames=40)
    assert data.ids == ["000000", "M000000"] and data.feature_dim == 263
    item = data[0]
    assert item["features"].shape == (79, 263) and item["captions"] == [
        "a person walks in a circle."
    ]
    mean, std = np.load(tmp_path / "Mean.npy"), np.load(tmp_path / "Std.npy")
    np.testing.assert_allclose(
        item["features"].numpy(), (vectors - mean) / std, rtol=1e-5, atol=1e-5
    )
    batch = collate_motion([data[0], data[1]], rng=0)
    assert batch["x"].shape == (2, 79, 263)
    recovered = recover_from_ric(data.stats.denormalize(batch["x"][0].numpy()))
    np.testing.assert_allclose(recovered, joints[:-1], atol=1e-4)
    with (
        pytest.warns(UserWarning, match="skipped 1 of 1.*caption file is empty"),
        pytest.raises(ValueError, match="no usable"),
    ):
        HumanML3DDataset(tmp_path, "test")


def test_recovered_joints_render_as_a_stick_figure():
    from vhdiff.viz import render_skeleton

    joints, heading = _canonical_joints(frames=4)
    frames = render_skeleton(recover_from_ric(encode_like_humanml3d(joints, heading)), size=96)
    assert frames.shape == (3, 96, 96, 3) and frames.dtype == np.uint8
    assert frames.std() > 5  # something was drawn
