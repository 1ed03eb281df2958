"""MotionTextDataset: layout, normalisation, crops, captions, bad files skipped, collate."""

import functools
import warnings

import numpy as np
import pytest
import torch

from tests.motion.helpers import smooth_motion, write_dataset
from vhdiff.motion.data import (
    MotionTextDataset,
    collate_motion,
    load_motion_checked,
    read_captions,
)
from vhdiff.motion.representation.smpl import to_features
from vhdiff.motion.representation.stats import FeatureStats


@pytest.fixture
def dataset_root(tmp_path):
    write_dataset(tmp_path, {"train": 4, "val": 2, "test": 2}, frames=60)
    return tmp_path


def test_items_are_normalised_features_with_captions(dataset_root):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a clean dataset warns about nothing
        data = MotionTextDataset(dataset_root, "val", max_frames=196, min_frames=40)
    assert len(data) == 2 and data.skipped == []
    item = data[0]
    assert item["id"] == "val_004"
    assert item["features"].dtype == torch.float32 and item["features"].shape == (64, 140)
    assert item["length"] == 64
    assert item["captions"] == ["a person moves number 4", "someone does motion 4"]
    stats = FeatureStats.load(dataset_root / "feature_stats.npz")
    expected = stats.normalize(to_features(smooth_motion(64, seed=4)))
    np.testing.assert_allclose(item["features"].numpy(), expected, atol=1e-4)


def test_train_crops_randomly_and_eval_takes_the_start(dataset_root):
    train = MotionTextDataset(
        dataset_root,
        "train",
        max_frames=40,
        min_frames=40,
        generator=torch.Generator().manual_seed(0),
    )
    full = MotionTextDataset(dataset_root, "train", max_frames=196, min_frames=40)[3]["features"]
    starts = set()
    for _ in range(20):
        window = train[3]["features"]
        assert window.shape == (40, 140)
        start = int(torch.cdist(window[:1], full).argmin())
        torch.testing.assert_close(window, full[start : start + 40])
        starts.add(start)
    assert len(starts) > 3
    test = MotionTextDataset(dataset_root, "test", max_frames=40, min_frames=40, cache=False)
    first = test[0]["features"]
    assert torch.equal(first, test[0]["features"])
    assert first.shape == (40, 140)


def test_collate_pads_masks_and_chooses_captions(dataset_root):
    data = MotionTextDataset(dataset_root, "train")
    batch = collate_motion([data[0], data[3]], rng=0)
    assert batch["x"].shape == (2, 63, 140)
    assert batch["lengths"].tolist() == [60, 63]
    assert batch["mask"].dtype == torch.bool
    assert batch["mask"][0, :60].all() and not batch["mask"][0, 60:].any()
    assert (batch["x"][0, 60:] == 0).all()
    torch.testing.assert_close(batch["x"][1], data[3]["features"])
    assert batch["ids"] == ["train_000", "train_003"]
    assert batch["captions"][0] in data[0]["captions"]
    assert collate_motion([data[0], data[3]], rng=0)["captions"] == batch["captions"]  # seeded
    chosen = {
        collate_motion([data[0]], rng=np.random.default_rng(s))["captions"][0] for s in range(20)
    }
    assert chosen == set(data[0]["captions"])
    loader = torch.utils.data.DataLoader(
        data, batch_size=3, collate_fn=functools.partial(collate_motion, rng=1)
    )
    assert [b["x"].shape[0] for b in loader] == [3, 1]


