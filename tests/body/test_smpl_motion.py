"""SMPLMotion: validation, atomic .npz round trip, AMASS-style files, clear errors."""

import numpy as np
import pytest

from vhdiff.body.smpl_motion import SMPLMotion


def _motion(frames=5, dtype=np.float32, **overrides):
    rng = np.random.default_rng(0)
    fields = {
        "global_orient": rng.normal(size=(frames, 3)).astype(dtype),
        "body_pose": rng.normal(size=(frames, 21, 3)).astype(dtype) * 0.3,
        "transl": rng.normal(size=(frames, 3)).astype(dtype),
        "betas": rng.normal(size=10).astype(dtype),
        "fps": 20.0,
    }
    fields.update(overrides)
    return SMPLMotion(**fields)


def test_round_trip_and_file_layout(tmp_path):
    motion = _motion(dtype=np.float64)
    path = motion.save(tmp_path / "sub" / "walk.npz")
    assert [p.name for p in path.parent.iterdir()] == ["walk.npz"]  # no temp file left
    with np.load(path, allow_pickle=False) as data:  # plain arrays, no pickle needed
        assert data["body_pose"].shape == (5, 63)
        assert data["poses"].shape == (5, 72)
        np.testing.assert_array_equal(data["poses"][:, :3], motion.global_orient)
        np.testing.assert_array_equal(data["poses"][:, 3:66], motion.body_pose.reshape(5, 63))
        assert not data["poses"][:, 66:].any()
        np.testing.assert_array_equal(data["trans"], motion.transl)
        assert float(data["fps"]) == float(data["mocap_framerate"]) == 20.0
        assert str(data["gender"]) == "neutral"
    loaded = SMPLMotion.load(path)
    for name in ("global_orient", "body_pose", "transl", "betas"):
        np.testing.assert_array_equal(getattr(loaded, name), getattr(motion, name))
    assert loaded.fps == 20.0 and loaded.num_frames == 5 and loaded.duration == 0.25
    assert loaded.poses.shape == (5, 66)


def test_amass_style_file_loads(tmp_path):
    rng = np.random.default_rng(1)
    path = tmp_path / "amass.npz"
    np.savez(path, poses=rng.normal(size=(7, 156)), trans=rng.normal(size=(7, 3)), betas=rng.normal(size=16),
             mocap_framerate=np.array(120.0), gender=np.array(b"female"))  # fmt: skip
    motion = SMPLMotion.load(path)
    assert motion.body_pose.shape == (7, 21, 3) and motion.betas.shape == (10,)
    assert motion.fps == 120.0 and motion.gender == "female"


def test_validation_pads_and_reshapes():
    motion = _motion(
        body_pose=np.zeros((5, 63)),
        betas=np.ones(4),
        global_orient=np.zeros((5, 3), dtype=np.int64),
    )
    assert motion.body_pose.shape == (5, 21, 3)
    np.testing.assert_array_equal(motion.betas, [1, 1, 1, 1, 0, 0, 0, 0, 0, 0])
    assert motion.global_orient.dtype == np.float32
    per_frame = _motion(betas=np.tile(np.arange(10.0), (5, 1)))
    np.testing.assert_array_equal(per_frame.betas, np.arange(10.0))


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"body_pose": np.zeros((5, 23, 3))},
            r"body_pose must have shape \[T, 21, 3\] = \[5, 21, 3\].*got \[5, 23, 3\].*hands",
        ),
        ({"transl": np.zeros((4, 3))}, r"transl must have shape \[T, 3\] = \[5, 3\], got \[4, 3\]"),
        ({"global_orient": np.zeros((5, 4))}, r"global_orient must have shape \[T, 3\]"),
        ({"betas": np.zeros(16)}, r"betas must have shape \[10\].*got \[16\]"),
        ({"fps": 0}, "fps must be a positive number"),
        ({"gender": "other"}, "gender must be one of"),
        ({"transl": np.full((5, 3), np.nan)}, "transl contains NaN"),
        ({"betas": np.array(["a"] * 10)}, "betas must hold numbers"),
    ],
)
def test_bad_values(overrides, message):
    with pytest.raises(ValueError, match=message):
        _motion(**overrides)


def test_load_errors_name_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere.npz"):
        SMPLMotion.load(tmp_path / "nowhere.npz")
    missing = tmp_path / "missing.npz"
    np.savez(
        missing,
        global_orient=np.zeros((2, 3)),
        body_pose=np.zeros((2, 63)),
        transl=np.zeros((2, 3)),
        fps=30.0,
    )
    with pytest.raises(ValueError, match=r"missing\.npz.*missing key 'betas'"):
        SMPLMotion.load(missing)
    wrong = tmp_path / "wrong.npz"
    np.savez(wrong, global_orient=np.zeros((2, 3)), body_pose=np.zeros((2, 60)), transl=np.zeros((2, 3)),
             betas=np.zeros(10), fps=30.0)  # fmt: skip
    with pytest.raises(ValueError, match=r"wrong\.npz.*body_pose must have shape.*got \[2, 60\]"):
        SMPLMotion.load(wrong)
    unrelated = tmp_path / "unrelated.npz"
    np.savez(unrelated, x=np.zeros(3))
    with pytest.raises(ValueError, match=r"unrelated\.npz.*missing keys.*\['x'\]"):
        SMPLMotion.load(unrelated)
    pickled = tmp_path / "pickled.npz"
    np.savez(pickled, global_orient=np.zeros((2, 3)), body_pose=np.zeros((2, 63)), transl=np.zeros((2, 3)),
             betas=np.array([{"evil": 1}], dtype=object), fps=30.0)  # fmt: skip
    with pytest.raises(ValueError, match=r"pickled\.npz.*'betas' holds Python objects"):
        SMPLMotion.load(pickled)
    not_npz = tmp_path / "text.npz"
    not_npz.write_text("hello")
    with pytest.raises(ValueError, match="text.npz.*not a readable"):
        SMPLMotion.load(not_npz)
    with pytest.raises(ValueError, match="end in .npz"):
        _motion().save(tmp_path / "x.npy")


def test_to_torch_feeds_a_body_model():
    import torch

    from vhdiff.body import load_body_model

    motion = _motion(frames=3)
    kwargs = motion.to_torch(dtype=torch.float64)
    assert kwargs["betas"].shape == (3, 10) and kwargs["body_pose"].dtype == torch.float64
    out = load_body_model(kind="mannequin")(**kwargs)
    assert out.joints.shape[:2] == (3, 54)
