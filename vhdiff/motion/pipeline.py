"""Text-to-motion: `MotionPipeline` = text encoder + MotionTransformer + diffusion + stats.

    from vhdiff.motion.pipeline import MotionPipeline
    pipe = MotionPipeline.from_pretrained()            # the bundled default model, offline
    motions = pipe(["a person walks forward and waves"], seconds=6.0, seed=0)
    motions[0].smpl.save("walk.npz")                   # SMPL parameters, no optimisation step

A pipeline folder (written by `save_pretrained`, read by `from_pretrained`)::

    DIR/pipeline.json       kind, representation, fps, text encoder, diffusion section, defaults
    DIR/model/config.json   the MotionTransformer's constructor config
    DIR/model/model.safetensors
    DIR/feature_stats.npz   the normalisation of the features the model was trained on
    DIR/captions.safetensors  optional: the training captions' text embeddings, for prompt
                            snapping (vhdiff.text.snapping; pipeline.json's
                            "prompt_snapping" holds its settings)

`MotionPipeline.from_run(RUN_DIR)` builds one from a `vhdiff train` run (its newest
checkpoint, EMA weights) and `vhdiff motion-export RUN_DIR OUT` writes that as a folder.

Generation samples normalised features [B, T, D] (the model contract: padding frames are
masked), denormalises them and maps them to SMPL parameters directly
(:func:`vhdiff.motion.representation.smpl.from_features`): global_orient, body_pose[21],
transl; betas are zero (the neutral body). Editing (:meth:`MotionPipeline.edit`) keeps part
of a motion and regenerates the rest with the core's inpainting; see vhdiff.motion.edit.
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from vhdiff.atomic_io import FolderKind
from vhdiff.body.smpl_motion import SMPLMotion

__all__ = ["PIPELINE_FILE", "PIPELINE_FOLDER", "Motion", "MotionPipeline", "bundled_model_dir", "load_generate_fn"]

PIPELINE_FILE = "pipeline.json"
# a folder save_pretrained wrote: it holds pipeline.json, written last (vhdiff.atomic_io's replace rule)
PIPELINE_FOLDER = FolderKind.with_file("pipeline folder", PIPELINE_FILE)
PIPELINE_CLASS = "MotionPipeline"
FORMAT = 1
STATS_FILE = "feature_stats.npz"
MODEL_DIR = "model"
SAMPLERS = ("ddim", "ddpm", "dpm++")
DEFAULTS = {"steps": 50, "sampler": "ddim", "guidance": 2.5}
SMOOTHING = 0.7  # frames: the default temporal smoothing of generated motion (vhdiff.motion.postprocess.smoothing)


def bundled_model_dir() -> Path:
    """The default model shipped inside the package (vhdiff/assets/motion_default)."""
    return Path(__file__).resolve().parents[1] / "assets" / "motion_default"


@dataclass
class Motion:
    """One generated motion.

    smpl: SMPL parameters (global_orient [T, 3], body_pose [T, 21, 3], transl [T, 3], betas,
        fps) - None for the HumanML3D representation, which holds joints only.
    features: denormalised features [T, D] as the model produced them.
    joints: [T, 22, 3] joint positions (metres, Y up), neutral skeleton.
    prompt: the text it was generated from; seed: the generator seed of its batch.
    """

    smpl: SMPLMotion | None
    features: np.ndarray
    joints: np.ndarray
    prompt: str
    seed: int

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


class MotionPipeline:
    """Generates SMPL motion from text. Build with `from_pretrained` / `from_run`.

    Args (keyword-only):
        model: the denoiser (a MotionTransformer) in eval mode.
        diffusion_section: the `vhdiff.config.DiffusionSection` fields (dict) it was trained with.
        stats: FeatureStats of the training features.
        text_encoder: {"name": ..., "params": {...}} for vhdiff.text.load_text_encoder, or None.
        representation: "smpl" (140/136-dim SMPL-parameter features) or "humanml3d" (263).
        fps: frame rate of the features.
        device: where the model runs.
        caption_index: the training captions' embeddings (vhdiff.text.snapping), or
            None; with it, prompts are pulled towards the nearest training captions by
            `snapping` (a SnapSettings; default strength 0.5). Set `pipe.snapping =
            SnapSettings(strength=0)` to give the model the raw prompt embeddings.
        smoothing: the default temporal smoothing of generated motion, in frames (0 = off;
            vhdiff.motion.postprocess.smoothing); saved in pipeline.json.
        guidance_interval: (t_min, t_max) training timesteps where classifier-free guidance
            acts (vhdiff.diffusion.ClassifierFreeGuidance), None = every step; saved in
            pipeline.json. Steps outside it run the conditional model alone (one forward).
    """

    def __init__(
        self, *, model: torch.nn.Module, diffusion_section: dict[str, Any], stats: Any,
        text_encoder: dict[str, Any] | None, representation: str = "smpl", fps: float = 20.0,
        device: str | torch.device = "cpu", info: dict[str, Any] | None = None,
        caption_index: Any = None, snapping: Any = None, smoothing: float = SMOOTHING,
        guidance_interval: tuple[int, int] | None = None,
    ) -> None:
        from vhdiff.config import DiffusionSection, build_diffusion
        from vhdiff.diffusion.guidance import check_guidance_interval
        from vhdiff.text.snapping import DEFAULT_SNAPPING

        self.device = torch.device(device)
        self.model = model.to(self.device).eval()
        self.diffusion_section = dict(diffusion_section)
        self.diffusion = build_diffusion(DiffusionSection(**self.diffusion_section))
        self.stats = stats
        self.text_encoder_spec = None if text_encoder is None else dict(text_encoder)
        self.representation = representation
        self.fps = float(fps)
        self.info = dict(info or {})
        self._text_encoder = None
        self.caption_index = caption_index
        self.snapping = DEFAULT_SNAPPING if snapping is None else snapping
        self.smoothing = _check_smoothing(smoothing)
        self.guidance_interval = check_guidance_interval(guidance_interval)
        dim = getattr(model, "input_dim", None) or model.config.get("input_dim")
        if stats.dim != dim:
            raise ValueError(f"feature stats have {stats.dim} dims but the model takes {dim}")

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
    def text_encoder(self):
        """The text encoder, loaded on first use (None for an unconditional model)."""
        if self._text_encoder is None and self.text_encoder_spec is not None:
            from vhdiff.text import load_text_encoder

            spec = self.text_encoder_spec
            self._text_encoder = load_text_encoder(spec["name"], device=self.device, **spec.get("params", {}))
        return self._text_encoder

    # ------------------------------------------------------------------ loading / saving
    @classmethod
    def from_pretrained(
        cls, path: str | os.PathLike | None = None, *, device: str | torch.device = "cpu",
    ) -> MotionPipeline:
        """Load a pipeline folder (None: the bundled default model)."""
        from vhdiff.backbones import MotionTransformer
        from vhdiff.motion.representation.smpl import FeatureStats
        from vhdiff.text.snapping import CAPTIONS_FILE, CaptionIndex, SnapSettings

        folder = bundled_model_dir() if path is None else Path(path)
        meta = read_pipeline_meta(folder)
        model = MotionTransformer.from_pretrained(folder / MODEL_DIR, dtype=torch.float32)
        index = CaptionIndex.load(folder / CAPTIONS_FILE) if (folder / CAPTIONS_FILE).is_file() else None
        return cls(
            model=model.float(), diffusion_section=meta["diffusion"],
            stats=FeatureStats.load(folder / STATS_FILE), text_encoder=meta.get("text_encoder"),
            representation=meta.get("representation", "smpl"), fps=meta.get("fps", 20.0),
            device=device, info=meta.get("info"), caption_index=index,
            snapping=SnapSettings(**meta["prompt_snapping"]) if meta.get("prompt_snapping") else None,
            smoothing=meta.get("smoothing", SMOOTHING), guidance_interval=meta.get("guidance_interval"),
        )

    def save_pretrained(self, directory: str | os.PathLike, *, fp16: bool = False) -> Path:
        """Write the pipeline folder (fp16 weights with `fp16=True`); atomic: the folder is
        written under a temporary name and renamed over `directory`, which may be missing,
        empty or an earlier pipeline folder (any other non-empty folder: FileExistsError)."""
        import copy

        from vhdiff.atomic_io import atomic_folder

        out = Path(directory)
        with atomic_folder(out, kind=PIPELINE_FOLDER, force=True) as tmp:
            model = copy.deepcopy(self.model).cpu()
            if fp16:
                model = model.half()
            model.save_pretrained(tmp / MODEL_DIR)
            self.stats.save(tmp / STATS_FILE)
            meta = {
                "_class": PIPELINE_CLASS, "_format": FORMAT, "representation": self.representation,
                "fps": self.fps, "text_encoder": self.text_encoder_spec,
                "diffusion": self.diffusion_section, "defaults": DEFAULTS, "info": self.info,
                "smoothing": self.smoothing,
            }
            if self.guidance_interval is not None:
                meta["guidance_interval"] = list(self.guidance_interval)
            if self.caption_index is not None:
                from vhdiff.text.snapping import CAPTIONS_FILE

                self.caption_index.save(tmp / CAPTIONS_FILE)
                meta["prompt_snapping"] = dataclasses.asdict(self.snapping)
            (tmp / PIPELINE_FILE).write_text(json.dumps(meta, indent=2) + "\n")
        return out

    @classmethod
    def from_run(
        cls, run: str | os.PathLike, *, device: str | torch.device = "cpu", ema: bool = True,
        captions: bool = True,
    ) -> MotionPipeline:
        """A pipeline from a `vhdiff train` run folder (newest checkpoint) or one step_* folder.

        captions: index the training split's captions for prompt snapping (needs the run's
        data folder, which the feature stats come from anyway).
        """
        import importlib

        from vhdiff.config import load_config
        from vhdiff.registry import build_model
        from vhdiff.training.checkpoint import latest_checkpoint, load_module_weights

        run = Path(run)
        step = run
        if not (run / "config.yaml").is_file():
            found = latest_checkpoint(run / "checkpoints")
            if found is None:
                raise FileNotFoundError(
                    f"{str(run)!r} is neither a checkpoint folder (with config.yaml) nor a run "
                    "folder with checkpoints/step_*; pass the --out folder of `vhdiff train`"
                )
            step = found.path
        cfg = load_config(step / "config.yaml")
        for module in cfg.imports:
            importlib.import_module(module)
        if cfg.model.name != "motion_transformer":
            raise ValueError(
                f"{str(step)!r} trained a {cfg.model.name!r} model, not a motion_transformer; "
                "it is not a text-to-motion run"
            )
        model = build_model(cfg.model.name, cfg.model.params)
        weights = step / "ema" if ema and (step / "ema").is_dir() else step / "model"
        load_module_weights(model, weights)
        params = cfg.data.params
        representation = params.get("representation", "smpl")
        stats = _dataset_stats(Path(params["root"]), representation)
        encoder = params.get("text_encoder")
        text_encoder = None if not encoder else {"name": encoder, "params": dict(params.get("text_encoder_params") or {})}
        info = {"run": str(step), "step": int(step.name.split("_")[-1]) if "_" in step.name else None,
                "weights": weights.name}
        if cfg.trainer.init_from:  # a fine-tune: where its starting weights came from
            info["init_from"] = str(cfg.trainer.init_from)
        index = None
        if captions and text_encoder is not None:
            from vhdiff.text.snapping import CaptionIndex

            index = CaptionIndex.from_dataset(
                params["root"], representation=representation, encoder=text_encoder["name"],
                encoder_params=text_encoder["params"],
            )
        return cls(
            model=model, diffusion_section=dataclasses.asdict(cfg.diffusion), stats=stats,
            text_encoder=text_encoder, representation=representation, fps=float(params.get("fps", 20.0)),
            device=device, info=info, caption_index=index,
        )

    # ------------------------------------------------------------------ generation
    def frames_for(self, seconds: float) -> int:
        """Frames of a `seconds`-long motion; a ValueError names the allowed range."""
        if not isinstance(seconds, (int, float)) or not np.isfinite(seconds) or seconds <= 0:
            raise ValueError(f"length must be a number of seconds > 0; got {seconds!r}")
        frames = round(seconds * self.fps)
        if frames > self.max_frames:
            raise ValueError(
                f"length {seconds:g} s is beyond this model's maximum of {self.max_seconds:g} s "
                f"({self.max_frames} frames at {self.fps:g} fps); ask for {self.max_seconds:g} s or less"
            )
        return max(frames, 1)

    def encode_text(self, prompts: list[str]) -> dict[str, Tensor]:
        """The model's text condition for prompts: {"text_emb": [B, C]} (empty if unconditional),
        snapped towards the training captions when the pipeline has a caption index."""
        if self.text_encoder is None:
            return {}
        with torch.no_grad():
            emb = self.text_encoder.encode(prompts).to(self.device, torch.float32)
            if self.caption_index is not None:
                emb = self.caption_index.snap(emb, self.snapping)
        return {"text_emb": emb}

    def _check_sampling(self, steps: int, sampler: str, guidance: float) -> None:
        if sampler not in SAMPLERS:
            raise ValueError(f"unknown sampler {sampler!r}; choose one of {', '.join(SAMPLERS)}")
        if not isinstance(steps, int) or not 1 <= steps <= self.diffusion.num_timesteps:
            raise ValueError(
                f"steps must be an integer in [1, {self.diffusion.num_timesteps}]; got {steps!r}"
            )
        if not isinstance(guidance, (int, float)) or not np.isfinite(guidance) or guidance < 0:
            raise ValueError(
                f"guidance must be a number >= 0 (0 = unconditional, 1 = no guidance); got {guidance!r}"
            )

    def guided_model(self, guidance: float):
        from vhdiff.diffusion import ClassifierFreeGuidance

        if self.text_encoder is None or guidance == 1.0:
            return self.model
        return ClassifierFreeGuidance(self.model, guidance, interval=self.guidance_interval)

    def sample_features(
        self, prompts: list[str], frames: list[int], *, steps: int = 50, sampler: str = "ddim",
        guidance: float = 2.5, generator: torch.Generator | None = None, progress: bool = False,
    ) -> tuple[Tensor, Tensor]:
        """Normalised features [B, Tmax, D] and mask [B, Tmax] for prompts with lengths in frames."""
        self._check_sampling(steps, sampler, guidance)
        B, T = len(prompts), max(frames)
        mask = torch.arange(T, device=self.device)[None] < torch.tensor(frames, device=self.device)[:, None]
        cond = self.encode_text(prompts)
        with torch.no_grad():
            out = self.diffusion.sample(
                self.guided_model(guidance), (B, T, self.feature_dim), sampler=sampler, steps=steps,
                generator=generator, device=self.device, progress=progress, mask=mask, **cond,
            )
        return out.sample, mask

    def __call__(
        self, prompts: str | list[str], *, seconds: float | list[float] = 6.0, num_per_prompt: int = 1,
        steps: int = 50, sampler: str = "ddim", guidance: float = 2.5, seed: int | None = None,
        batch_size: int = 64, progress: bool = False, smoothing: float | None = None,
        foot_lock: bool = False,
    ) -> list[Motion]:
        """Motions for prompts (prompt-major order: every sample of prompt 0, then prompt 1, ...).

        seconds: one length for all, or one per prompt (each <= `max_seconds`).
        smoothing: Gaussian low-pass over time, in frames, against jitter (None: the
        pipeline's `smoothing`, 0.7 unless its pipeline.json says otherwise; 0 = raw output;
        vhdiff.motion.postprocess.smoothing). foot_lock: hold the feet the model marks as planted still
        by correcting the root's planar velocity, then by leg IK for what that cannot hold
        (vhdiff.motion.postprocess.foot_lock); it removes most foot sliding but walks then cover less
        ground. Both: SMPL-parameter models only.
        """
        prompts = _check_prompts(prompts)
        lengths = [seconds] * len(prompts) if not isinstance(seconds, (list, tuple)) else list(seconds)
        if len(lengths) != len(prompts):
            raise ValueError(f"got {len(lengths)} lengths for {len(prompts)} prompts; give one or one each")
        frames = [self.frames_for(s) for s in lengths]
        if not isinstance(num_per_prompt, int) or num_per_prompt < 1:
            raise ValueError(f"num_per_prompt must be an integer >= 1; got {num_per_prompt!r}")
        self._check_sampling(steps, sampler, guidance)
        if smoothing is not None:
            _check_smoothing(smoothing)
        seed = int(torch.randint(0, 2**31 - 1, ()).item()) if seed is None else int(seed)
        generator = torch.Generator(device=self.device).manual_seed(seed)
        jobs = [(p, f) for p, f in zip(prompts, frames, strict=True) for _ in range(num_per_prompt)]
        motions: list[Motion] = []
        for start in range(0, len(jobs), batch_size):
            chunk = jobs[start:start + batch_size]
            x, _ = self.sample_features(
                [p for p, _ in chunk], [f for _, f in chunk], steps=steps, sampler=sampler,
                guidance=guidance, generator=generator, progress=progress,
            )
            for row, (prompt, n) in enumerate(chunk):
                raw = self.denormalize(x[row, :n], smoothing=smoothing, foot_lock=foot_lock)
                motions.append(self.to_motion(raw, prompt=prompt, seed=seed))
        return motions

    def denormalize(
        self, features: Tensor, *, smoothing: float | None = 0.0, foot_lock: bool = False
    ) -> np.ndarray:
        """Raw features [T, D] (float64) of normalised ones [T, D] of one motion, optionally
        smoothed over time (`smoothing` frames; None = the pipeline's) and with planted feet
        held still, in that order. HumanML3D features are returned as they are."""
        raw = self.stats.denormalize(features.detach().float().cpu().numpy().astype(np.float64))
        if self.representation != "smpl":
            return raw
        sigma = self.smoothing if smoothing is None else smoothing
        if sigma:
            from vhdiff.motion.postprocess.smoothing import smooth_features

            raw = smooth_features(raw, sigma=sigma).astype(np.float64)
        if foot_lock:
            from vhdiff.motion.postprocess.foot_lock import lock_feet

            raw = lock_feet(raw, fps=self.fps).astype(np.float64)
        return raw

    def renormalize(
        self, x: Tensor, frames: list[int], *, stats: Any = None, smoothing: float | None = 0.0,
        foot_lock: bool = False,
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
        if self.representation == "humanml3d":
            from vhdiff.motion.representation.humanml3d import recover_from_ric

            joints = np.asarray(recover_from_ric(raw), dtype=np.float32)
            return Motion(smpl=None, features=raw.astype(np.float32), joints=joints, prompt=prompt, seed=seed)
        from vhdiff.motion.representation.smpl import from_features, joints_from_motion

        smpl = from_features(raw, fps=self.fps, start_heading=start_heading, start_xz=start_xz)
        joints = joints_from_motion(smpl).astype(np.float32)
        return Motion(smpl=smpl, features=raw.astype(np.float32), joints=joints, prompt=prompt, seed=seed)

    # ------------------------------------------------------------------ editing
    def edit(
        self, source: SMPLMotion, prompt: str, *, keep: str, steps: int = 50, guidance: float = 2.5,
        seed: int | None = None, num: int = 1, jump_length: int = 10, jump_n_sample: int = 1,
        progress: bool = False, reach_keyframes: bool = True, smoothing: float | None = None,
    ) -> list[Motion]:
        """Keep part of `source` and regenerate the rest from `prompt` (RePaint inpainting).

        keep: "lower" / "upper" (body part: lower = root trajectory, hips, legs, feet and
        contacts), "first:K" / "last:K" (keyframes, in-betweening), or several joined by
        commas ("first:20,last:20"). Sampling is DDPM ancestral over `steps` respaced steps.
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
        from vhdiff.motion.representation.smpl import (
            ROOT_VELOCITY,
            YAW_VELOCITY,
            root_heading,
            to_features,
        )

        if self.representation != "smpl":
            raise ValueError("editing needs the SMPL-parameter representation (this pipeline is HumanML3D)")
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
        if not isinstance(num, int) or num < 1:
            raise ValueError(f"num must be an integer >= 1; got {num!r}")
        self._check_sampling(steps, "ddpm", guidance)
        if smoothing is not None:
            _check_smoothing(smoothing)
        features = to_features(source, contacts=self.feature_dim == 140)
        x_known = torch.as_tensor(self.stats.normalize(features), dtype=torch.float32, device=self.device)
        known = known_feature_mask(spec, frames=T, dim=self.feature_dim).to(self.device)
        x_known = x_known[None].expand(num, -1, -1).contiguous()
        known = known[None].expand(num, -1, -1)
        seed = int(torch.randint(0, 2**31 - 1, ()).item()) if seed is None else int(seed)
        generator = torch.Generator(device=self.device).manual_seed(seed)
        project = None
        if reach_keyframes:
            project = end_keyframe_projection(x_known[0], spec, stats=self.stats, fps=self.fps)
        cond = self.encode_text([prompt] * num)
        with torch.no_grad():
            out = inpaint(
                self.diffusion, self.guided_model(guidance), x_known, known, steps=steps,
                jump_length=jump_length, jump_n_sample=jump_n_sample, generator=generator,
                progress=progress, project_x0=project, **cond,
            )
        heading = float(root_heading(source)[0])
        start = (float(source.transl[0, 0]), float(source.transl[0, 2]))
        free = known[0].cpu().numpy() < 0.5  # [T, D]: the generated entries, which get smoothed
        if spec.last and reach_keyframes:
            free[:, ROOT_VELOCITY] = free[:, YAW_VELOCITY] = False
        motions = []
        for row in range(num):
            raw = self.denormalize(out.sample[row])
            raw[free] = self.denormalize(out.sample[row], smoothing=smoothing)[free]
            m = self.to_motion(raw, prompt=prompt, seed=seed, start_heading=heading, start_xz=start)
            if m.smpl is not None:
                m.smpl = dataclasses.replace(m.smpl, betas=np.asarray(source.betas, dtype=np.float32))
            motions.append(m)
        return motions


def _check_smoothing(sigma: Any) -> float:
    from vhdiff.motion.postprocess.smoothing import check_sigma

    return check_sigma(sigma, name="smoothing")


def read_pipeline_meta(folder: Path) -> dict[str, Any]:
    """pipeline.json of a pipeline folder, checked; errors say what the folder is instead."""
    if not folder.is_dir():
        if folder == bundled_model_dir():
            raise FileNotFoundError(
                f"the bundled motion model is missing from {folder}; reinstall vhdiff or pass "
                "--checkpoint DIR (a folder written by `vhdiff motion-export`)"
            )
        raise FileNotFoundError(f"no motion model folder at {str(folder)!r}")
    path = folder / PIPELINE_FILE
    if not path.is_file():
        hint = ""
        if (folder / "checkpoints").is_dir() or (folder / "config.yaml").is_file():
            hint = f"; it looks like a training run: export it with `vhdiff motion-export {folder} OUT`"
        elif (folder / "config.json").is_file():
            hint = "; it holds a single model (config.json), not a text-to-motion pipeline"
        raise ValueError(f"{str(folder)!r} is not a motion pipeline folder (no {PIPELINE_FILE}){hint}")
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{str(path)!r} is not valid JSON ({exc}); the folder is damaged") from None
    if not isinstance(meta, dict) or meta.get("_class") != PIPELINE_CLASS:
        kind = meta.get("_class") if isinstance(meta, dict) else type(meta).__name__
        raise ValueError(
            f"{str(path)!r} describes a {kind!r}, not a {PIPELINE_CLASS} (another modality?); "
            "pass a text-to-motion model folder"
        )
    if meta.get("_format", FORMAT) > FORMAT:
        raise ValueError(f"{str(path)!r} was written by a newer vhdiff (format {meta['_format']}); upgrade vhdiff")
    return meta


def _dataset_stats(root: Path, representation: str):
    if representation == "humanml3d":
        from vhdiff.motion.representation.humanml3d import load_feature_stats

        return load_feature_stats(root)
    from vhdiff.motion.representation.smpl import FeatureStats

    return FeatureStats.load(root / STATS_FILE)


def load_generate_fn(
    checkpoint: str | os.PathLike | None, *, data: Any = None, stats: Any = None, fps: float = 20.0,
    device: str = "cpu", seed: int = 0, steps: int = 50, sampler: str = "ddim", guidance: float = 2.5,
    smoothing: float | None = 0.0, foot_lock: bool = False,
):
    """The `vhdiff eval --checkpoint` generator: generate_fn(captions, lengths) -> Tensor[B, T, D].

    `checkpoint`: a pipeline folder, a training run, or None (the bundled model). The output is
    normalised with `stats` (the evaluated dataset's), zero after each length. smoothing /
    foot_lock: as MotionPipeline.__call__'s, but off by default (the model's raw output is
    scored; smoothing=None: the pipeline's default).
    """
    path = None if checkpoint is None else Path(checkpoint)
    if path is not None and not (path / PIPELINE_FILE).is_file():
        pipe = MotionPipeline.from_run(path, device=device)
    else:
        pipe = MotionPipeline.from_pretrained(path, device=device)
    if abs(pipe.fps - fps) > 1e-6:
        raise ValueError(f"the model works at {pipe.fps:g} fps but the dataset is at {fps:g} fps")
    pipe._check_sampling(steps, sampler, guidance)  # bad settings fail before any generation
    if smoothing is not None:
        _check_smoothing(smoothing)
    target = stats if stats is not None else pipe.stats
    generator = torch.Generator(device=pipe.device).manual_seed(seed)

    def generate_fn(captions: list[str], lengths: Any) -> Tensor:
        frames = [min(int(n), pipe.max_frames) for n in lengths]
        x, _ = pipe.sample_features(
            list(captions), frames, steps=steps, sampler=sampler, guidance=guidance, generator=generator,
        )
        return pipe.renormalize(x, frames, stats=target, smoothing=smoothing, foot_lock=foot_lock)

    generate_fn.pipeline = pipe  # type: ignore[attr-defined]
    return generate_fn
