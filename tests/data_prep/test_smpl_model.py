"""`vhdiff prep smpl-model`: official-layout pickles (fake chumpy, scipy sparse) convert
without chumpy; malicious pickles are refused; the result loads as a body model."""

import os
import pickle
import sys
import types

import numpy as np
import pytest
import torch
from vhdiff.data_prep.smpl_model import convert_smpl_model, load_smpl_pickle

from vhdiff.body import load_body_model
from vhdiff.body.skeleton import SMPL_NEUTRAL_REST_JOINTS
from vhdiff.body.synthetic import synthetic_model_arrays
from vhdiff.cli import main

sparse = pytest.importorskip("scipy.sparse")


class _FakeCh:
    """Pickles like chumpy.ch.Ch: its state is __dict__ without caches (x = the array)."""

    def __init__(self, x):
        self.x = np.asarray(x, np.float64)
        self._dirty_vars = {"x"}
        self._itr = None
        self._depends_on_deps = {}
        self._make_dense = False
        self._make_sparse = False

    def __getstate__(self):
        return dict(self.__dict__)


class _FakeSelect(_FakeCh):
    """A derived chumpy node: its value is not stored."""

    def __init__(self, a):
        self.a = a
        self.idxs = np.arange(3)

    def __getstate__(self):
        return {"a": self.a, "idxs": self.idxs}


@pytest.fixture
def fake_chumpy(monkeypatch):
    package = types.ModuleType("chumpy")
    ch = types.ModuleType("chumpy.ch")
    reordering = types.ModuleType("chumpy.reordering")
    _FakeCh.__module__, _FakeCh.__qualname__, _FakeCh.__name__ = "chumpy.ch", "Ch", "Ch"
    _FakeSelect.__module__, _FakeSelect.__qualname__ = "chumpy.reordering", "Select"
    ch.Ch, reordering.Select = _FakeCh, _FakeSelect
    for name, module in (("chumpy", package), ("chumpy.ch", ch), ("chumpy.reordering", reordering)):
        monkeypatch.setitem(sys.modules, name, module)
    return _FakeCh


def _official_layout(ch):
    """The keys and types of basicmodel_*_lbs_10_207_0_v1.*.pkl, with synthetic values."""
    a = synthetic_model_arrays("smpl")
    return {
        "v_template": ch(a["v_template"]),
        "shapedirs": ch(a["shapedirs"]),
        "posedirs": a["posedirs"].astype(np.float64),
        "J_regressor": sparse.csc_matrix(a["J_regressor"]),
        "J_regressor_prior": sparse.csc_matrix(a["J_regressor"]),
        "weights": ch(a["weights"]),
        "weights_prior": a["weights"],
        "kintree_table": a["kintree_table"].astype(np.int64),
        "f": a["f"],
        "J": ch(a["J"]),
        "vert_sym_idxs": np.arange(6890),
        "bs_style": "lbs",
        "bs_type": "lrotmin",
        "pose_training_info": {"numbers": 3},
    }, a


@pytest.mark.parametrize("protocol", [2, pickle.HIGHEST_PROTOCOL])
def test_official_layout_converts_and_loads(tmp_path, fake_chumpy, protocol):
    content, arrays = _official_layout(fake_chumpy)
    source = tmp_path / "basicmodel_neutral_lbs_10_207_0_v1.1.0.pkl"
    source.write_bytes(pickle.dumps(content, protocol=protocol))
    out = tmp_path / "models" / "SMPL_NEUTRAL.npz"
    report = convert_smpl_model(source, out)
    assert report.skipped == ["pose_training_info"]
    assert (
        report.shapes["J_regressor"] == (24, 6890)
        and "24 joints, 6890 vertices" in report.summary()
    )
    with np.load(out, allow_pickle=False) as data:  # plain arrays only
        for key in ("v_template", "shapedirs", "J_regressor", "weights", "f", "kintree_table"):
            np.testing.assert_array_equal(data[key], arrays[key].astype(data[key].dtype))
        assert str(data["bs_type"]) == "lrotmin"
    model = load_body_model(out.parent)
    joints = model(torch.zeros(1, 3), torch.zeros(1, 21, 3)).joints[0, :22]
    torch.testing.assert_close(joints, torch.tensor(SMPL_NEUTRAL_REST_JOINTS), atol=1e-6, rtol=0)


