"""`vhdiff motion` outputs from given motions (the model is replaced by fixed motions, so
these tests check naming, formats and all-or-nothing writing; test_motion_pipeline.py
runs a real tiny pipeline): .npz / .mp4 / .bvh / .glb / OBJ folders side by side, numbering, and
a failure part-way leaves no files."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from vhdiff.body import SMPLMotion, load_body_model
from vhdiff.body.bvh import read_bvh
from vhdiff.body.skeleton import BODY_JOINT_NAMES, SMPL_NEUTRAL_REST_JOINTS
from vhdiff.cli import main
from vhdiff.commands import motion as motion_command


@dataclass
class FakeMotion:
    smpl: SMPLMotion
    prompt: str


def make_motion(frames: int, seed: int) -> SMPLMotion:
    rng = np.random.default_rng(seed)
    return SMPLMotion(
        global_orient=rng.normal(scale=0.1, size=(frames, 3)),
        body_pose=rng.normal(scale=0.3, size=(frames, 21, 3)),
        transl=np.cumsum(rng.normal(scale=0.02, size=(frames, 3)), axis=0) + [0, 0.9, 0],
        betas=np.zeros(10),
        fps=20.0,
    )


@pytest.fixture()
def fixed_motions(monkeypatch):
    """generate() returns len(prompts) * num motions of 4, 5, 6, ... frames."""
    calls = []

    def generate(args, plan):
        calls.append((args, plan))
        count = len(plan.prompts) * args.num
        prompts = [p for p in plan.prompts for _ in range(args.num)]
        return [FakeMotion(make_motion(4 + i, i), prompts[i]) for i in range(count)]

    monkeypatch.setattr(motion_command, "generate", generate)
    return calls


def names(folder) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def test_one_motion_writes_npz_mp4_bvh_and_obj(tmp_path, fixed_motions, capsys):
    import imageio.v3 as iio
    import trimesh

    out = tmp_path / "clips" / "walk.mp4"
    argv = ["a person walks", "--out", str(out), "--size", "64", "--bvh", "--obj"]
    assert main(["motion", *argv]) == 0
    files = names(tmp_path / "clips")
    assert files[:3] == ["walk.bvh", "walk.mp4", "walk.npz"]
    assert files[3:] == ["walk_obj"] + [f"walk_obj/walk_{t:05d}.obj" for t in range(4)]
    motion = SMPLMotion.load(tmp_path / "clips" / "walk.npz")
    np.testing.assert_allclose(motion.body_pose, make_motion(4, 0).body_pose, atol=1e-6)
    video = iio.imread(out)
    assert video.shape == (4, 64, 64, 3) and video.std() > 5
    assert read_bvh(tmp_path / "clips" / "walk.bvh").num_frames == 4
    mesh = trimesh.load(tmp_path / "clips" / "walk_obj" / "walk_00002.obj", process=False)
    body = load_body_model(kind="mannequin")(**{k: v[2:3] for k, v in motion.to_torch().items()})
    np.testing.assert_allclose(mesh.vertices, body.vertices[0].numpy(), atol=1e-5)
    np.testing.assert_array_equal(mesh.faces, body.faces.numpy())
    assert "walk.mp4" in capsys.readouterr().out


def test_several_motions_are_numbered(tmp_path, fixed_motions):
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("a person walks\n\n# comment\na person jumps\n", encoding="utf-8")
    out = tmp_path / "out" / "clip.npz"  # .npz: no video
    assert main(["motion", "--prompts", str(prompts), "--num", "2", "--out", str(out)]) == 0
    assert names(tmp_path / "out") == [f"clip_{i:03d}.npz" for i in range(4)]
    plan = fixed_motions[0][1]
    assert plan.prompts == ["a person walks", "a person jumps"]
    frames = [SMPLMotion.load(tmp_path / "out" / f"clip_{i:03d}.npz").num_frames for i in range(4)]
    assert frames == [4, 5, 6, 7]


def test_skeleton_gif_and_no_video(tmp_path, fixed_motions):
    import imageio.v3 as iio

    out = tmp_path / "walk.gif"
    assert main(["motion", "walk", "--out", str(out), "--body", "skeleton", "--size", "48"]) == 0
    assert iio.imread(out, index=None).shape[:3] == (4, 48, 48)
    assert main(["motion", "walk", "--out", str(tmp_path / "b.mp4"), "--no-video"]) == 0
    assert names(tmp_path) == ["b.npz", "walk.gif", "walk.npz"]


def test_failure_part_way_leaves_nothing(tmp_path, fixed_motions, monkeypatch):
    """The second motion's BVH fails: no file of the run exists (not even the first's)."""
    from vhdiff.body import bvh

    real = bvh.write_bvh
    count = []

    def flaky(path, motion, **kwargs):
        count.append(path)
        if len(count) == 2:
            raise ValueError("simulated failure while writing the BVH")
        return real(path, motion, **kwargs)

    monkeypatch.setattr(bvh, "write_bvh", flaky)
    out = tmp_path / "new" / "walk.mp4"
    argv = ["walk", "--num", "2", "--out", str(out), "--size", "32", "--bvh", "--obj"]
    assert main(["motion", *argv]) == 2
    assert not (tmp_path / "new").exists()  # the folder it made is gone too
    (tmp_path / "old").mkdir()
    keep = tmp_path / "old" / "walk_000.npz"
    keep.write_bytes(b"old contents")
    argv[argv.index(str(out))] = str(tmp_path / "old" / "walk.mp4")
    count.clear()
    assert main(["motion", *argv]) == 2
    assert names(tmp_path / "old") == ["walk_000.npz"]
    assert keep.read_bytes() == b"old contents"


def test_obj_folder_of_an_earlier_run_is_replaced_whole(tmp_path, fixed_motions):
    argv = ["motion", "walk", "--out", str(tmp_path / "w.mp4"), "--no-video", "--obj"]
    assert main(argv) == 0
    stale = tmp_path / "w_obj" / "w_00009.obj"  # a frame of an earlier, longer motion
    stale.write_text("v 0 0 0\n")
    assert main(argv) == 0
    assert names(tmp_path / "w_obj") == [f"w_{t:05d}.obj" for t in range(4)]


def test_obj_folder_with_files_of_the_user_is_refused_before_generating(tmp_path, fixed_motions, capsys):
    """`vhdiff motion --obj` once replaced a NAME_obj/ folder whatever it held."""
    argv = ["motion", "walk", "--out", str(tmp_path / "w.mp4"), "--no-video", "--obj"]
    assert main(argv) == 0
    (tmp_path / "w_obj" / "notes.txt").write_text("keep me")
    (tmp_path / "w_obj" / "scan.obj").write_text("v 1 2 3\n")
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    capsys.readouterr()
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "w_obj' is not empty and is not a folder of numbered OBJ files" in err
    assert "holds only w_NNNNN.obj files" in err
    assert len(fixed_motions) == 1  # refused before the second run generated anything
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == before


def test_no_opengl_is_a_one_line_error(tmp_path, fixed_motions, monkeypatch, capsys):
    from vhdiff.viz import mesh_renderer
    from vhdiff.viz.gl import GLUnavailableError

    def unavailable(**kwargs):
        raise GLUnavailableError("no OpenGL context (tried egl); use --body skeleton")

    monkeypatch.setattr(mesh_renderer, "MeshRenderer", unavailable)
    assert main(["motion", "walk", "--out", str(tmp_path / "w.mp4"), "--size", "32"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["vhdiff motion: error: no OpenGL context (tried egl); use --body skeleton"]
    assert names(tmp_path) == []


def test_smpl_body_gives_the_bvh_its_skeleton(tmp_path, monkeypatch):
    """--body smpl: the BVH offsets are the SMPL model's rest joints for the motion's betas
    (a synthetic SMPL file stands in for the licensed one)."""
    import torch

    from vhdiff.body.synthetic import write_synthetic_model

    model_file = write_synthetic_model(tmp_path / "SMPL_NEUTRAL.npz", "smpl")
    motion = make_motion(3, 0)
    motion.betas = np.linspace(-1.0, 1.0, 10)
    monkeypatch.setattr(
        motion_command, "generate", lambda args, plan: [FakeMotion(motion, plan.prompts[0])]
    )
    out = tmp_path / "out" / "w.mp4"
    argv = ["walk", "--out", str(out), "--body", "smpl", "--smpl-dir", str(model_file)]
    assert main(["motion", *argv, "--bvh", "--size", "32"]) == 0
    bvh = read_bvh(tmp_path / "out" / "w.bvh")
    smpl = load_body_model(path=model_file)
    with torch.no_grad():
        rest = (
            smpl(
                torch.zeros(1, 3), torch.zeros(1, 21, 3), betas=torch.as_tensor(motion.betas[None])
            )
            .joints[0, :22]
            .numpy()
        )
    order = [bvh.joint_names.index(name) for name in BODY_JOINT_NAMES]
    np.testing.assert_allclose(bvh.rest_joints()[order], rest - rest[0], atol=1e-5)
    neutral = np.asarray(SMPL_NEUTRAL_REST_JOINTS)
    assert np.abs(bvh.rest_joints()[order] - (neutral - neutral[0])).max() > 1e-3


@pytest.mark.parametrize("body", ["mannequin", "smpl"])
def test_glb_holds_the_drawn_body_animated(tmp_path, monkeypatch, body):
    """--glb: NAME.glb beside NAME.npz, skinning the drawn body (the mannequin, or the SMPL
    model of --smpl-dir) over the motion's frames at its fps (tests/body/test_gltf.py
    checks the file's contents against the body model)."""
    pygltflib = pytest.importorskip("pygltflib")
    from vhdiff.body.synthetic import write_synthetic_model

    motion = make_motion(3, 0)
    monkeypatch.setattr(
        motion_command, "generate", lambda args, plan: [FakeMotion(motion, plan.prompts[0])]
    )
    argv = ["motion", "walk", "--out", str(tmp_path / "out" / "w.npz"), "--glb", "--body", body]
    model_file = None
    if body == "smpl":
        model_file = write_synthetic_model(tmp_path / "SMPL_NEUTRAL.npz", "smpl")
        argv += ["--smpl-dir", str(model_file)]
    assert main(argv) == 0
    assert names(tmp_path / "out") == ["w.glb", "w.npz"]
    gltf = pygltflib.GLTF2().load(str(tmp_path / "out" / "w.glb"))
    model = load_body_model(path=model_file, kind="auto" if model_file else "mannequin")
    assert [gltf.nodes[j].name for j in gltf.skins[0].joints] == list(model.joint_names)
    position = gltf.accessors[gltf.meshes[0].primitives[0].attributes.POSITION]
    assert position.count == model.num_vertices
    animation = gltf.animations[0]
    times = gltf.accessors[animation.samplers[0].input]
    assert animation.name == "w" and times.count == 3
    assert times.max[0] == pytest.approx(2 / motion.fps)


