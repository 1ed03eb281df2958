"""The rendered human-image set: layout, stratified splits, captions that state the labels,
images that are not flat, poses that show their family, determinism, write safety."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image
from vhdiff.data_prep.human_images import (
    POSE_FAMILIES,
    REGIONS,
    VIEWS,
    caption_for,
    clothing_regions,
    pose_sources,
    write_human_images,
)

from vhdiff.body import load_body_model
from vhdiff.image.data import ImageFolder

NUM, SIZE, SEED = 12, 32, 3


@pytest.fixture(scope="module")
def body():
    return load_body_model(kind="mannequin")


@pytest.fixture(scope="module")
def built(tmp_path_factory, body):
    out = tmp_path_factory.mktemp("sets") / "humans"
    summary = write_human_images(out, num=NUM, size=SIZE, seed=SEED, shapes=3, body_model=body)
    return out, summary


def _labels(out):
    return [json.loads(line) for line in (out / "labels.jsonl").read_text().splitlines()]


def test_layout_and_description(built):
    out, summary = built
    ids = [f"{i:06d}" for i in range(NUM)]
    assert sorted(p.stem for p in (out / "images").iterdir()) == ids
    assert sorted(p.stem for p in (out / "texts").iterdir()) == ids
    description = json.loads((out / "dataset.json").read_text())
    assert description["kind"] == "human-images" and description["num"] == NUM
    assert description["size"] == SIZE and description["seed"] == SEED
    assert list(description["pose_families"]) == list(POSE_FAMILIES)
    assert set(description["views"]) == set(VIEWS)
    assert description["images_per_second"] > 0
    for image_id in ids:
        with Image.open(out / "images" / f"{image_id}.png") as image:
            assert image.mode == "RGB" and image.size == (SIZE, SIZE)
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".")]  # no partial left
    assert summary.out == out and len(summary.labels) == NUM


def test_splits_are_disjoint_complete_and_match_the_labels(built):
    out, _ = built
    splits = {name: (out / f"{name}.txt").read_text().split() for name in ("train", "val", "test")}
    members = [i for ids in splits.values() for i in ids]
    assert sorted(members) == [f"{i:06d}" for i in range(NUM)]  # complete, no ID twice
    assert all(len(ids) >= 1 for ids in splits.values())
    by_id = {label["id"]: label for label in _labels(out)}
    for name, ids in splits.items():
        assert all(by_id[i]["split"] == name for i in ids)
    test_families = {by_id[i]["family"] for i in splits["test"] + splits["val"]}
    assert len(test_families) == len(splits["test"]) + len(splits["val"])  # stratified: spread out


def test_captions_state_family_view_and_colours_of_the_labels(built):
    out, _ = built
    labels = _labels(out)
    assert {label["family"] for label in labels} == set(POSE_FAMILIES)  # 12 images, all 10 families
    for label in labels:
        text = (out / "texts" / f"{label['id']}.txt").read_text().strip()
        assert text == label["caption"]
        assert text == caption_for(family=label["family"], view=label["view"], shirt=label["shirt"],
                                   trousers=label["trousers"], shoes=label["shoes"])  # fmt: skip
        assert POSE_FAMILIES[label["family"]].phrase in text
        assert f"seen from {VIEWS[label['view']][0]}," in text
        assert (
            f"{label['shirt']} shirt, {label['trousers']} trousers, {label['shoes']} shoes" in text
        )
        assert label["family_index"] == list(POSE_FAMILIES).index(label["family"])
        assert label["shirt"] != label["trousers"]


def test_images_and_backgrounds_are_not_flat(built):
    out, _ = built
    data = ImageFolder(root=out, size=SIZE, split="train")
    assert data.skipped == 0 and data[0]["text"].startswith("a person ")
    for image_id in data.ids:
        pixels = np.asarray(Image.open(out / "images" / f"{image_id}.png"), dtype=np.float64)
        assert pixels.std() > 10.0
        border = np.concatenate([pixels[0], pixels[-1], pixels[:, 0], pixels[:, -1]])
        assert border.std(0).max() > 3.0  # the background varies along the border
        assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 100


def test_the_same_seed_gives_the_same_set(tmp_path, built, body):
    out, _ = built
    again = write_human_images(
        tmp_path / "again", num=NUM, size=SIZE, seed=SEED, shapes=3, body_model=body
    )
    assert (tmp_path / "again" / "labels.jsonl").read_text() == (out / "labels.jsonl").read_text()
    for label in again.labels:
        first = np.asarray(Image.open(out / "images" / f"{label.id}.png"))
        second = np.asarray(Image.open(tmp_path / "again" / "images" / f"{label.id}.png"))
        np.testing.assert_array_equal(first, second)
    other = write_human_images(
        tmp_path / "other", num=NUM, size=SIZE, seed=SEED + 1, shapes=3, body_model=body
    )
    assert [label.caption for label in other.labels] != [label.caption for label in again.labels]


def test_refuses_foreign_folders_and_replaces_its_own_only_with_force(tmp_path, body):
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "thesis.tex").write_text("keep me")
    with pytest.raises(FileExistsError, match="vhdiff did not write it"):
        write_human_images(foreign, num=1, size=SIZE, body_model=body)
    assert [p.name for p in foreign.iterdir()] == ["thesis.tex"]
    own = tmp_path / "set"
    write_human_images(own, num=1, size=SIZE, body_model=body)
    with pytest.raises(FileExistsError, match="--force"):
        write_human_images(own, num=1, size=SIZE, body_model=body)
    summary = write_human_images(own, num=2, size=SIZE, body_model=body, force=True)
    assert sorted(p.stem for p in (own / "images").iterdir()) == ["000000", "000001"]
    assert summary.splits == {"train": 2, "val": 0, "test": 0}
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_poses_show_their_family(body):
    """Joint positions of every picked frame (y up, the body faces +Z, its left is +X)."""
    sources = pose_sources()
    assert list(sources) == list(POSE_FAMILIES)
    rest = body(global_orient=np.zeros((1, 3)), body_pose=np.zeros((1, 21, 3))).joints[0].numpy()
    leg = rest[0, 1] - rest[7, 1]  # pelvis above the ankles, standing straight
    for family, segments in sources.items():
        for source in segments:
            frames = source.frames
            assert len(frames) >= 1
            j = body(
                global_orient=source.global_orient[frames], body_pose=source.body_pose[frames]
            ).joints.numpy()
            y = j[..., 1]
            head, l_wrist, r_wrist, l_shoulder = y[:, 15], y[:, 20], y[:, 21], y[:, 16]
            height = y[:, 0] - np.minimum(y[:, 7], y[:, 8])
            checks = {
                "standing": (l_wrist < l_shoulder - 0.3)
                & (r_wrist < l_shoulder - 0.3)
                & (height > 0.95 * leg),
                "raising_both_arms": (l_wrist > head) & (r_wrist > head),
                "raising_right_arm": (r_wrist > head) & (l_wrist < l_shoulder - 0.3),
                "raising_left_arm": (l_wrist > head) & (r_wrist < l_shoulder - 0.3),
                "arms_out": (np.abs(l_wrist - l_shoulder) < 0.2)
                & (np.abs(j[:, 20, 0] - j[:, 21, 0]) > 1.2),
                "squatting": height < 0.7 * leg,
                "walking": np.abs(j[:, 7, 2] - j[:, 8, 2]) > 0.3,
                "kicking": np.abs(y[:, 7] - y[:, 8]) > 0.3,
                "sitting": (height < 0.8 * leg) & (j[:, 4, 2] - j[:, 0, 2] > 0.25),
                "bowing": j[:, 15, 2] - j[:, 0, 2] > 0.3,
            }
            assert checks[family].all(), family


def test_clothing_regions_follow_the_body(body):
    rest = body(global_orient=np.zeros((1, 3)), body_pose=np.zeros((1, 21, 3)))
    vertices, joints = rest.vertices[0].numpy(), rest.joints[0].numpy()
    regions = clothing_regions(vertices, joints)
    y = vertices[:, 1]
    mean_height = {name: y[regions == REGIONS.index(name)].mean() for name in REGIONS}
    assert mean_height["shoes"] < mean_height["trousers"] < mean_height["shirt"]
    assert regions[y.argmax()] == REGIONS.index("skin")  # the top of the head
    assert regions[y.argmin()] == REGIONS.index("shoes")
    assert regions[np.abs(vertices[:, 0]).argmax()] == REGIONS.index("skin")  # a fingertip
    assert all((regions == REGIONS.index(name)).sum() > 500 for name in REGIONS)
