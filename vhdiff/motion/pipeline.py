"""Text-to-motion: `MotionPipeline` = text encoder + MotionTransformer + diffusion + stats.

    from vhdiff.motion.pipeline import MotionPipeline
    pipe = MotionPipeline.from_pretrained()            # the bundled default model, offline
    motions = pipe(["a person walks forward and waves"], seconds=6.0, seed=0)
    motions[0].smpl.save("walk.npz")                   # SMPL parameters, no optimisation step
    pipe.generation                                    # MotionGeneration: every call's defaults

`MotionPipeline` is a `vhdiff.pipelines.Pipeline` (folder format, from_pretrained /
save_pretrained / from_run, GenerationConfig). Its folder adds::

    DIR/feature_stats.npz      the normalisation of the features the model was trained on
    DIR/captions.safetensors   optional: the training captions' text embeddings, for prompt
                               snapping (vhdiff.text.snapping); pipeline.json's
                               "prompt_snapping" holds the index's k and temperature

and pipeline.json keys "representation", "fps" and "text_encoder". `MotionPipeline.from_run
(RUN_DIR)` builds one from a `vhdiff train` run and `vhdiff motion-export RUN_DIR OUT`
writes that as a folder. Folders written before the shared base (format 1: "smoothing",
"guidance_interval", "prompt_snapping" at the top level) still load, with the settings
they were generated with then (DDIM 50 on the trailing grid, guidance 2.5).

Generation samples normalised features [B, T, D] (the model contract: padding frames are
masked), denormalises them and maps them to a motion through the representation object
(`vhdiff.motion.representation`): SMPL parameters directly for the SMPL features (betas
zero, the neutral body), joints for HumanML3D's. Editing (:meth:`MotionPipeline.edit`)
keeps part of a motion and regenerates the rest with the core's inpainting.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from torch import Tensor

from vhdiff.backbones import MotionTransformer
from vhdiff.body.smpl_motion import SMPLMotion
from vhdiff.motion.representation import STATS_FILE, MotionRepresentation, get_representation
from vhdiff.motion.representation.stats import FeatureStats
from vhdiff.pipelines import GenerationConfig, Pipeline, make_generator
from vhdiff.pipelines.generation import check_number
from vhdiff.text.snapping import (
    CAPTIONS_FILE,
    DEFAULT_SNAPPING,
    CaptionIndex,
    PromptMatch,
    SnapSettings,
)

__all__ = ["Motion", "MotionGeneration", "MotionPipeline", "bundled_model_dir", "load_generate_fn"]

MAX_SECONDS = 600.0  # a length beyond any model's; the model's own max_len is checked too


def bundled_model_dir() -> Path:
    """The default model shipped inside the package (vhdiff/assets/motion_default)."""
    return Path(__file__).resolve().parents[1] / "assets" / "motion_default"


@dataclass(frozen=True)
class MotionGeneration(GenerationConfig):
    """The motion pipeline's generation settings: GenerationConfig's plus

    seconds: default motion length (bounded by the model's max_len at call time).
    snap: prompt-snapping strength, 0 (the raw prompt) to 1 (vhdiff.text.snapping); used
        only when the pipeline has a caption index.
    smoothing: Gaussian low-pass over time, in frames, against jitter (0 = raw output;
        vhdiff.motion.postprocess.smoothing).
    foot_lock: hold planted feet still (vhdiff.motion.postprocess.foot_lock).
    edit_steps: RePaint steps of `MotionPipeline.edit` (it always samples DDPM).
    """

    # measured on the bundled model (docs/motion_quality.md, "Sampler and grid"): DPM-Solver++
    # at 10 steps on the trailing grid scores as DDIM 50 with a fifth of the model calls
    sampler: str = "dpm++"
    steps: int | None = 10
    timestep_spacing: str | None = "trailing"
    seconds: float = 6.0
    snap: float = 0.5
    smoothing: float = 0.7
    foot_lock: bool = False
    edit_steps: int = 50

    def __post_init__(self) -> None:
        super().__post_init__()
        from vhdiff.motion.postprocess.smoothing import check_sigma

        object.__setattr__(self, "seconds", check_number(
            "seconds", self.seconds, lo=1e-3, hi=MAX_SECONDS, hint="the motion's length",
        ))
        object.__setattr__(self, "snap", check_number("snap", self.snap, lo=0.0, hi=1.0, hint="0 = off"))
        object.__setattr__(self, "smoothing", check_sigma(self.smoothing, name="smoothing"))
        if not isinstance(self.foot_lock, bool):
            raise ValueError(f"foot_lock must be true or false; got {self.foot_lock!r}")  # noqa: TRY004
        object.__setattr__(self, "edit_steps", check_number(
            "edit_steps", self.edit_steps, lo=1, hi=100_000, integer=True,
        ))

    def check_for(self, num_timesteps: int) -> None:
        super().check_for(num_timesteps)
        if self.edit_steps > num_timesteps:
            raise ValueError(
                f"edit_steps must be in [1, {num_timesteps}] (the model's training timesteps); "
                f"got {self.edit_steps}"
            )


# Folders written before the shared base generated with these (the call defaults then).
LEGACY_GENERATION = {"sampler": "ddim", "steps": 50, "timestep_spacing": "trailing", "guidance": 2.5}


@dataclass
class Motion:
    """One generated motion.

    smpl: SMPL parameters (global_orient [T, 3], body_pose [T, 21, 3], transl [T, 3], betas,
        fps) - None for the HumanML3D representation, which holds joints only.
    features: denormalised features [T, D] as the model produced them (after clean-up).
    joints: [T, 22, 3] joint positions (metres, Y up), neutral skeleton.
    prompt: the text it was generated from; seed: the generator seed of its batch.
    prompt_match: how close the prompt came to the model's training captions
        (vhdiff.text.snapping.PromptMatch: nearest captions, cosine, and `far` when the model
        has likely never seen anything like it); None for a model without a caption index.
    """

    smpl: SMPLMotion | None
    features: np.ndarray
    joints: np.ndarray
    prompt: str
    seed: int
    prompt_match: PromptMatch | None = None

    @property
    def num_frames(self) -> int:
        return int(self.features.shape[0])


def _check_prompts(prompts: Any) -> list[str]:
    if isinstance(prompts, str):
        prompts = [prompts]
    if not isinstance(prompts, (list, tuple)) or not prompts:
        raise ValueError("prompts must be a non-empty string or list of strings")
    out = []
    for i, p in enumerate(prompts):
        if not isinstance(p, str):
            raise ValueError(f"prompt {i} is a {type(p).__name__}, not a string")  # noqa: TRY004
        if not p.strip():
            raise ValueError(
                f"prompt {i} is empty; describe the motion, e.g. 'a person walks forward' "
                "(use guidance 0 for an unconditional sample)"
            )
        out.append(p.strip())
    return out


class MotionPipeline(Pipeline):
    """Generates SMPL motion from text. Build with `from_pretrained` / `from_run`.

    Args (keyword-only), beyond `Pipeline`'s (model, diffusion, generation, device, info):
        stats: FeatureStats of the training features.
        text_encoder: {"name": ..., "params": {...}} for vhdiff.text.load_text_encoder, or None.
        representation: "smpl" (140/136-dim SMPL-parameter features), "humanml3d" (263), or a
            `vhdiff.motion.representation.MotionRepresentation`.
        fps: frame rate of the features.
        caption_index: the training captions' embeddings (vhdiff.text.snapping), or None;
            with it, prompts are pulled towards the nearest training captions by
            `generation.snap` (k and temperature from `snap_settings`).
    """

    pipeline_class: ClassVar[str] = "MotionPipeline"
    modality: ClassVar[str] = "motion"
    generation_class: ClassVar[type[GenerationConfig]] = MotionGeneration
    model_class: ClassVar[Any] = MotionTransformer
    run_model_names: ClassVar[tuple[str, ...]] = ("motion_transformer",)
    export_command: ClassVar[str] = "vhdiff motion-export"
    generation: MotionGeneration

    def __init__(
        self, *, model: torch.nn.Module, diffusion: Any, stats: FeatureStats,
        text_encoder: dict[str, Any] | None, representation: str | MotionRepresentation = "smpl",
        fps: float = 20.0, caption_index: CaptionIndex | None = None,
        snap_settings: SnapSettings | None = None, generation: MotionGeneration | None = None,
        device: str | torch.device = "cpu", info: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(model=model, diffusion=diffusion, generation=generation, device=device, info=info)
        dim = getattr(model, "input_dim", None) or model.config.get("input_dim")
        if stats.dim != dim:
            raise ValueError(f"feature stats have {stats.dim} dims but the model takes {dim}")
        self.representation = get_representation(representation, dim=dim)
        self.stats = stats
        self.text_encoder_spec = None if text_encoder is None else dict(text_encoder)
        self.fps = float(fps)
        self.caption_index = caption_index
        self.snap_settings = DEFAULT_SNAPPING if snap_settings is None else snap_settings

    # ------------------------------------------------------------------ properties
    @property
    def max_frames(self) -> int:
        return int(self.model.config.get("max_len", 196))

    @property
    def max_seconds(self) -> float:
        return self.max_frames / self.fps

    @property
    def feature_dim(self) -> int:
        return int(self.stats.dim)

    @property
    def snapping(self) -> SnapSettings:
        """The prompt-snapping settings in use (strength = generation.snap)."""
        return dataclasses.replace(self.snap_settings, strength=self.generation.snap)

    @snapping.setter
    def snapping(self, settings: SnapSettings) -> None:
        """`pipe.snapping = SnapSettings(strength=0)`: the same as replacing generation.snap
        (and the index's k / temperature)."""
        self.snap_settings = settings
        self.generation = self.generation.replace(snap=settings.strength)

    # ------------------------------------------------------------------ folders
    @classmethod
    def default_folder(cls) -> Path:
        return bundled_model_dir()

    @classmethod
    def generation_from_meta(cls, meta: dict[str, Any], *, source: str) -> GenerationConfig:
        if "generation" in meta:
            return super().generation_from_meta(meta, source=source)
        legacy = dict(LEGACY_GENERATION)  # format 1
        for key in ("smoothing", "guidance_interval"):
            if meta.get(key) is not None:
                legacy[key] = meta[key]
        if isinstance(meta.get("prompt_snapping"), dict) and "strength" in meta["prompt_snapping"]:
            legacy["snap"] = meta["prompt_snapping"]["strength"]
        return MotionGeneration.from_dict(legacy, source=source)

    @classmethod
    def _from_folder(cls, folder: Path, meta: dict[str, Any], **parts: Any) -> MotionPipeline:
        index = CaptionIndex.load(folder / CAPTIONS_FILE) if (folder / CAPTIONS_FILE).is_file() else None
        settings = meta.get("prompt_snapping")
        return cls(
            stats=FeatureStats.load(folder / STATS_FILE), text_encoder=meta.get("text_encoder"),
            representation=meta.get("representation", "smpl"), fps=meta.get("fps", 20.0),
            caption_index=index, snap_settings=SnapSettings(**settings) if settings else None, **parts,
        )

    def _save_extras(self, folder: Path, *, fp16: bool = False) -> dict[str, Any]:
        self.stats.save(folder / STATS_FILE)
        extra: dict[str, Any] = {
            "representation": self.representation.name, "fps": self.fps,
            "text_encoder": self.text_encoder_spec,
        }
        if self.caption_index is not None:
            self.caption_index.save(folder / CAPTIONS_FILE)
            extra["prompt_snapping"] = {
                "k": self.snap_settings.k, "temperature": self.snap_settings.temperature,
                "warn_below": self.snap_settings.warn_below,
            }
        return extra

    @classmethod
    def _from_run(cls, config: Any, *, captions: bool = True, **parts: Any) -> MotionPipeline:
        """captions: index the training split's captions for prompt snapping (needs the run's
        data folder, which the feature stats come from anyway)."""
        params = config.data.params
        representation = get_representation(params.get("representation", "smpl"))
        root = Path(params["root"])
        encoder = params.get("text_encoder")
        text_encoder = None if not encoder else {"name": encoder, "params": dict(params.get("text_encoder_params") or {})}
        index = None
        if captions and text_encoder is not None:
            index = training_caption_index(root, representation=representation, text_encoder=text_encoder)
        return cls(
            stats=representation.load_stats(root), text_encoder=text_encoder,
            representation=representation, fps=float(params.get("fps", 20.0)), caption_index=index,
            **parts,
        )

    # ------------------------------------------------------------------ generation
    def frames_for(self, seconds: float) -> int:
        """Frames of a `seconds`-long motion; a ValueError names the allowed range."""
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not np.isfinite(seconds) or seconds <= 0:
            raise ValueError(f"length must be a number of seconds > 0; got {seconds!r}")
        frames = round(seconds * self.fps)
        if frames > self.max_frames:
            raise ValueError(
                f"length {seconds:g} s is beyond this model's maximum of {self.max_seconds:g} s "
                f"({self.max_frames} frames at {self.fps:g} fps); ask for {self.max_seconds:g} s or less"
            )
        return max(frames, 1)

    def encode_text(self, prompts: list[str], *, snap: float | None = None) -> dict[str, Tensor]:
        """The model's text condition for prompts: {"text_emb": [B, C]} (empty if unconditional),
        snapped towards the training captions (strength `snap`, default generation.snap)
        when the pipeline has a caption index."""
        if self.text_encoder is None:
            return {}
        strength = self.generation.snap if snap is None else snap
        with torch.no_grad():
            emb = self.text_encoder.encode(prompts).to(self.device, torch.float32)
            if self.caption_index is not None:
                emb = self.caption_index.snap(emb, dataclasses.replace(self.snap_settings, strength=strength))
        return {"text_emb": emb}

    @property
    def prompt_warning(self) -> float:
        """The nearest-caption cosine below which a prompt counts as far from the training
        captions (PromptMatch.far)."""
        return self.snap_settings.warn_below

    def match_prompts(self, prompts: list[str]) -> list[PromptMatch | None]:
        """How close each prompt comes to the training captions (None each without a caption
        index): the nearest captions by the model's own text encoder, raw (unsnapped)."""
        if self.caption_index is None or self.text_encoder is None:
            return [None] * len(prompts)
        with torch.no_grad():
            emb = self.text_encoder.encode(list(prompts)).to(self.device, torch.float32)
        return list(self.caption_index.match(emb, list(prompts), warn_below=self.prompt_warning))

    def guided_model(self, config: GenerationConfig) -> Any:
        if self.text_encoder is None:
            return self.model
        return super().guided_model(config)

    def sample_features(
        self, prompts: list[str], frames: list[int], config: MotionGeneration | None = None, *,
        generator: torch.Generator | None = None, progress: bool = False,
    ) -> tuple[Tensor, Tensor]:
        """Normalised features [B, Tmax, D] and mask [B, Tmax] for prompts with lengths in
        frames, sampled with `config` (default: the pipeline's generation settings)."""
        config = self.generation if config is None else config
        B, T = len(prompts), max(frames)
        mask = torch.arange(T, device=self.device)[None] < torch.tensor(frames, device=self.device)[:, None]
        cond = self.encode_text(prompts, snap=config.snap)
        out = self.sample(
            (B, T, self.feature_dim), config, generator=generator, progress=progress, mask=mask, **cond,
        )
        return out.sample, mask

    def __call__(
        self, prompts: str | list[str], *, seconds: float | list[float] | None = None,
        num_per_prompt: int = 1, seed: int | None = None, batch_size: int = 64,
        progress: bool = False, **settings: Any,
    ) -> list[Motion]:
        """Motions for prompts (prompt-major order: every sample of prompt 0, then prompt 1, ...).

        seconds: one length for all, or one per prompt (each <= `max_seconds`; None: the
        generation default). settings: any `MotionGeneration` field for this call (sampler,
        steps, eta, timestep_spacing, guidance, guidance_interval ("all" or None-default),
        snap, smoothing, foot_lock); None or absent means the pipeline's default. smoothing
        is a Gaussian low-pass over time in frames (0 = raw); foot_lock holds the feet the
        model marks as planted still (root correction, then leg IK), which removes most foot
        sliding but makes walks cover less ground. Both need the SMPL representation.
        """
        prompts = _check_prompts(prompts)
        config = self.settings(**settings)
        if seconds is None:
            seconds = config.seconds
        lengths = [seconds] * len(prompts) if not isinstance(seconds, (list, tuple)) else list(seconds)
        if len(lengths) != len(prompts):
            raise ValueError(f"got {len(lengths)} lengths for {len(prompts)} prompts; give one or one each")
        frames = [self.frames_for(s) for s in lengths]
        check_number("num_per_prompt", num_per_prompt, lo=1, hi=10_000, integer=True)
        check_number("batch_size", batch_size, lo=1, hi=100_000, integer=True)
        seed, generator = make_generator(seed, self.device)
        unique = list(dict.fromkeys(prompts))
        matches = dict(zip(unique, self.match_prompts(unique), strict=True))
        jobs = [(p, f) for p, f in zip(prompts, frames, strict=True) for _ in range(num_per_prompt)]
        motions: list[Motion] = []
        for start in range(0, len(jobs), batch_size):
            chunk = jobs[start:start + batch_size]
            x, _ = self.sample_features(
                [p for p, _ in chunk], [f for _, f in chunk], config, generator=generator,
                progress=progress,
            )
            for row, (prompt, n) in enumerate(chunk):
                raw = self.denormalize(x[row, :n], smoothing=config.smoothing, foot_lock=config.foot_lock)
                motion = self.to_motion(raw, prompt=prompt, seed=seed)
                motion.prompt_match = matches[prompt]
                motions.append(motion)
        return motions

    def denormalize(
        self, features: Tensor, *, smoothing: float | None = 0.0, foot_lock: bool = False
    ) -> np.ndarray:
        """Raw features [T, D] (float64) of normalised ones [T, D] of one motion, optionally
        smoothed over time (`smoothing` frames; None = the pipeline's) and with planted feet
        held still, in that order. Representations without SMPL parameters are returned as
        they are."""
        raw = self.stats.denormalize(features.detach().float().cpu().numpy().astype(np.float64))
        if not self.representation.has_smpl:
            return raw
        sigma = self.generation.smoothing if smoothing is None else smoothing
        if sigma:
            from vhdiff.motion.postprocess.smoothing import smooth_features

            raw = smooth_features(raw, sigma=sigma).astype(np.float64)
        if foot_lock:
            from vhdiff.motion.postprocess.foot_lock import lock_feet

            raw = lock_feet(raw, fps=self.fps).astype(np.float64)
        return raw

    def renormalize(
        self, x: Tensor, frames: list[int], *, stats: FeatureStats | None = None,
        smoothing: float | None = 0.0, foot_lock: bool = False,
    ) -> Tensor:
        """Normalised features [B, T, D] -> the same motions cleaned up (`denormalize`) and
        normalised with `stats` (default: the pipeline's), zero after each of `frames`; CPU."""
        target = self.stats if stats is None else stats
        out = torch.zeros(x.shape)
        for row, n in enumerate(frames):
            raw = self.denormalize(x[row, :n], smoothing=smoothing, foot_lock=foot_lock)
            out[row, :n] = torch.as_tensor(target.normalize(raw), dtype=torch.float32)
        return out

    def to_motion(
        self, features: Tensor | np.ndarray, *, prompt: str, seed: int, start_heading: float = 0.0,
        start_xz: tuple[float, float] = (0.0, 0.0),
    ) -> Motion:
        """A Motion from normalised features [T, D] (a Tensor, denormalised here) or raw ones
        (a numpy array from `denormalize`)."""
        raw = features if isinstance(features, np.ndarray) else self.denormalize(features)
        smpl, joints = self.representation.to_motion(
            raw, fps=self.fps, start_heading=start_heading, start_xz=start_xz,
        )
        return Motion(smpl=smpl, features=raw.astype(np.float32), joints=joints, prompt=prompt, seed=seed)

    # ------------------------------------------------------------------ editing
    def edit(
        self, source: SMPLMotion, prompt: str, *, keep: str, steps: int | None = None,
        guidance: float | None = None, seed: int | None = None, num: int = 1,
        jump_length: int = 10, jump_n_sample: int = 1, progress: bool = False,
        reach_keyframes: bool = True, smoothing: float | None = None, snap: float | None = None,
    ) -> list[Motion]:
        """Keep part of `source` and regenerate the rest from `prompt` (RePaint inpainting).

        keep: "lower" / "upper" (body part: lower = root trajectory, hips, legs, feet and
        contacts), "first:K" / "last:K" (keyframes, in-betweening), or several joined by
        commas ("first:20,last:20"). Sampling is DDPM ancestral over `steps` respaced steps
        (None: generation.edit_steps); guidance, snap: None = the generation defaults.
        reach_keyframes: with last:K, project every denoising step's x0 estimate so that the
        generated frames bring the body to the kept end keyframes' world position and
        heading (vhdiff.motion.edit.end_keyframe_projection). False: plain RePaint, where
        the end keyframes keep their pose and height but stand wherever the new middle
        leads. Body-part edits and first:K alone are not affected.
        smoothing: as __call__'s, applied to the generated entries only (the kept ones stay
        the source's exactly); with last:K and reach_keyframes the root's planar and yaw
        velocities are left as generated, so the end keyframes are still reached exactly.
        """
        from vhdiff.diffusion import inpaint
        from vhdiff.motion.edit import end_keyframe_projection, known_feature_mask, parse_keep
        from vhdiff.motion.representation.smpl import ROOT_VELOCITY, YAW_VELOCITY, root_heading

        self.representation.require_smpl("editing")
        prompt = _check_prompts(prompt)[0]
        spec = parse_keep(keep)
        if not isinstance(source, SMPLMotion):
            raise ValueError(f"source must be an SMPLMotion (vhdiff.body.smpl_motion); got {type(source).__name__}")  # noqa: TRY004
        if abs(source.fps - self.fps) > 1e-6:
            raise ValueError(
                f"the motion to edit is at {source.fps:g} fps but the model works at {self.fps:g} fps; "
                "resample it first"
            )
        T = source.num_frames
        if T > self.max_frames:
            raise ValueError(
                f"the motion to edit has {T} frames, more than this model's {self.max_frames}; crop it"
            )
        check_number("num", num, lo=1, hi=10_000, integer=True)
        config = self.settings(edit_steps=steps, guidance=guidance, smoothing=smoothing, snap=snap)
        features = self.representation.from_smpl(source)
        x_known = torch.as_tensor(self.stats.normalize(features), dtype=torch.float32, device=self.device)
        known = known_feature_mask(spec, frames=T, dim=self.feature_dim).to(self.device)
        x_known = x_known[None].expand(num, -1, -1).contiguous()
        known = known[None].expand(num, -1, -1)
        seed, generator = make_generator(seed, self.device)
        project = None
        if reach_keyframes:
            project = end_keyframe_projection(x_known[0], spec, stats=self.stats, fps=self.fps)
        cond = self.encode_text([prompt] * num, snap=config.snap)
        with torch.no_grad():
            out = inpaint(
                self.diffusion, self.guided_model(config), x_known, known, steps=config.edit_steps,
                jump_length=jump_length, jump_n_sample=jump_n_sample, generator=generator,
                progress=progress, project_x0=project, **cond,
            )
        match = self.match_prompts([prompt])[0]
        heading = float(root_heading(source)[0])
        start = (float(source.transl[0, 0]), float(source.transl[0, 2]))
        free = known[0].cpu().numpy() < 0.5  # [T, D]: the generated entries, which get smoothed
        if spec.last and reach_keyframes:
            free[:, ROOT_VELOCITY] = free[:, YAW_VELOCITY] = False
        motions = []
        for row in range(num):
            raw = self.denormalize(out.sample[row])
            raw[free] = self.denormalize(out.sample[row], smoothing=config.smoothing)[free]
            m = self.to_motion(raw, prompt=prompt, seed=seed, start_heading=heading, start_xz=start)
            if m.smpl is not None:
                m.smpl = dataclasses.replace(m.smpl, betas=np.asarray(source.betas, dtype=np.float32))
            m.prompt_match = match
            motions.append(m)
        return motions


def training_caption_index(
    root: str | os.PathLike, *, representation: Any, text_encoder: dict[str, Any], split: str = "train",
) -> CaptionIndex:
    """The captions of a dataset split (default: train), embedded with the model's encoder
    through the dataset's cached table: what a model exported from a run snaps prompts to."""
    from vhdiff.motion.data import open_motion_dataset

    data = open_motion_dataset(root, split, representation=representation)
    texts = [c for item in data.captions for c in item]
    return CaptionIndex.from_texts(
        texts, folder=root, encoder=text_encoder["name"], encoder_params=text_encoder.get("params"),
    )


def load_generate_fn(
    checkpoint: str | os.PathLike | None, *, data: Any = None, stats: Any = None, fps: float = 20.0,
    device: str = "cpu", seed: int = 0, smoothing: float | None = 0.0, foot_lock: bool = False,
    **settings: Any,
):
    """The `vhdiff eval --checkpoint` generator: generate_fn(captions, lengths) -> Tensor[B, T, D].

    `checkpoint`: a pipeline folder, a training run, or None (the bundled model). The output is
    normalised with `stats` (the evaluated dataset's), zero after each length. smoothing /
    foot_lock: as MotionPipeline.__call__'s, but off by default (the model's raw output is
    scored; smoothing=None: the pipeline's default). settings: MotionGeneration fields
    (sampler, steps, guidance, ...; None / absent = the pipeline's defaults).
    """
    from vhdiff.pipelines import PIPELINE_FILE

    path = None if checkpoint is None else Path(checkpoint)
    if path is not None and not (path / PIPELINE_FILE).is_file():
        pipe = MotionPipeline.from_run(path, device=device)
    else:
        pipe = MotionPipeline.from_pretrained(path, device=device)
    if abs(pipe.fps - fps) > 1e-6:
        raise ValueError(f"the model works at {pipe.fps:g} fps but the dataset is at {fps:g} fps")
    config = pipe.settings(**settings)  # bad settings fail before any generation
    if smoothing is not None:
        from vhdiff.motion.postprocess.smoothing import check_sigma

        check_sigma(smoothing, name="smoothing")
    target = stats if stats is not None else pipe.stats
    _, generator = make_generator(seed, pipe.device)

    def generate_fn(captions: list[str], lengths: Any) -> Tensor:
        frames = [min(int(n), pipe.max_frames) for n in lengths]
        x, _ = pipe.sample_features(list(captions), frames, config, generator=generator)
        return pipe.renormalize(x, frames, stats=target, smoothing=smoothing, foot_lock=foot_lock)

    generate_fn.pipeline = pipe  # type: ignore[attr-defined]
    generate_fn.config = config  # type: ignore[attr-defined]
    return generate_fn