def test_bad_files_are_skipped_counted_and_reported(dataset_root):
    motions, texts = dataset_root / "motions", dataset_root / "texts"
    (motions / "train_000.npz").write_bytes(b"not a zip file")
    np.savez(motions / "train_001.npz", poses=np.zeros((50, 72)))  # no trans / fps / betas
    smooth_motion(50, fps=30.0).save(motions / "train_002.npz")  # fps mismatch
    (texts / "train_003.txt").write_text("\n  \n")  # empty caption file
    with open(dataset_root / "train.txt", "a") as split:
        split.write("missing_clip\n")
    with (
        pytest.warns(UserWarning, match="skipped 5 of 5") as record,
        pytest.raises(ValueError, match="no usable clips"),
    ):
        MotionTextDataset(dataset_root, "train")
    assert len(record) == 1
    # one good clip left: the rest still loads
    smooth_motion(45, seed=9).save(motions / "train_002.npz")
    with pytest.warns(UserWarning, match="skipped 4 of 5"):
        data = MotionTextDataset(dataset_root, "train")
    assert len(data) == 1 and data.ids == ["train_002"]
    reasons = {s.path.rsplit("/", 1)[-1]: s.reason for s in data.skipped}
    assert "not a readable .npz" in reasons["train_000.npz"]
    assert "missing keys" in reasons["train_001.npz"]
    assert "empty" in reasons["train_003.txt"]
    assert "not found" in reasons["missing_clip.txt"]


def test_per_file_checks_name_the_file(tmp_path):
    path = smooth_motion(10, fps=30.0).save(tmp_path / "m.npz")
    with pytest.raises(ValueError, match=r"m\.npz.*fps is 30 but the dataset expects 20.*--fps 20"):
        load_motion_checked(path, fps=20.0)
    np.savez(tmp_path / "bad.npz", global_orient=np.zeros((5, 3)), body_pose=np.zeros((5, 7)),
             transl=np.zeros((5, 3)), betas=np.zeros(10), fps=20.0)  # fmt: skip
    with pytest.raises(ValueError, match=r"bad\.npz.*body_pose must have shape"):
        load_motion_checked(tmp_path / "bad.npz", fps=20.0)
    caption_file = tmp_path / "c.txt"
    caption_file.write_text(
        "a man walks#a/DET man/NOUN walk/VERB#0.0#0.0\nhe then sits#he/PRON#2.5#nan\n"
    )
    with pytest.raises(ValueError, match=r"c\.txt' line 2: segment"):
        read_captions(caption_file)
    caption_file.write_text("a|b#x#1#2#3\n")
    with pytest.raises(ValueError, match=r"c\.txt' line 1: expected"):
        read_captions(caption_file)


def test_humanml3d_caption_segments_become_items(dataset_root):
    (dataset_root / "texts" / "test_006.txt").write_text(
        "a person moves#a/DET person/NOUN move/VERB#0.0#0.0\n"
        "the person waves#the/DET person/NOUN wave/VERB#0.5#2.75\n"
        "too short part#x/X#0.0#1.0\n"
    )
    with pytest.warns(UserWarning, match="fewer than min_frames=40"):
        data = MotionTextDataset(dataset_root, "test")
    assert data.ids == ["test_006", "test_006", "test_007"]
    whole, segment = data[0], data[1]
    assert whole["captions"] == ["a person moves"] and whole["length"] == 66
    assert segment["captions"] == ["the person waves"] and segment["length"] == 45
    torch.testing.assert_close(segment["features"], whole["features"][10:55])
    assert read_captions(dataset_root / "texts" / "test_006.txt")[1].tokens == (
        "the/DET", "person/NOUN", "wave/VERB",
    )  # fmt: skip


def test_missing_pieces_raise_with_a_fix(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"dataset folder .* is not a folder; make a dataset with `vhdiff prep synthetic-motion"):
        MotionTextDataset(tmp_path / "nope")
    with pytest.raises(FileNotFoundError, match="feature_stats.npz.*prep"):
        MotionTextDataset(tmp_path)
    FeatureStats(mean=np.zeros(140), std=np.ones(140)).save(tmp_path / "feature_stats.npz")
    with pytest.raises(FileNotFoundError, match="train.txt.*synthetic-motion"):
        MotionTextDataset(tmp_path)
    with pytest.raises(ValueError, match="contacts=True"):
        MotionTextDataset(tmp_path, contacts=False)
    with pytest.raises(ValueError, match="split must be one of"):
        MotionTextDataset(tmp_path, "dev")
