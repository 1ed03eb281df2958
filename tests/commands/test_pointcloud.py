"""`vhdiff pointcloud`, `vhdiff prep human-pointclouds` and `vhdiff eval pointcloud` from the
command line: what they write, and their one-line errors (exit status 2, nothing written)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from vhdiff.cli import main


def error_of(argv, capsys) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    return err


def test_writes_ply_files_a_grid_and_the_strip(tiny_cloud_pipeline_dir, tmp_path, capsys):
    import trimesh
    from PIL import Image

    out = tmp_path / "clouds"
    assert main(["pointcloud", "--num", "3", "--points", "50", "--seed", "2", "--intermediates",
                 "--checkpoint", str(tiny_cloud_pipeline_dir), "--out", str(out)]) == 0
    assert "wrote 3 clouds of 50 points" in capsys.readouterr().out
    names = sorted(p.name for p in out.iterdir())
    assert names == ["cloud_000.ply", "cloud_001.ply", "cloud_002.ply", "clouds.json", "grid.png", "intermediates.png"]
    loaded = trimesh.load(out / "cloud_001.ply")
    assert np.asarray(loaded.vertices).shape == (50, 3)
    record = json.loads((out / "clouds.json").read_text())
    assert record["seed"] == 2 and record["points"] == 50 and record["generation"]["points"] == 50
    assert Image.open(out / "grid.png").size[0] > 100
    # the strip: 4 noise levels + x_0 per row, two rows (x_t, x_0 estimate) per cloud
    width, height = Image.open(out / "intermediates.png").size
    assert width > 4 * height / 6 - 10
    # the same seed, the same clouds; an earlier output is replaced only with --force
    first = np.asarray(loaded.vertices)
    assert main(["pointcloud", "--num", "3", "--points", "50", "--seed", "2",
                 "--checkpoint", str(tiny_cloud_pipeline_dir), "--out", str(out)]) == 2
    assert "--force" in capsys.readouterr().err
    assert main(["pointcloud", "--num", "3", "--points", "50", "--seed", "2", "--force",
                 "--checkpoint", str(tiny_cloud_pipeline_dir), "--out", str(out)]) == 0
    np.testing.assert_array_equal(np.asarray(trimesh.load(out / "cloud_001.ply").vertices), first)
    assert not (out / "intermediates.png").exists()


def test_pose_conditional_from_a_motion_frame(tiny_pose_cloud_pipeline_dir, tmp_path, capsys):
    from vhdiff.body.smpl_motion import SMPLMotion

    SMPLMotion(global_orient=np.zeros((4, 3)), body_pose=np.zeros((4, 21, 3)), transl=np.zeros((4, 3)),
               betas=np.zeros(10), fps=20.0).save(tmp_path / "m.npz")
    assert main(["pointcloud", "--num", "2", "--pose", f"{tmp_path / 'm.npz'}:2",
                 "--checkpoint", str(tiny_pose_cloud_pipeline_dir), "--out", str(tmp_path / "o")]) == 0
    assert json.loads((tmp_path / "o" / "clouds.json").read_text())["pose"].endswith("m.npz:2")


@pytest.mark.parametrize("extra, message", [
    (["--points", "0"], "--points must be between 1"),
    (["--points", "100000000"], "--points must be between 1"),
    (["--num", "0"], "--num must be between 1"),
    (["--steps", "0"], "--steps must be"),
    (["--guidance", "-1"], "--guidance must be"),
    (["--prompt", "a person squats"], "unconditional: it takes no prompt"),
])
def test_one_line_errors_and_nothing_written(tiny_cloud_pipeline_dir, tmp_path, capsys, extra, message):
    out = tmp_path / "never"
    err = error_of(["pointcloud", "--checkpoint", str(tiny_cloud_pipeline_dir), "--out", str(out), *extra], capsys)
    assert message in err
    assert not out.exists()


def test_pose_file_errors(tiny_pose_cloud_pipeline_dir, tmp_path, capsys):
    np.save(tmp_path / "bad.npy", np.zeros((5, 3)))
    err = error_of(["pointcloud", "--pose", str(tmp_path / "bad.npy"), "--checkpoint",
                    str(tiny_pose_cloud_pipeline_dir), "--out", str(tmp_path / "o")], capsys)
    assert "[5, 3]" in err
    assert "no pose file" in error_of(["pointcloud", "--pose", str(tmp_path / "nope.npz"), "--checkpoint",
                                       str(tiny_pose_cloud_pipeline_dir), "--out", str(tmp_path / "o")], capsys)


def test_unwritable_and_foreign_output_folders(tiny_cloud_pipeline_dir, tmp_path, capsys, read_only_dir):
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "keep.txt").write_text("x")
    assert "did not write it" in error_of(
        ["pointcloud", "--checkpoint", str(tiny_cloud_pipeline_dir), "--out", str(foreign), "--force"], capsys)
    assert (foreign / "keep.txt").read_text() == "x"
    err = error_of(["pointcloud", "--checkpoint", str(tiny_cloud_pipeline_dir), "--out", str(read_only_dir / "o")], capsys)
    assert "writ" in err


def test_prep_command_and_its_errors(tmp_path, capsys):
    assert main(["prep", "human-pointclouds", str(tmp_path / "set"), "--num", "3", "--points", "16"]) == 0
    assert "wrote 3 clouds of 16 points" in capsys.readouterr().out
    assert "--num must be between 3" in error_of(["prep", "human-pointclouds", str(tmp_path / "x"), "--num", "1"], capsys)
    assert "--points must be between 1" in error_of(
        ["prep", "human-pointclouds", str(tmp_path / "x"), "--points", "0"], capsys)
    assert "not a folder" in error_of(["prep", "human-pointclouds", str(tmp_path / "x"), "--from", str(tmp_path / "none")], capsys)
    assert not (tmp_path / "x").exists()


def test_eval_reference_row(tiny_cloud_set, tmp_path, capsys):
    out = tmp_path / "m.json"
    assert main(["eval", "pointcloud", "--data", str(tiny_cloud_set), "--num", "4", "--emd", "exact",
                 "--json", str(out)]) == 0
    table = capsys.readouterr().out
    assert "train vs test" in table and "shape_bbox" in table
    rows = json.loads(out.read_text())["rows"]
    assert {(r["name"], r["view"]) for r in rows} == {("train vs test", "global"), ("train vs test", "shape_bbox")}
    assert "not a point-cloud set" in error_of(["eval", "pointcloud", "--data", str(tmp_path)], capsys)


def test_eval_a_pose_model_reports_pose_fidelity(tiny_cloud_set, tiny_pose_cloud_pipeline_dir, tmp_path, capsys):
    out = tmp_path / "m.json"
    assert main(["eval", "pointcloud", "--data", str(tiny_cloud_set), "--num", "3", "--emd", "none",
                 "--checkpoint", str(tiny_pose_cloud_pipeline_dir), "--pose-num", "2", "--json", str(out)]) == 0
    assert "pose fidelity (2 poses)" in capsys.readouterr().out
    result = json.loads(out.read_text())
    fidelity = result["pose_fidelity"]
    # the ground truth lies on its own pose's body (its own shape: within a few cm); another
    # pose's cloud does not
    assert fidelity["ground_truth"] < fidelity["other_pose"]
    assert {r["name"] for r in result["rows"]} == {"train vs test", "generated"}
