"""Temporal smoothing (vhdiff.motion.postprocess.smoothing) and the pipeline's use of it."""

from __future__ import annotations

import json

import numpy as np
import pytest

from vhdiff.motion.metrics.physical import jitter
from vhdiff.motion.postprocess.smoothing import smooth_features
from vhdiff.motion.representation.smpl import CONTACTS, joints_from_features

FPS = 20.0


def _direct(x: np.ndarray, sigma: float) -> np.ndarray:
    """The same filter written out frame by frame (clamped indices = repeated ends)."""
    radius = int(np.ceil(4 * sigma))
    weights = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    weights /= weights.sum()
    out = np.zeros_like(x)
    for t in range(len(x)):
        for k, w in zip(range(-radius, radius + 1), weights, strict=True):
            out[t] += w * x[min(max(t + k, 0), len(x) - 1)]
    return out


def test_matches_a_gaussian_filter_written_out_and_leaves_contacts(real_features):
    rng = np.random.default_rng(0)
    x = real_features[0] + rng.normal(scale=0.05, size=real_features[0].shape)
    for sigma in (0.7, 2.0):
        got = smooth_features(x, sigma=sigma)
        np.testing.assert_allclose(got[:, :136], _direct(x[:, :136], sigma), atol=1e-5)
        np.testing.assert_allclose(got[:, CONTACTS], x[:, CONTACTS], atol=1e-6)
    np.testing.assert_allclose(smooth_features(x, sigma=0), x, atol=1e-6)
    no_contacts = smooth_features(x[:, :136], sigma=0.7)
    np.testing.assert_allclose(no_contacts, _direct(x[:, :136], 0.7), atol=1e-5)


def test_removes_jitter_and_keeps_the_motion(real_features):
    rng = np.random.default_rng(1)
    clean = real_features[1]
    noisy = clean.copy()
    noisy[:, :136] += rng.normal(scale=0.02, size=(len(clean), 136))
    smooth = smooth_features(noisy, sigma=0.7)
    j = {name: joints_from_features(f, fps=FPS) for name, f in
         (("clean", clean), ("noisy", noisy), ("smooth", smooth))}  # fmt: skip
    jit = {name: jitter(v, fps=FPS) for name, v in j.items()}
    assert jit["noisy"] > 3 * jit["clean"]
    assert jit["smooth"] < 0.4 * jit["noisy"]
    # the pose stays the clean one's (pelvis-relative: noise on the velocities integrates
    # into a path drift that no smoothing can undo): closer to it than the noisy pose is
    local = {name: v - v[:, :1] for name, v in j.items()}
    error = {name: np.abs(local[name] - local["clean"]).mean() for name in ("noisy", "smooth")}
    assert error["smooth"] < 0.8 * error["noisy"]  # white noise: std x ~0.63 at sigma 0.7


def test_a_still_pose_is_a_fixed_point(real_features):
    still = np.repeat(real_features[2][:1], 30, axis=0)
    np.testing.assert_allclose(smooth_features(still, sigma=1.5), still, atol=1e-6)


@pytest.mark.parametrize("sigma", [-0.5, float("nan"), "1", 50.5, 1e9])
def test_bad_sigma_is_refused(real_features, sigma):
    """1e9 frames once asked for 60 GiB of padding; sigma is bounded to MAX_SIGMA (50)."""
    with pytest.raises(ValueError, match="sigma must be a number of frames >= 0"):
        smooth_features(real_features[0], sigma=sigma)
    with pytest.raises(ValueError, match="and at most 50"):
        smooth_features(real_features[0], sigma=1e9)
    assert smooth_features(real_features[0], sigma=50).shape == real_features[0].shape


# ---------------------------------------------------------------- in the pipeline
def test_the_pipeline_smooths_by_default_and_saves_its_setting(tiny_pipeline_dir, tmp_path):
    from vhdiff.motion.pipeline import MotionGeneration, MotionPipeline

    pipe = MotionPipeline.from_pretrained(tiny_pipeline_dir)
    assert pipe.generation.smoothing == MotionGeneration().smoothing == 0.7
    default = pipe(["a person waves"], seconds=2.0, steps=3, seed=4)[0]
    raw = pipe(["a person waves"], seconds=2.0, steps=3, seed=4, smoothing=0)[0]
    np.testing.assert_allclose(
        default.features, smooth_features(raw.features, sigma=0.7), atol=1e-5
    )
    assert jitter(default.joints, fps=FPS) < jitter(raw.joints, fps=FPS)

    pipe.generation = pipe.generation.replace(smoothing=1.5)
    saved = pipe.save_pretrained(tmp_path / "p")
    assert json.loads((saved / "pipeline.json").read_text())["generation"]["smoothing"] == 1.5
    again = MotionPipeline.from_pretrained(saved)
    assert again.generation.smoothing == 1.5
    np.testing.assert_allclose(
        again(["a person waves"], seconds=2.0, steps=3, seed=4)[0].features,
        smooth_features(raw.features, sigma=1.5), atol=1e-5,
    )  # fmt: skip
    with pytest.raises(
        ValueError, match=r"smoothing must be a number of frames >= 0 \(0 = off\) and at most 50; got -1"
    ):
        pipe(["a person waves"], seconds=2.0, steps=3, smoothing=-1)


def test_edits_smooth_only_what_they_generate(tiny_pipeline_dir, tiny_set):
    from vhdiff.body import SMPLMotion
    from vhdiff.motion.edit import known_feature_mask, parse_keep
    from vhdiff.motion.pipeline import MotionPipeline
    from vhdiff.motion.representation.smpl import ROOT_VELOCITY, YAW_VELOCITY, to_features

    pipe = MotionPipeline.from_pretrained(tiny_pipeline_dir)
    clip = SMPLMotion.load(min((tiny_set / "motions").glob("*.npz")))
    source = SMPLMotion(
        global_orient=clip.global_orient[:30], body_pose=clip.body_pose[:30],
        transl=clip.transl[:30], betas=clip.betas, fps=clip.fps,
    )  # fmt: skip
    kept = to_features(source)
    for keep in ("lower", "first:6,last:6"):
        known = known_feature_mask(parse_keep(keep), frames=30, dim=140).numpy() > 0.5
        smooth = pipe.edit(source, "a person waves", keep=keep, steps=3, seed=2)[0].features
        raw = pipe.edit(source, "a person waves", keep=keep, steps=3, seed=2, smoothing=0)[
            0
        ].features
        np.testing.assert_allclose(smooth[known], kept[known], atol=1e-4)  # kept: the source's
        free = ~known
        if keep.startswith("first"):  # the velocities that reach the end keyframes stay as made
            for channels in (ROOT_VELOCITY, YAW_VELOCITY):
                np.testing.assert_allclose(smooth[:, channels], raw[:, channels], atol=1e-6)
                free[:, channels] = False
        want = smooth_features(np.where(known, kept, raw), sigma=0.7)
        np.testing.assert_allclose(smooth[free], want[free], atol=1e-4)
        assert np.abs(smooth[free] - raw[free]).max() > 1e-3
