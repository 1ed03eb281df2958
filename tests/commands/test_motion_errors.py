"""`vhdiff motion` bad input: one-line errors (exit status 2), raised before any model is
loaded, and nothing written."""

from __future__ import annotations

import numpy as np
import pytest

from vhdiff.body import SMPLMotion
from vhdiff.cli import main
from vhdiff.commands import motion as motion_command


@pytest.fixture()
def no_model(monkeypatch):
    """Validation must finish before the pipeline loads: loading it fails this test."""

    def refuse(*args, **kwargs):
        raise AssertionError("the model was loaded before the options were checked")

    monkeypatch.setattr(motion_command, "generate", refuse)


@pytest.fixture()
def walk_file(tmp_path):
    frames = 10
    motion = SMPLMotion(
        global_orient=np.zeros((frames, 3)),
        body_pose=np.zeros((frames, 21, 3)),
        transl=np.zeros((frames, 3)),
        betas=np.zeros(10),
        fps=20.0,
    )
    return motion.save(tmp_path / "walk.npz")


def error_of(argv, capsys) -> str:
    """Run `vhdiff motion ARGV`; check the one-line error and return it."""
    assert main(["motion", *argv]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("vhdiff motion: error: ")
    return lines[0]


def files_in(folder) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


BAD_OPTIONS = {
    "empty prompt": (["", "--out", "{tmp}/a.mp4"], "the prompt is empty"),
    "blank prompt": (["   ", "--out", "{tmp}/a.mp4"], "the prompt is empty"),
    "no prompt": (["--out", "{tmp}/a.mp4"], "no prompt"),
    "zero length": (["walk", "--length", "0", "--out", "{tmp}/a.mp4"], "--length must be a pos"),
    "negative length": (["walk", "--length", "-2"], "--length must be a positive"),
    "nan length": (["walk", "--length", "nan"], "--length must be a positive"),
    "guidance": (["walk", "--guidance", "-1"], "--guidance must be a number in [0, 50]"),
    "guidance too large": (["walk", "--guidance", "1e9"], "--guidance must be a number in [0, 50]"),
    "snap": (["walk", "--snap", "1.5"], "--snap must be a number in [0, 1]"),
    "guidance interval order": (["walk", "--guidance-interval", "900:100"], "--guidance-interval: guidance interval must"),
    "guidance interval form": (["walk", "--guidance-interval", "late"], "must read T_MIN:T_MAX"),
    "num": (["walk", "--num", "0"], "--num must be between 1 and 100"),
    "num beyond its range": (["walk", "--num", "101"], "--num must be between 1 and 100 motions per prompt"),
    "smoothing": (["walk", "--smoothing", "-1"], "--smoothing must be a number of frames >= 0"),
    "eta": (["walk", "--eta", "3"], "--eta must be a number in [0, 1]"),
    # a Gaussian of 1e9 frames once asked for 60 GiB of padding
    "smoothing beyond its range": (["walk", "--smoothing", "1e9"], "--smoothing must be a number of frames >= 0 (0 = off) and at most 50"),
    "seed beyond 64 bits": (["walk", "--seed", str(2**70)], "--seed must be an integer from 0 to 2**63 - 1"),
    "negative seed": (["walk", "--seed", "-1"], "--seed must be an integer from 0 to 2**63 - 1"),
    "size beyond its range": (["walk", "--size", "100000"], "--size must be between 16 and 4096 pixels"),
    "foot lock on an edit": (
        ["walk", "--edit", "{tmp}/none.npz", "--keep", "lower", "--foot-lock"],
        "--foot-lock applies to new motions, not to --edit",
    ),
    "steps": (["walk", "--steps", "0"], "--steps must be an integer in [1, 100000]"),
    "size": (["walk", "--size", "8"], "--size must be between 16 and 4096"),
    "out suffix": (["walk", "--out", "{tmp}/walk.avi"], "--out must end in .mp4 or .gif"),
    "device": (["walk", "--device", "gpu"], "'gpu' is not a torch device"),
    "keep alone": (["walk", "--keep", "lower"], "--keep needs --edit"),
    "missing edit file": (["walk", "--edit", "{tmp}/none.npz", "--keep", "lower"], "not found"),
}


@pytest.mark.parametrize("case", sorted(BAD_OPTIONS))
def test_bad_options(case, tmp_path, capsys, no_model, monkeypatch):
    monkeypatch.chdir(tmp_path)
    argv, message = BAD_OPTIONS[case]
    line = error_of([a.replace("{tmp}", str(tmp_path)) for a in argv], capsys)
    assert message in line
    assert files_in(tmp_path) == []


def test_prompt_files(tmp_path, capsys, no_model):
    latin1 = tmp_path / "latin1.txt"
    latin1.write_bytes("une personne saute à pieds joints\n".encode("latin-1"))
    assert "is not UTF-8 text" in error_of(["--prompts", str(latin1)], capsys)
    assert "save it as UTF-8" in error_of(["--prompts", str(latin1)], capsys)
    empty = tmp_path / "empty.txt"
    empty.write_text("\n   \n# only a comment\n", encoding="utf-8")
    assert "holds no prompts" in error_of(["--prompts", str(empty)], capsys)
    missing = str(tmp_path / "missing.txt")
    assert "--prompts file not found" in error_of(["--prompts", missing], capsys)
    line = error_of(["--prompts", str(tmp_path)], capsys)
    assert "is a folder; name a UTF-8 text file with one prompt per line" in line
    line = error_of(["--prompts", "/dev/null"], capsys)
    assert "'/dev/null' holds no prompts (it is empty)" in line
    both = error_of(["walk", "--prompts", str(empty)], capsys)
    assert "either a PROMPT or --prompts" in both
    assert files_in(tmp_path) == ["empty.txt", "latin1.txt"]


@pytest.mark.parametrize(
    ("keep", "message"),
    [
        (None, "--edit needs --keep"),
        ("middle", "--keep: cannot read 'middle'; use lower, upper, first:K, last:K"),
        ("first:x", "--keep: cannot read 'first:x'"),
        ("first:0", "K a whole number >= 1"),
        ("last:10", "keeps 10 frames but"),
        ("first:5,last:5", "nothing is left to generate"),
        ("lower,first:3", "a body part OR keyframes"),
    ],
)
def test_keep_syntax(keep, message, walk_file, capsys, no_model):
    argv = ["wave", "--edit", str(walk_file)] + ([] if keep is None else ["--keep", keep])
    assert message in error_of(argv, capsys)


def test_edit_file_of_the_wrong_representation(tmp_path, walk_file, capsys, no_model):
    features = tmp_path / "features.npz"
    np.savez(features, features=np.zeros((10, 263), dtype=np.float32))
    line = error_of(["wave", "--edit", str(features), "--keep", "lower"], capsys)
    assert "missing keys" in line and "--edit takes an SMPL motion .npz" in line
    text = tmp_path / "notes.npz"
    text.write_text("not a zip")
    line = error_of(["wave", "--edit", str(text), "--keep", "lower"], capsys)
    assert "not a readable .npz motion file: it is a text file; expected a NumPy .npz" in line
    assert "pickled" not in line
    bvh = tmp_path / "walk.bvh"
    bvh.write_text("HIERARCHY\nROOT Pelvis\n{\n")
    line = error_of(["wave", "--edit", str(bvh), "--keep", "lower"], capsys)
    assert "'walk.bvh' is not a readable .npz motion file: it is a BVH motion file (text)" in line.replace(str(tmp_path) + "/", "")
    assert "--edit takes an SMPL motion .npz" in line
    line = error_of(["wave", "--edit", str(tmp_path), "--keep", "lower"], capsys)
    assert "is a folder; name a .npz motion file" in line
    line = error_of(["wave", "--edit", str(walk_file), "--keep", "lower", "--length", "3"], capsys)
    assert "--length cannot be used with --edit" in line
    line = error_of(
        ["wave", "--edit", str(walk_file), "--keep", "lower", "--sampler", "ddim"], capsys
    )
    assert "--edit samples with DDPM" in line


def test_smpl_body_without_model_files(tmp_path, capsys, no_model, monkeypatch):
    monkeypatch.delenv("VHDIFF_SMPL_DIR", raising=False)
    line = error_of(["walk", "--body", "smpl", "--out", str(tmp_path / "a.mp4")], capsys)
    assert "SMPL" in line
    line = error_of(["walk", "--body", "smpl", "--smpl-dir", str(tmp_path / "none")], capsys)
    assert "none" in line
    assert files_in(tmp_path) == []


def test_cuda_without_a_gpu(capsys, no_model):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a CUDA GPU")
    assert "no CUDA GPU is available" in error_of(["walk", "--device", "cuda"], capsys)


@pytest.fixture()
def damaged_copy(tiny_pipeline_dir, tmp_path):
    """A copy of the tiny pipeline folder whose weights file the test damages."""
    import shutil

    folder = tmp_path / "model"
    shutil.copytree(tiny_pipeline_dir, folder)
    return folder


@pytest.mark.parametrize("damage", ["empty", "truncated", "garbled", "nan"])
def test_a_damaged_weights_file_is_one_line_naming_it(damage, damaged_copy, tmp_path, capsys):
    """These were SafetensorError tracebacks, and NaN weights a FloatingPointError at step 0."""
    weights = damaged_copy / "model" / "model.safetensors"
    data = weights.read_bytes()
    if damage == "nan":
        from safetensors.torch import load_file, save_file

        state = load_file(str(weights))
        name = min(k for k, v in state.items() if v.is_floating_point())
        state[name].view(-1)[0] = float("nan")
        save_file(state, str(weights))
    else:
        weights.write_bytes({"empty": b"", "truncated": data[: len(data) // 2],
                             "garbled": b"\x00\xff" * 64 + data[128:]}[damage])
    out = tmp_path / "w.mp4"
    line = error_of(["walk", "--checkpoint", str(damaged_copy), "--out", str(out), "--steps", "2"], capsys)
    assert str(weights) in line
    if damage == "nan":
        assert "are corrupt" in line and "hold NaN or infinite values" in line
    else:
        assert "the file is truncated or corrupt" in line
    assert "copy the model folder again" in line
    assert not out.exists() and not (tmp_path / "w.npz").exists()


@pytest.mark.parametrize(("name", "message"), [
    ("model/config.json", "model/config.json is not valid JSON"),
    ("feature_stats.npz", "feature_stats.npz' is not a readable feature-stats .npz with mean/std: it is a text file"),
])
def test_a_damaged_model_folder_file_is_one_line_naming_it(name, message, damaged_copy, tmp_path, capsys):
    (damaged_copy / name).write_text("garbage")
    line = error_of(["walk", "--checkpoint", str(damaged_copy), "--out", str(tmp_path / "w.npz")], capsys)
    assert message in line and "pickled" not in line
