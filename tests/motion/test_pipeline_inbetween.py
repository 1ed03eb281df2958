"""In-betweening that reaches the end keyframes: the keyframe projection on its own (the
representation's integration convention, evenly spread corrections, a projection) and
through MotionPipeline.edit with the tiny random model and the bundled model."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vhdiff.body import SMPLMotion
from vhdiff.motion.edit import end_keyframe_projection, parse_keep
from vhdiff.motion.pipeline import MotionPipeline
from vhdiff.motion.representation.smpl import (
    ROOT_VELOCITY,
    YAW_VELOCITY,
    from_features,
    joints_from_motion,
    root_heading,
)
from vhdiff.motion.representation.stats import FeatureStats

FPS = 20.0
ROOT_COLS = [YAW_VELOCITY.start, ROOT_VELOCITY.start, ROOT_VELOCITY.start + 1]


def heading_gap(a: SMPLMotion, b: SMPLMotion) -> np.ndarray:
    """|heading difference| [T] (radians, wrapped) of two motions frame by frame."""
    return np.abs(np.angle(np.exp(1j * (root_heading(a) - root_heading(b)))))


def planar_gap(a: SMPLMotion, b: SMPLMotion) -> np.ndarray:
    """Planar root distance [T] (metres) of two motions frame by frame."""
    return np.linalg.norm(a.transl[:, [0, 2]] - b.transl[:, [0, 2]], axis=-1)


# ---------------------------------------------------------------- the projection alone
@pytest.fixture(scope="module")
def clips(real_features):
    """(stats, source [T, 140], other [T, 140]), normalised: the clip of the built-in set
    that travels furthest, and the one that turns most (a fill that goes elsewhere)."""
    stats = FeatureStats.from_features(real_features)
    travels = max(real_features, key=lambda f: np.abs(f[:, ROOT_VELOCITY]).sum())
    turns = max(real_features, key=lambda f: np.abs(f[:, YAW_VELOCITY]).sum())
    T = min(len(travels), len(turns), 60)
    source, other = (torch.as_tensor(stats.normalize(f[:T])) for f in (travels, turns))
    return stats, source, other


def integrate(stats: FeatureStats, x: torch.Tensor) -> SMPLMotion:
    return from_features(stats.denormalize(x.double().numpy()), fps=FPS)


@pytest.mark.parametrize("keep", ["first:10,last:12", "last:15"])
def test_projected_motion_reaches_the_end_keyframes(clips, keep):
    stats, source, other = clips
    spec, T = parse_keep(keep), source.shape[0]
    project = end_keyframe_projection(source, spec, stats=stats, fps=FPS)
    # what inpaint returns: the known frames are the source's, the rest the (projected) estimate
    known = torch.zeros(T, dtype=torch.bool)
    known[: spec.first] = known[T - spec.last:] = True
    plain = torch.where(known[:, None], source, other)
    fixed = torch.where(known[:, None], source, project(other[None])[0])
    want, before, after = integrate(stats, source), integrate(stats, plain), integrate(stats, fixed)
    end = slice(T - spec.last, T)
    assert planar_gap(before, want)[end].min() > 0.05  # the plain fill misses them
    assert planar_gap(after, want)[end].max() < 1e-6
    assert heading_gap(after, want)[end].max() < 1e-6
    start = slice(0, spec.first + 1)  # the kept first frames and where they lead
    np.testing.assert_allclose(after.transl[start, [0, 2]], want.transl[start, [0, 2]], atol=1e-6)


def test_the_correction_is_spread_evenly_over_the_free_frames_only(clips):
    stats, source, other = clips
    T, first, last = source.shape[0], 10, 12
    project = end_keyframe_projection(source, parse_keep(f"first:{first},last:{last}"), stats=stats, fps=FPS)
    fixed = project(other[None])[0]
    changed = (fixed != other).any(0).nonzero().flatten().tolist()
    assert changed == sorted(ROOT_COLS)  # yaw and planar velocities only
    assert torch.equal(fixed[:first], other[:first]) and torch.equal(fixed[T - last:], other[T - last:])
    raw_before = stats.denormalize(other.double().numpy())
    raw_after = stats.denormalize(fixed.double().numpy())
    turn = raw_after[first:T - last, YAW_VELOCITY.start] - raw_before[first:T - last, YAW_VELOCITY.start]
    assert np.ptp(turn) < 1e-5 and abs(turn[0]) > 1e-3  # one yaw offset for every free frame
    # with the corrected headings, the planar correction adds one world-frame step (the
    # same for every free frame) to each free frame's displacement
    before = from_features(_with_yaw(raw_before, raw_after), fps=FPS)
    after = from_features(raw_after, fps=FPS)
    shift = np.diff(after.transl[:, [0, 2]], axis=0) - np.diff(before.transl[:, [0, 2]], axis=0)
    assert np.abs(shift[first:T - last] - shift[first]).max() < 1e-6 and np.abs(shift[first]).max() > 1e-4
    assert np.abs(shift[:first]).max() < 1e-6 and np.abs(shift[T - last:]).max() < 1e-6  # float32 transl


def _with_yaw(raw: np.ndarray, yaw_from: np.ndarray) -> np.ndarray:
    """raw features [T, D] with yaw_from's yaw velocities."""
    out = raw.copy()
    out[:, YAW_VELOCITY] = yaw_from[:, YAW_VELOCITY]
    return out


