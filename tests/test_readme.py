"""Every example in the README runs and does what its words say (measured on its output).

The Python blocks of README.md, docs/architecture.md and docs/pointclouds.md run as they are,
in a fresh folder.
The `vhdiff pointcloud` lines run as written and their clouds are measured (count, size,
height). The `vhdiff motion` lines run with --no-video here (the same motions; the slow test renders
them exactly as written) and are measured: the walk travels, the jumps are two, the wave
raises the right hand over the kept legs and path. Links in the README lead to files.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from vhdiff.body.smpl_motion import SMPLMotion
from vhdiff.cli import main
from vhdiff.motion.representation import get_representation

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text(encoding="utf-8")


def python_blocks(text: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", text, re.DOTALL)


def motion_commands() -> list[list[str]]:
    """The `vhdiff motion ...` lines of the README's "Motion from text", as argv after
    `vhdiff`, comments dropped (the training section's line needs a trained model; its
    steps are tested in tests/motion/training/test_setup.py)."""
    section = README.split("## Motion from text", 1)[1].split("\n## ", 1)[0]
    lines = [ln.strip() for ln in section.splitlines() if ln.strip().startswith("vhdiff motion ")]
    return [shlex.split(ln.split("#")[0])[1:] for ln in lines]


def joints(path: Path) -> np.ndarray:
    motion = SMPLMotion.load(path)
    return get_representation("smpl").to_motion(get_representation("smpl").from_smpl(motion), fps=motion.fps)[1]


def rises(height: np.ndarray, above: float = 0.08) -> int:
    """How many separate times the pelvis rises `above` metres over its median height."""
    up = height > np.median(height) + above
    return int(up[0]) + int(np.sum(up[1:] & ~up[:-1]))


@pytest.mark.parametrize("source", ["README.md", "docs/architecture.md", "docs/pointclouds.md"])
def test_python_blocks_run(source, tmp_path):
    blocks = python_blocks((REPO / source).read_text(encoding="utf-8"))
    assert blocks
    for code in blocks:
        out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=False)
        assert out.returncode == 0, out.stderr[-2000:]
    if source == "README.md":
        walk = SMPLMotion.load(tmp_path / "walk.npz")
        assert walk.num_frames == 80  # seconds=4.0 at 20 fps


def run_examples(folder: Path, *, video: bool) -> list[Path]:
    """Run the README's motion lines in `folder` (in order: the edit reads walk.npz)."""
    outs = []
    for argv in motion_commands():
        argv = argv if video else [*argv, "--no-video"]
        assert main(argv) == 0, argv
        outs.append(folder / argv[argv.index("--out") + 1])
    return outs


def check_examples(folder: Path) -> None:
    walk = joints(folder / "walk.npz")
    travel = np.linalg.norm(walk[-1, 0, [0, 2]] - walk[0, 0, [0, 2]])
    assert walk.shape[0] == 120 and travel > 2.0  # "walks forward": 6 s, metres covered
    for i in range(3):  # --num 3 --length 4: "jumps twice"
        jump = joints(folder / f"jump_{i:03d}.npz")
        assert jump.shape[0] == 80 and rises(jump[:, 0, 1]) == 2
        assert np.linalg.norm(jump[-1, 0, [0, 2]] - jump[0, 0, [0, 2]]) < 1.5
    assert (folder / "jump_000.bvh").stat().st_size > 1000
    wave = joints(folder / "wave.npz")  # "waves the right hand" over the kept legs and path
    source, edited = SMPLMotion.load(folder / "walk.npz"), SMPLMotion.load(folder / "wave.npz")
    np.testing.assert_allclose(edited.transl, source.transl, atol=1e-4)
    right_up = (wave[:, 21, 1] > wave[:, 17, 1]).mean()  # right wrist over the right shoulder
    left_up = (wave[:, 20, 1] > wave[:, 16, 1]).mean()
    assert right_up > 0.5 and left_up < 0.2


def test_motion_examples_do_what_they_say(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    run_examples(tmp_path, video=False)
    check_examples(tmp_path)


@pytest.mark.slow
def test_motion_examples_exactly_as_written(tmp_path, monkeypatch):
    import imageio.v3 as iio

    monkeypatch.chdir(tmp_path)
    outs = run_examples(tmp_path, video=True)
    check_examples(tmp_path)
    for out in outs:
        first = out.with_name(out.stem + "_000.mp4") if not out.exists() else out
        assert iio.imread(first).shape[0] in (80, 120)


def pointcloud_commands() -> list[list[str]]:
    """The `vhdiff pointcloud ...` lines of the README's "Human point clouds"."""
    section = README.split("## Human point clouds", 1)[1].split("\n## ", 1)[0]
    lines = [ln.strip() for ln in section.splitlines() if ln.strip().startswith("vhdiff pointcloud ")]
    return [shlex.split(ln.split("#")[0])[1:] for ln in lines]


def test_pointcloud_examples_do_what_they_say(tmp_path, monkeypatch):
    """Each line writes --num PLY files of 2048 points (or --points), human-sized (metres,
    Y up, standing on the floor: 1-2.2 m tall), and the grid picture."""
    import trimesh

    monkeypatch.chdir(tmp_path)
    commands = pointcloud_commands()
    assert commands
    for argv in commands:
        assert main(argv) == 0, argv
        out = tmp_path / argv[argv.index("--out") + 1]
        num = int(argv[argv.index("--num") + 1]) if "--num" in argv else 16
        points = int(argv[argv.index("--points") + 1]) if "--points" in argv else 2048
        files = sorted(out.glob("cloud_*.ply"))
        assert len(files) == num and (out / "grid.png").is_file()
        assert (out / "intermediates.png").is_file() == ("--intermediates" in argv)
        for path in files:
            cloud = np.asarray(trimesh.load(path).vertices)
            assert cloud.shape == (points, 3)
            low, high = np.percentile(cloud[:, 1], [1, 99])
            assert -0.3 < low < 0.3 and 1.0 < high - low < 2.2, (path, low, high)


def test_readme_links_lead_to_files():
    links = re.findall(r"\]\(([^)#]+)\)", README)
    assert links
    for link in links:
        assert not link.startswith(("http", "..")), link
        assert (REPO / link).exists(), link
