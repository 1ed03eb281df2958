"""MotionPipeline with a tiny random model: saving/loading, seeds, lengths, ordering, the
errors, editing by inpainting, and the evaluator's generate_fn."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
import torch

from vhdiff.body import SMPLMotion
from vhdiff.body import rotations_np as nr
from vhdiff.motion.edit import LOWER_BODY_JOINTS
from vhdiff.motion.pipeline import MotionPipeline, load_generate_fn
from vhdiff.motion.representation.smpl import joints_from_motion
from vhdiff.motion.representation.stats import FeatureStats

FAST = {"steps": 3, "seconds": 1.0}


@pytest.fixture(scope="module")
def pipe(tiny_pipeline_dir):
    return MotionPipeline.from_pretrained(tiny_pipeline_dir)


@pytest.fixture(scope="module")
def source(tiny_set):
    """A real 30-frame clip of the built-in set with non-zero betas (the tiny model takes <= 40)."""
    motion = max((SMPLMotion.load(p) for p in sorted((tiny_set / "motions").glob("*.npz"))),
                 key=lambda m: np.ptp(m.transl[:30, 2]) + np.ptp(m.transl[:30, 0]))  # fmt: skip
    assert np.abs(motion.betas).max() > 0.05
    return SMPLMotion(
        global_orient=motion.global_orient[:30], body_pose=motion.body_pose[:30],
        transl=motion.transl[:30], betas=motion.betas, fps=motion.fps,
    )  # fmt: skip


def features(motions) -> np.ndarray:
    return np.stack([m.features for m in motions])


def test_save_and_load_round_trip_gives_the_same_samples(pipe, tmp_path):
    before = pipe(["a person walks forward"], seed=5, **FAST)[0]
    again = MotionPipeline.from_pretrained(pipe.save_pretrained(tmp_path / "copy"))
    after = again(["a person walks forward"], seed=5, **FAST)[0]
    np.testing.assert_array_equal(after.features, before.features)
    np.testing.assert_array_equal(after.joints, before.joints)
    assert json.loads((tmp_path / "copy" / "pipeline.json").read_text())["_class"] == "MotionPipeline"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["copy"]  # no temporary folder left

    half = MotionPipeline.from_pretrained(pipe.save_pretrained(tmp_path / "half", fp16=True))
    assert next(half.model.parameters()).dtype == torch.float32  # loaded as fp32
    size = lambda d: (d / "model" / "model.safetensors").stat().st_size
    assert size(tmp_path / "half") < 0.6 * size(tmp_path / "copy")
    low = half(["a person walks forward"], seed=5, **FAST)[0]
    spread = np.abs(before.features).mean()
    diff = np.abs(low.features - before.features)
    assert 0 < diff.max() and diff.mean() < 0.02 * spread


def test_guidance_interval_is_saved_and_changes_only_the_steps_outside_it(tiny_pipeline_dir, tmp_path):
    pipe = MotionPipeline.from_pretrained(tiny_pipeline_dir)
    assert pipe.generation.guidance_interval is None
    full = pipe(["a person walks forward"], seed=5, **FAST)[0]
    every = pipe(["a person walks forward"], seed=5, guidance_interval=(0, 99), **FAST)[0]  # every timestep
    np.testing.assert_array_equal(every.features, full.features)
    pipe.generation = pipe.generation.replace(guidance_interval=(50, 99))
    limited = pipe(["a person walks forward"], seed=5, **FAST)[0]
    assert not np.array_equal(limited.features, full.features)
    np.testing.assert_array_equal(  # "all": guide at every step again, for this call
        pipe(["a person walks forward"], seed=5, guidance_interval="all", **FAST)[0].features, full.features
    )
    again = MotionPipeline.from_pretrained(pipe.save_pretrained(tmp_path / "copy"))
    meta = json.loads((tmp_path / "copy" / "pipeline.json").read_text())
    assert meta["generation"]["guidance_interval"] == [50, 99]
    assert again.generation == pipe.generation
    np.testing.assert_array_equal(again(["a person walks forward"], seed=5, **FAST)[0].features, limited.features)
    meta["generation"]["guidance_interval"] = [90, 10]
    (tmp_path / "copy" / "pipeline.json").write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="guidance interval must be"):
        MotionPipeline.from_pretrained(tmp_path / "copy")
    meta["generation"]["guidance_interval"] = [50, 100]  # beyond the model's 100 timesteps
    (tmp_path / "copy" / "pipeline.json").write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="outside the model's timesteps 0-99"):
        MotionPipeline.from_pretrained(tmp_path / "copy")
    with pytest.raises(ValueError, match="outside the model's timesteps 0-99"):
        pipe(["a person walks forward"], guidance_interval=(0, 5000), **FAST)


def test_saving_over_an_earlier_pipeline_folder_replaces_it_and_nothing_else(pipe, tmp_path):
    target = tmp_path / "model"
    pipe.save_pretrained(target)
    (target / "stale.txt").write_text("old")  # inside a pipeline folder: replaced with it
    pipe.save_pretrained(target)
    assert sorted(p.name for p in target.iterdir()) == ["feature_stats.npz", "model", "pipeline.json"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]
    mine = tmp_path / "mine"  # a folder that is not a pipeline folder was once deleted too
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    with pytest.raises(FileExistsError, match="is not a pipeline folder .one holds pipeline.json."):
        pipe.save_pretrained(mine)
    assert [p.name for p in mine.iterdir()] == ["notes.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine", "model"]


def test_seeds(pipe):
    a = pipe(["a person jumps"], seed=1, **FAST)[0]
    b = pipe(["a person jumps"], seed=1, **FAST)[0]
    c = pipe(["a person jumps"], seed=2, **FAST)[0]
    np.testing.assert_array_equal(a.features, b.features)
    assert np.abs(a.features - c.features).mean() > 1e-3
    assert a.seed == 1 and c.seed == 2
    unseeded = pipe(["a person jumps"], **FAST)[0]
    assert isinstance(unseeded.seed, int)
    replay = pipe(["a person jumps"], seed=unseeded.seed, **FAST)[0]
    np.testing.assert_array_equal(replay.features, unseeded.features)


@pytest.mark.parametrize(("seconds", "frames"), [(1.0, 20), (1.03, 21), (0.52, 10), (2.0, 40), (0.01, 1)])
def test_frames_are_seconds_times_fps(pipe, seconds, frames):
    motion = pipe("a person waves", seconds=seconds, steps=2, seed=0)[0]
    assert motion.num_frames == frames == motion.joints.shape[0]
    assert motion.features.shape == (frames, 140)
    assert motion.smpl.num_frames == frames and motion.smpl.fps == 20.0
    assert motion.joints.shape == (frames, 22, 3)


def test_num_per_prompt_is_prompt_major_with_per_prompt_lengths(pipe):
    prompts = ["a person walks forward", "a person sits down"]
    motions = pipe(prompts, seconds=[0.5, 1.5], num_per_prompt=3, steps=2, seed=4)
    assert [m.prompt for m in motions] == [prompts[0]] * 3 + [prompts[1]] * 3
    assert [m.num_frames for m in motions] == [10] * 3 + [30] * 3
    assert len({m.features.tobytes() for m in motions}) == 6  # every sample its own noise
    # batching in chunks does not change anything
    chunked = pipe(prompts, seconds=[0.5, 1.5], num_per_prompt=3, steps=2, seed=4, batch_size=64)
    np.testing.assert_array_equal(features(chunked[:3]), features(motions[:3]))


def test_motion_is_consistent_with_its_smpl_parameters(pipe):
    motion = pipe("a person kicks", seed=0, **FAST)[0]
    np.testing.assert_allclose(joints_from_motion(motion.smpl), motion.joints, atol=1e-4)
    assert (motion.smpl.betas == 0).all()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"prompts": ""}, "prompt 0 is empty; describe the motion"),
        ({"prompts": ["ok", "   "]}, "prompt 1 is empty"),
        ({"prompts": []}, "prompts must be a non-empty string or list of strings"),
        ({"prompts": [3]}, "prompt 0 is a int, not a string"),
        ({"seconds": 0}, r"length must be a number of seconds > 0; got 0"),
        ({"seconds": -1.0}, "length must be a number of seconds > 0"),
        ({"seconds": float("nan")}, "length must be a number of seconds > 0"),
        ({"seconds": 2.1}, r"beyond this model's maximum of 2 s \(40 frames at 20 fps\); ask for 2 s or less"),
        ({"seconds": [1.0, 1.0]}, "got 2 lengths for 1 prompts"),
        ({"guidance": -0.5}, r"guidance must be a number in \[0, 50\] \(1 = no guidance, 0 = ignore the condition\)"),
        ({"guidance": 1e9}, r"guidance must be a number in \[0, 50\]"),
        ({"sampler": "euler"}, "unknown sampler 'euler'; valid options: 'ddpm', 'ddim', 'dpm\\+\\+'"),
        ({"steps": 0}, r"steps must be an integer in \[1, 100000\]"),
        ({"steps": 101}, r"steps must be in \[1, 100\] \(the model's training timesteps\)"),
        ({"timestep_spacing": "cubic"}, "unknown timestep_spacing 'cubic'; choose one of"),
        ({"eta": 2.0}, r"eta must be a number in \[0, 1\]"),
        ({"smoothing": -1.0}, "smoothing must be a number of frames >= 0"),
        ({"colour": "red"}, "unknown generation setting.s. colour; valid: sampler, steps"),
        ({"seed": 2**64}, r"seed must be a whole number in \[0, 2\^63 - 1\]"),
        ({"seed": -1}, r"seed must be a whole number in \[0, 2\^63 - 1\]"),
        ({"num_per_prompt": 0}, r"num_per_prompt must be an integer in \[1, 10000\]"),
    ],
)
def test_bad_generation_arguments(pipe, kwargs, message):
    args = {"prompts": "a person walks", "seconds": 1.0, "steps": 2, "seed": 0, **kwargs}
    with pytest.raises(ValueError, match=message):
        pipe(args.pop("prompts"), **args)


@pytest.mark.parametrize("sampler", ["ddim", "ddpm", "dpm++"])
def test_every_sampler_runs(pipe, sampler):
    motion = pipe("a person walks", sampler=sampler, steps=3, seconds=0.5, seed=0)[0]
    assert np.isfinite(motion.features).all() and motion.num_frames == 10


# ---------------------------------------------------------------- folders that are not pipelines
def test_a_single_model_folder_is_not_a_pipeline(tmp_path):
    from vhdiff.backbones.unet import UNet

    UNet(base_channels=8, channel_mults=(1,), num_res_blocks=1, attention_resolutions=(), norm_groups=4, image_size=8).save_pretrained(tmp_path / "unet")  # fmt: skip
    with pytest.raises(ValueError, match="is not a motion pipeline folder .no pipeline.json.; it holds a single model"):
        MotionPipeline.from_pretrained(tmp_path / "unet")


def test_another_kind_of_pipeline_json_is_refused(tiny_pipeline_dir, tmp_path):
    import shutil

    other = shutil.copytree(tiny_pipeline_dir, tmp_path / "other")
    meta = json.loads((other / "pipeline.json").read_text())
    (other / "pipeline.json").write_text(json.dumps({**meta, "_class": "ImagePipeline"}))
    with pytest.raises(ValueError, match="describes a 'ImagePipeline', not a MotionPipeline .another modality"):
        MotionPipeline.from_pretrained(other)
    (other / "pipeline.json").write_text(json.dumps({**meta, "_format": 99}))
    with pytest.raises(ValueError, match="written by a newer vhdiff .format 99.; upgrade vhdiff"):
        MotionPipeline.from_pretrained(other)
    (other / "pipeline.json").write_text('{"_class": "MotionPipeline", ')
    with pytest.raises(ValueError, match="is not valid JSON .*; the folder is damaged"):
        MotionPipeline.from_pretrained(other)
    (other / "pipeline.json").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(ValueError, match="is not valid JSON"):
        MotionPipeline.from_pretrained(other)
    (other / "pipeline.json").write_text("[1, 2]")
    with pytest.raises(ValueError, match="describes a 'list', not a MotionPipeline"):
        MotionPipeline.from_pretrained(other)


def test_a_training_run_gets_the_export_hint(tmp_path):
    run = tmp_path / "run"
    (run / "checkpoints").mkdir(parents=True)
    with pytest.raises(ValueError, match=re.escape(f"looks like a training run: export it with `vhdiff motion-export {run} OUT`")):
        MotionPipeline.read_meta(run)
    with pytest.raises(FileNotFoundError, match="no motion pipeline folder at"):
        MotionPipeline.from_pretrained(tmp_path / "missing")
    with pytest.raises(FileNotFoundError, match="neither a checkpoint folder"):
        MotionPipeline.from_run(run)


# ---------------------------------------------------------------- editing
def rotations(motion: SMPLMotion) -> np.ndarray:
    return nr.axis_angle_to_matrix(motion.poses.reshape(-1, 22, 3))


def test_in_betweening_keeps_the_keyframes(pipe, source):
    edited = pipe.edit(source, "a person jumps", keep="first:8,last:5", steps=4, seed=0, num=2)
    assert len(edited) == 2
    want = joints_from_motion(source)
    for motion in edited:
        assert motion.num_frames == 30 and motion.prompt == "a person jumps"
        np.testing.assert_allclose(motion.joints[:8], want[:8], atol=1e-4)
        np.testing.assert_allclose(rotations(motion.smpl)[:8], rotations(source)[:8], atol=1e-4)
        # the last keyframes keep their pose and height (their world position and heading
        # are reached through the keyframe projection: tests/motion/test_pipeline_inbetween.py)
        got, src = rotations(motion.smpl)[-5:, 1:], rotations(source)[-5:, 1:]
        np.testing.assert_allclose(got, src, atol=1e-4)
        np.testing.assert_allclose(motion.smpl.transl[-5:, 1], source.transl[-5:, 1], atol=1e-5)
        np.testing.assert_array_equal(motion.smpl.betas, source.betas)
        assert np.abs(motion.joints[10:24] - want[10:24]).max() > 0.05  # the middle is new
    assert np.abs(edited[0].features - edited[1].features).max() > 1e-3


@pytest.mark.parametrize("keep", ["lower", "upper"])
def test_body_part_editing_keeps_that_part(pipe, source, keep):
    motion = pipe.edit(source, "a person waves", keep=keep, steps=4, seed=1)[0]
    got, want = rotations(motion.smpl), rotations(source)
    legs = [0, *LOWER_BODY_JOINTS]  # the root (pelvis) belongs to the lower body
    upper = [j for j in range(22) if j not in legs]
    kept, regenerated = (legs, upper) if keep == "lower" else (upper, legs)
    np.testing.assert_allclose(got[:, kept], want[:, kept], atol=1e-4)
    assert np.abs(got[:, regenerated] - want[:, regenerated]).max() > 0.1
    if keep == "lower":
        np.testing.assert_allclose(motion.smpl.transl, source.transl, atol=1e-4)
    else:
        assert np.abs(motion.smpl.transl - source.transl).max() > 1e-2
    np.testing.assert_array_equal(motion.smpl.betas, source.betas)


def test_bad_edits_are_refused(pipe, source):
    with pytest.raises(ValueError, match="cannot read 'head'"):
        pipe.edit(source, "a person waves", keep="head", steps=2)
    with pytest.raises(ValueError, match="keeps all 30 frames"):
        pipe.edit(source, "a person waves", keep="first:20,last:10", steps=2)
    with pytest.raises(ValueError, match="prompt 0 is empty"):
        pipe.edit(source, "", keep="lower", steps=2)
    with pytest.raises(ValueError, match="source must be an SMPLMotion"):
        pipe.edit(source.transl, "a person waves", keep="lower", steps=2)
    slow = SMPLMotion(global_orient=source.global_orient, body_pose=source.body_pose,
                      transl=source.transl, betas=source.betas, fps=30.0)  # fmt: skip
    with pytest.raises(ValueError, match="at 30 fps but the model works at 20 fps; resample it first"):
        pipe.edit(slow, "a person waves", keep="lower", steps=2)
    long = SMPLMotion(global_orient=np.zeros((41, 3)), body_pose=np.zeros((41, 21, 3)),
                      transl=np.zeros((41, 3)), betas=np.zeros(10), fps=20.0)  # fmt: skip
    with pytest.raises(ValueError, match="has 41 frames, more than this model's 40; crop it"):
        pipe.edit(long, "a person waves", keep="lower", steps=2)
    with pytest.raises(ValueError, match=r"guidance must be a number in \[0, 50\]"):
        pipe.edit(source, "a person waves", keep="lower", steps=2, guidance=-1.0)


# ---------------------------------------------------------------- the evaluator's generate_fn
def test_generate_fn_pads_with_zeros_after_each_length(tiny_pipeline_dir, pipe):
    generate = load_generate_fn(tiny_pipeline_dir, stats=pipe.stats, steps=3, seed=7)
    out = generate(["a person walks", "a person jumps"], torch.tensor([12, 25]))
    assert out.shape == (2, 25, 140) and out.dtype == torch.float32
    assert (out[0, 12:] == 0).all() and (out[0, :12].abs().sum(-1) > 0).all()
    assert (out[1].abs().sum(-1) > 0).all()
    # the same samples as the pipeline draws with that seed, in the pipeline's normalisation
    x, mask = pipe.sample_features(
        ["a person walks", "a person jumps"], [12, 25], pipe.settings(steps=3),
        generator=torch.Generator().manual_seed(7),
    )  # fmt: skip
    torch.testing.assert_close(out, x * mask[..., None], atol=1e-5, rtol=1e-5)
    # another data set's stats: the output is normalised with THOSE
    other = FeatureStats(mean=pipe.stats.mean + 1.0, std=pipe.stats.std * 2.0)
    shifted = load_generate_fn(tiny_pipeline_dir, stats=other, steps=3, seed=7)
    got = shifted(["a person walks", "a person jumps"], [12, 25])
    raw = pipe.stats.denormalize(x.numpy().astype(np.float64))
    want = torch.as_tensor(other.normalize(raw), dtype=torch.float32) * mask[..., None]
    torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-5)
    # lengths beyond the model's maximum are cut to it
    assert generate(["a person walks"], [60]).shape == (1, 40, 140)


def test_generate_fn_refuses_another_frame_rate(tiny_pipeline_dir):
    with pytest.raises(ValueError, match="works at 20 fps but the dataset is at 30 fps"):
        load_generate_fn(tiny_pipeline_dir, fps=30.0)


@pytest.mark.parametrize(
    ("options", "message"),
    [({"steps": 0}, "steps must be an integer"), ({"guidance": -1.0}, r"guidance must be a number in \[0, 50\]"),
     ({"sampler": "euler"}, "unknown sampler"),
     ({"smoothing": -1.0}, "smoothing must be a number of frames >= 0")],
)
def test_generate_fn_refuses_bad_sampling_settings_before_generating(tiny_pipeline_dir, options, message):
    with pytest.raises(ValueError, match=message):
        load_generate_fn(tiny_pipeline_dir, **options)
