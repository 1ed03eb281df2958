"""User .npy / .npz files: missing, truncated, pickled or the wrong kind give one-line errors."""

import numpy as np
import pytest

from vhdiff.array_files import load_npy_file, load_npz_file


def test_good_files_load(tmp_path):
    np.save(tmp_path / "a.npy", np.arange(3.0))
    np.testing.assert_array_equal(load_npy_file(tmp_path / "a.npy", kind="vector file", fmt=".npy array"),
                                  np.arange(3.0))
    np.savez(tmp_path / "b.npz", x=np.ones(2))
    with load_npz_file(tmp_path / "b.npz", kind="motion file", fmt=".npz motion file") as archive:
        assert archive.files == ["x"]


def test_bad_files_name_themselves_and_the_problem(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"^vector file not found: '.*gone\.npy'$"):
        load_npy_file(tmp_path / "gone.npy", kind="vector file", fmt=".npy array")
    np.save(tmp_path / "cut.npy", np.arange(100.0))
    (tmp_path / "cut.npy").write_bytes((tmp_path / "cut.npy").read_bytes()[:90])
    with pytest.raises(ValueError, match=r"cut\.npy' is not a readable \.npy array \("):
        load_npy_file(tmp_path / "cut.npy", kind="vector file", fmt=".npy array")
    np.save(tmp_path / "objects.npy", np.array([{"a": 1}], dtype=object))  # would need unpickling
    with pytest.raises(ValueError, match=r"objects\.npy' is not a readable .*allow_pickle"):
        load_npy_file(tmp_path / "objects.npy", kind="vector file", fmt=".npy array")
    (tmp_path / "text.npz").write_text("not numpy")
    with pytest.raises(ValueError, match=r"text\.npz' is not a readable \.npz motion file"):
        load_npz_file(tmp_path / "text.npz", kind="motion file", fmt=".npz motion file")
    np.savez(tmp_path / "whole.npz", x=np.ones(100))  # a zip cut short: its directory is lost
    (tmp_path / "half.npz").write_bytes((tmp_path / "whole.npz").read_bytes()[:60])
    with pytest.raises(ValueError, match=r"half\.npz' is not a readable \.npz motion file \("):
        load_npz_file(tmp_path / "half.npz", kind="motion file", fmt=".npz motion file")


def test_npy_and_npz_are_not_mixed_up(tmp_path):
    np.save(tmp_path / "one.npy", np.zeros(3))
    with pytest.raises(ValueError, match=r"one\.npy' holds a single array, not a \.npz model file with named"):
        load_npz_file(tmp_path / "one.npy", kind="body model file", fmt=".npz model file")
    np.savez(tmp_path / "many.npz", a=np.zeros(1))
    with pytest.raises(ValueError, match=r"many\.npz' is an \.npz archive, not a \.npy array holding one"):
        load_npy_file(tmp_path / "many.npz", kind="vector file", fmt=".npy array")


def test_a_corrupt_humanml3d_statistics_file_is_a_clear_error(tmp_path):
    from data_prep.humanml3d import HumanML3DFolder
    from vhdiff.motion.representation.humanml3d import HUMANML3D_DIM, load_feature_stats

    np.save(tmp_path / "Mean.npy", np.zeros(HUMANML3D_DIM, np.float32))
    (tmp_path / "Std.npy").write_bytes(b"\x93NUMPY garbage")
    (tmp_path / "new_joint_vecs").mkdir()
    with pytest.raises(ValueError, match=r"Std\.npy' is not a readable \.npy array"):
        load_feature_stats(tmp_path)
    with pytest.raises(ValueError, match=r"Std\.npy' is not a readable \.npy array"):
        HumanML3DFolder(tmp_path)