# ---- failures of the place written to, and interruptions ------------------------------------


def one_line_error(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith("vhdiff motion: error: "), err
    return err


def test_sigterm_discards_the_staged_outputs_and_exits_143(tmp_path, fixed_motions, monkeypatch, capsys):
    """SIGTERM once left hidden .NAME.partial-* files; now it is handled like Ctrl-C."""
    import os
    import signal

    from vhdiff.motion.export import MotionExporter

    real = MotionExporter.export

    def export_then_terminated(self, *args, **kwargs):
        files = real(self, *args, **kwargs)
        os.kill(os.getpid(), signal.SIGTERM)  # arrives while the outputs are staged
        return files

    def unhandled(signum, frame):  # what main() must replace (the default would kill pytest)
        raise AssertionError("vhdiff motion did not handle SIGTERM")

    monkeypatch.setattr(MotionExporter, "export", export_then_terminated)
    previous = signal.signal(signal.SIGTERM, unhandled)
    try:
        argv = ["motion", "walk", "--num", "2", "--out", str(tmp_path / "w.mp4"), "--size", "32", "--bvh"]
        assert main(argv) == 143
        assert signal.getsignal(signal.SIGTERM) is unhandled  # main() put the old handler back
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert capsys.readouterr().err.strip() == "vhdiff motion: terminated"
    assert names(tmp_path) == []


def test_a_full_disk_while_writing_is_one_line_and_leaves_nothing(tmp_path, fixed_motions, monkeypatch, capsys):
    import errno

    from vhdiff.viz import writers

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(writers, "write_frames", full)
    assert main(["motion", "walk", "--out", str(tmp_path / "w.mp4"), "--size", "32"]) == 2
    err = one_line_error(capsys)
    assert "the disk is full" in err and "free some space or write somewhere else" in err
    assert names(tmp_path) == []


@pytest.mark.parametrize("place", ["full_disk", "read_only_dir"])
def test_an_output_folder_that_takes_no_write_is_refused_before_generating(place, request, fixed_motions, capsys):
    folder = request.getfixturevalue(place)
    before = names(folder)
    assert main(["motion", "walk", "--out", str(folder / "clips" / "w.mp4")]) == 2
    err = one_line_error(capsys)
    assert ("the disk is full" if place == "full_disk" else "read-only file system") in err
    assert fixed_motions == []  # nothing was generated
    assert names(folder) == before


def test_the_next_run_removes_partials_of_dead_runs_and_keeps_a_live_ones(tmp_path, fixed_motions):
    """A SIGKILLed `vhdiff motion` leaves .NAME.partial-PID@HOST-* files; the next run into the
    folder removes those whose process is gone, never those of a run still writing."""
    import os
    import subprocess
    import sys

    from vhdiff.atomic_io import partial_prefix

    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        own = partial_prefix("w")
        stale = [own.replace(f"-{os.getpid()}@", f"-{gone.pid}@") + s for s in ("a.npz", "b.mp4", "c.bvh")]
        running = own.replace(f"-{os.getpid()}@", f"-{live.pid}@") + "d.npz"
        for name in [*stale, running]:
            (tmp_path / name).write_bytes(b"half")
        assert main(["motion", "walk", "--out", str(tmp_path / "w.npz")]) == 0
        assert names(tmp_path) == sorted([running, "w.npz"])
    finally:
        live.kill()
        live.wait()