def test_sparse_formats_become_dense(tmp_path):
    dense = np.array([[0.0, 1.5, 0.0], [2.0, 0.0, 3.0]])
    for matrix in (sparse.csc_matrix(dense), sparse.csr_matrix(dense), sparse.coo_matrix(dense)):
        path = tmp_path / "m.pkl"
        path.write_bytes(pickle.dumps({"m": matrix}, protocol=2))
        np.testing.assert_array_equal(load_smpl_pickle(path)["m"], dense)


class _Evil:
    def __init__(self, command):
        self.command = command

    def __reduce__(self):
        return (os.system, (self.command,))


@pytest.mark.parametrize("protocol", [0, 2, pickle.HIGHEST_PROTOCOL])
def test_malicious_pickles_are_refused(tmp_path, protocol, fake_chumpy):
    marker = tmp_path / "pwned"
    evil = _Evil(f"touch {marker}")
    for payload in ({"v_template": evil}, {"v_template": fake_chumpy(np.zeros(3))} | {"x": [evil]}):
        path = tmp_path / "evil.pkl"
        path.write_bytes(pickle.dumps(payload, protocol=protocol))
        with pytest.raises(
            ValueError, match=r"evil\.pkl.*refused to load global '(posix|os|nt)\.system'"
        ):
            load_smpl_pickle(path)
        assert not marker.exists()
    path.write_bytes(pickle.dumps({"f": eval}, protocol=protocol))
    with pytest.raises(ValueError, match=r"refused to load global '(builtins|__builtin__)\.eval'"):
        load_smpl_pickle(path)


def test_unusable_content_is_reported(tmp_path, fake_chumpy):
    content, _ = _official_layout(fake_chumpy)
    content["v_template"] = _FakeSelect(fake_chumpy(np.zeros(3)))
    path = tmp_path / "derived.pkl"
    path.write_bytes(pickle.dumps(content, protocol=2))
    with pytest.raises(
        ValueError,
        match=r"derived\.pkl.*'v_template' is a derived chumpy expression \(chumpy\.reordering\.Select\)",
    ):
        load_smpl_pickle(path)
    del content["v_template"]
    content["J"] = _FakeSelect(fake_chumpy(np.zeros(3)))  # optional: left out
    path.write_bytes(pickle.dumps(content, protocol=2))
    with pytest.raises(ValueError, match=r"not an SMPL-family model: missing \['v_template'\]"):
        convert_smpl_model(path, tmp_path / "x.npz")
    path.write_bytes(pickle.dumps([1, 2, 3]))
    with pytest.raises(ValueError, match="holds a list, not an SMPL model dict"):
        load_smpl_pickle(path)
    path.write_bytes(b"garbage")
    with pytest.raises(ValueError, match="not a readable SMPL model pickle"):
        load_smpl_pickle(path)


def test_npz_with_pickled_entries_is_cleaned(tmp_path):
    arrays = synthetic_model_arrays("smplh")
    source = tmp_path / "model.npz"
    np.savez(source, **arrays, part2num=np.array([{"a": 1}], dtype=object))
    report = convert_smpl_model(source, tmp_path / "SMPLH_NEUTRAL.npz")
    assert report.skipped == ["part2num"]
    assert load_body_model(tmp_path / "SMPLH_NEUTRAL.npz").kind == "smplh"


def test_cli(tmp_path, fake_chumpy, capsys):
    content, _ = _official_layout(fake_chumpy)
    source, out = tmp_path / "in.pkl", tmp_path / "SMPL_NEUTRAL.npz"
    source.write_bytes(pickle.dumps(content, protocol=2))
    assert main(["prep", "smpl-model", str(source), str(out)]) == 0
    assert "24 joints, 6890 vertices" in capsys.readouterr().out
    assert main(["prep", "smpl-model", str(source), str(out)]) == 2
    assert "exists; pass --force" in capsys.readouterr().err
    assert main(["prep", "smpl-model", str(source), str(out), "--force"]) == 0
    source.write_bytes(pickle.dumps({"v": _Evil("true")}, protocol=2))
    assert main(["prep", "smpl-model", str(source), str(tmp_path / "evil.npz")]) == 2
    assert "refused to load global" in capsys.readouterr().err
    assert main(["prep", "unknown"]) == 2
    assert "choose one of: smpl-model" in capsys.readouterr().err