def test_it_is_a_projection_and_works_on_batches(clips):
    stats, source, other = clips
    project = end_keyframe_projection(source, parse_keep("first:5,last:5"), stats=stats, fps=FPS)
    batch = torch.stack((other, source, other + 0.3 * torch.randn_like(other)))
    once = project(batch)
    torch.testing.assert_close(project(once), once, atol=1e-9, rtol=0)
    torch.testing.assert_close(once[1], source, atol=1e-9, rtol=0)  # the source already meets it
    torch.testing.assert_close(once[0], project(other[None])[0], atol=0, rtol=0)
    assert project(batch.float()).dtype == torch.float32


def test_no_projection_where_nothing_needs_it(clips):
    stats, source, _ = clips
    for keep in ("lower", "upper", "first:10"):
        assert end_keyframe_projection(source, parse_keep(keep), stats=stats, fps=FPS) is None


def test_a_wrong_shape_is_refused(clips):
    stats, source, other = clips
    project = end_keyframe_projection(source, parse_keep("last:5"), stats=stats, fps=FPS)
    with pytest.raises(ValueError, match=rf"built for \[B, {source.shape[0]}, 140\]"):
        project(other[None, :-1])


# ---------------------------------------------------------------- through the pipeline
@pytest.fixture(scope="module")
def tiny(tiny_pipeline_dir):
    return MotionPipeline.from_pretrained(tiny_pipeline_dir)


@pytest.fixture(scope="module")
def walk(tiny_set):
    """A 30-frame clip of the built-in set that moves and turns (the tiny model takes <= 40)."""
    motions = [SMPLMotion.load(p) for p in sorted((tiny_set / "motions").glob("*.npz"))]
    motion = max(motions, key=lambda m: np.ptp(m.transl[:30, [0, 2]], 0).sum())
    return SMPLMotion(global_orient=motion.global_orient[:30], body_pose=motion.body_pose[:30],
                      transl=motion.transl[:30], betas=motion.betas, fps=motion.fps)  # fmt: skip


def test_tiny_model_in_betweening_ends_at_the_source_keyframes(tiny, walk):
    options = {"keep": "first:8,last:5", "steps": 4, "seed": 0, "num": 2}
    reached = tiny.edit(walk, "a person jumps", **options)
    missed = tiny.edit(walk, "a person jumps", reach_keyframes=False, **options)
    want = joints_from_motion(walk)
    for good, bad in zip(reached, missed, strict=True):
        np.testing.assert_allclose(good.joints[:8], want[:8], atol=1e-4)
        np.testing.assert_allclose(good.joints[-5:], want[-5:], atol=3e-3)  # every joint, world
        assert heading_gap(good.smpl, walk)[-5:].max() < 0.01
        assert planar_gap(bad.smpl, walk)[-5:].min() > 0.05
        assert np.abs(good.joints[10:24] - want[10:24]).max() > 0.05  # the middle is new


@pytest.mark.parametrize("keep", ["lower", "first:8"])
def test_edits_without_end_keyframes_are_unchanged(tiny, walk, keep):
    options = {"keep": keep, "steps": 3, "seed": 2}
    on = tiny.edit(walk, "a person waves", **options)[0]
    off = tiny.edit(walk, "a person waves", reach_keyframes=False, **options)[0]
    np.testing.assert_array_equal(on.features, off.features)


@pytest.fixture(scope="module")
def bundled():
    return MotionPipeline.from_pretrained()


def test_bundled_model_in_betweening_reaches_the_end_keyframes(bundled):
    source = bundled(["a person walks forward"], seconds=4.0, steps=10, seed=3)[0].smpl
    options = {"keep": "first:20,last:20", "steps": 10, "seed": 0, "num": 2}
    reached = bundled.edit(source, "a person jumps", **options)
    missed = bundled.edit(source, "a person jumps", reach_keyframes=False, **options)
    want = joints_from_motion(source)
    for good, bad in zip(reached, missed, strict=True):
        assert planar_gap(good.smpl, source)[-20:].max() < 3e-3
        assert heading_gap(good.smpl, source)[-20:].max() < 0.01
        np.testing.assert_allclose(good.joints[-20:], want[-20:], atol=5e-3)
        np.testing.assert_allclose(good.joints[:20], want[:20], atol=1e-4)
        assert planar_gap(bad.smpl, source)[-20:].min() > 0.2  # plain RePaint lands elsewhere
        # smooth: no root step in the regenerated middle is far from its neighbours
        step = np.diff(good.smpl.transl[:, [0, 2]], axis=0)
        assert np.linalg.norm(np.diff(step, axis=0), axis=-1).max() < 0.08
