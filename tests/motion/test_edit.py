"""parse_keep / known_feature_mask / lower_body_dims: what an edit keeps."""

from __future__ import annotations

import pytest
import torch

from vhdiff.motion.edit import (
    LOWER_BODY_JOINTS,
    KeepSpec,
    known_feature_mask,
    lower_body_dims,
    parse_keep,
)
from vhdiff.motion.representation.smpl import BODY_ROTATIONS, CONTACTS, ROOT_HEIGHT, ROOT_TILT


@pytest.mark.parametrize(
    ("text", "spec"),
    [
        ("lower", KeepSpec(part="lower")),
        (" Upper ", KeepSpec(part="upper")),
        ("lower,lower", KeepSpec(part="lower")),
        ("first:20", KeepSpec(first=20)),
        ("last:5", KeepSpec(last=5)),
        ("first:20, last:10", KeepSpec(first=20, last=10)),
        ("LAST:3,FIRST:4", KeepSpec(first=4, last=3)),
    ],
)
def test_accepted_forms(text, spec):
    assert parse_keep(text) == spec


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "--keep must be one of lower, upper, first:K, last:K"),
        ("   ", "--keep must be one of"),
        ("legs", "cannot read 'legs'; use lower, upper"),
        ("first", "cannot read 'first'"),
        ("first:", "cannot read 'first:'"),
        ("first:0", r"K a whole number >= 1"),
        ("first:-3", "cannot read 'first:-3'"),
        ("last:2.5", "cannot read 'last:2.5'"),
        ("middle:4", "cannot read 'middle:4'"),
        ("lower,upper", "cannot keep both lower and upper: that keeps everything"),
        ("lower,first:10", "a body part OR keyframes"),
    ],
)
def test_refused_forms_name_the_fix(text, message):
    with pytest.raises(ValueError, match=message):
        parse_keep(text)


def test_refuses_non_strings():
    with pytest.raises(ValueError, match="--keep must be one of"):
        parse_keep(None)  # type: ignore[arg-type]


@pytest.mark.parametrize("dim", [140, 136])
def test_lower_and_upper_are_complementary(dim):
    lower = known_feature_mask(parse_keep("lower"), frames=7, dim=dim)
    upper = known_feature_mask(parse_keep("upper"), frames=7, dim=dim)
    assert lower.shape == upper.shape == (7, dim)
    assert lower.dtype == torch.float32
    assert set(lower.unique().tolist()) == {0.0, 1.0}
    torch.testing.assert_close(lower + upper, torch.ones(7, dim))
    assert (lower == lower[:1]).all()  # the same dims on every frame


def test_lower_body_holds_root_contacts_and_legs():
    lower = lower_body_dims(140)
    assert lower[ROOT_HEIGHT.start : ROOT_TILT.stop].all()  # height, velocity, yaw, tilt
    assert lower[CONTACTS].all()
    for joint in range(1, 22):
        block = lower[BODY_ROTATIONS.start + (joint - 1) * 6 :][:6]
        if joint in LOWER_BODY_JOINTS:
            assert block.all(), joint
        else:
            assert not block.any(), joint  # spine, neck, head, arms: upper body
    assert set(LOWER_BODY_JOINTS) == {1, 2, 4, 5, 7, 8, 10, 11}  # hips, knees, ankles, feet
    assert int(lower.sum()) == 10 + 8 * 6 + 4
    assert int(lower_body_dims(136).sum()) == 10 + 8 * 6
    with pytest.raises(ValueError, match="140- or 136-dim"):
        lower_body_dims(263)


def test_keyframe_masks_keep_whole_frames():
    known = known_feature_mask(parse_keep("first:3,last:2"), frames=10, dim=140)
    assert known[:3].eq(1).all() and known[8:].eq(1).all()
    assert known[3:8].eq(0).all()
    only_last = known_feature_mask(parse_keep("last:4"), frames=10, dim=136)
    assert only_last[:6].eq(0).all() and only_last[6:].eq(1).all()


@pytest.mark.parametrize("keep", ["first:10", "last:12", "first:5,last:5", "first:9,last:4"])
def test_keeping_every_frame_is_an_error(keep):
    with pytest.raises(ValueError, match="keeps all 10 frames of the motion: nothing is left to generate"):
        known_feature_mask(parse_keep(keep), frames=10, dim=140)
