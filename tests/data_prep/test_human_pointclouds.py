"""`vhdiff prep human-pointclouds`: posed-body clouds and clouds from a folder of files."""

import json

import numpy as np
import pytest
from vhdiff.data_prep.human_pointclouds import write_human_pointclouds, write_pointcloud_folder

from tests.pointcloud_fixtures import TINY_POINTS
from vhdiff.pointcloud.data import load_clouds, load_poses, read_set_info, read_split, read_texts


def test_layout_splits_and_captions(tiny_cloud_set):
    info = read_set_info(tiny_cloud_set)
    assert info["points"] == TINY_POINTS and set(info["normalization"]) == {"global", "shape_bbox"}
    splits = {name: read_split(tiny_cloud_set, name) for name in ("train", "val", "test")}
    ids = [i for members in splits.values() for i in members]
    assert len(ids) == len(set(ids)) == 15 and all(splits.values())
    clouds = load_clouds(tiny_cloud_set, ids)
    assert clouds.shape == (15, TINY_POINTS, 3) and clouds.dtype == np.float32
    # placement: on the floor, standing over the origin, about a person's height
    lowest = clouds[..., 1].min(1)  # the body's lowest point is at y = 0; 64 samples come near it
    assert np.all(lowest >= -1e-6) and np.all(lowest < 0.15)
    assert np.all(np.abs(clouds[..., [0, 2]].mean(1)) < 0.3)
    assert np.all((np.ptp(clouds[..., 1], 1) > 0.8) & (np.ptp(clouds[..., 1], 1) < 2.3))
    assert all(len(t) >= 1 for t in read_texts(tiny_cloud_set, ids))
    assert load_poses(tiny_cloud_set, ids).shape == (15, 22, 3)


def test_points_lie_on_the_posed_body_they_came_from(tmp_path):
    from scipy.spatial import cKDTree

    from vhdiff.body import load_body_model
    from vhdiff.pointcloud.bodies import placed_body

    out = tmp_path / "set"
    write_human_pointclouds(out, num=3, points=500, seed=0)
    cloud = load_clouds(out, ["000000"])[0]
    with np.load(out / "poses" / "000000.npz") as data:
        pose, betas = data["pose"], data["betas"]
    model = load_body_model(kind="mannequin")
    vertices, _ = placed_body(model, pose, betas)
    distance, _ = cKDTree(vertices).query(cloud)
    assert np.percentile(distance, 99) < 0.02  # within a triangle's size of a vertex
    # and a different body shape is farther: the clouds carry their own betas
    other, _ = placed_body(model, pose, np.full(10, 2.0))
    assert cKDTree(other).query(cloud)[0].mean() > 2 * distance.mean()


def test_same_seed_same_set_and_write_rules(tmp_path, tiny_cloud_set):
    out = tmp_path / "again"
    write_human_pointclouds(out, num=15, points=TINY_POINTS, seed=3)
    np.testing.assert_array_equal(load_clouds(out, ["000004"]), load_clouds(tiny_cloud_set, ["000004"]))
    with pytest.raises(FileExistsError, match="--force"):
        write_human_pointclouds(out, num=3, points=8, seed=0)
    write_human_pointclouds(out, num=3, points=8, seed=0, force=True)
    assert json.loads((out / "dataset.json").read_text())["points"] == 8
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me")
    with pytest.raises(FileExistsError, match="did not write it"):
        write_human_pointclouds(foreign, num=3, points=8, seed=0, force=True)
    assert (foreign / "notes.txt").read_text() == "keep me"


@pytest.mark.parametrize("kwargs, message", [
    ({"num": 2}, "--num must be"), ({"points": 0}, "--points must be"), ({"points": 10**7}, "--points must be"),
])
def test_bad_counts(tmp_path, kwargs, message):
    with pytest.raises(ValueError, match=message):
        write_human_pointclouds(tmp_path / "x", **{"num": 3, "points": 8, **kwargs})
    assert not (tmp_path / "x").exists()


def test_from_a_folder_skips_and_counts_bad_files(tmp_path):
    import trimesh

    src = tmp_path / "src"
    (src / "deep").mkdir(parents=True)
    trimesh.creation.box().export(src / "box.obj")
    trimesh.creation.icosphere().export(src / "deep" / "ball.ply")
    trimesh.creation.cylinder(radius=0.2, height=1.0).export(src / "can.stl")
    (src / "can.txt").write_text("a tall can\n")
    np.save(src / "cloud.npy", np.random.default_rng(0).normal(size=(100, 3)))
    np.savetxt(src / "few.xyz", np.zeros((5, 3)))
    np.save(src / "nan.npy", np.full((100, 3), np.nan))
    (src / "flat.obj").write_text("v 0 0 0\nv 1 0 0\nv 2 0 0\nf 1 2 3\n")
    (src / "empty.obj").write_text("")
    (src / "junk.npy").write_bytes(b"\x00junk")
    (src / "readme.md").write_text("not a mesh")
    report = write_pointcloud_folder(tmp_path / "out", source=src, points=64, seed=0)
    assert report.clouds == 4
    assert report.skipped == {"fewer points": 1, "NaN": 1, "degenerate": 1, "empty": 1, "unreadable": 1}
    ids = [i for s in ("train", "val", "test") for i in read_split(tmp_path / "out", s)]
    assert load_clouds(tmp_path / "out", ids).shape == (4, 64, 3)
    info = read_set_info(tmp_path / "out")
    can = next(i for i, f in info["files"].items() if f == "can.stl")
    assert read_texts(tmp_path / "out", [can]) == [["a tall can"]]
    with pytest.raises(ValueError, match="no pose"):
        load_poses(tmp_path / "out", ids)


def test_a_set_with_mismatched_point_counts_is_a_named_error(tmp_path, tiny_cloud_set):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(tiny_cloud_set, copy)
    np.save(copy / "points" / "000002.npy", np.zeros((7, 3), np.float32))
    ids = [f"{i:06d}" for i in range(4)]
    with pytest.raises(ValueError, match="000002.npy' has 7 points"):
        load_clouds(copy, ids)


def test_a_real_smpl_body_from_the_users_files(tmp_path):
    """--body smpl: the user's SMPL file (a synthetic one in SMPL's format here)."""
    from vhdiff.body.synthetic import write_synthetic_model

    folder = tmp_path / "smpl"
    folder.mkdir()
    write_synthetic_model(folder / "SMPL_NEUTRAL.npz", "smpl")
    out = tmp_path / "set"
    write_human_pointclouds(out, num=3, points=32, seed=0, body="smpl", smpl_path=str(folder))
    assert read_set_info(out)["body"] == "smpl"
    assert load_clouds(out, read_split(out, "train")).shape[1:] == (32, 3)
    with pytest.raises(FileNotFoundError):
        write_human_pointclouds(tmp_path / "none", num=3, points=8, body="smpl", smpl_path=str(tmp_path / "missing"))
