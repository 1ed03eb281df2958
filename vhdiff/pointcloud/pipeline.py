"""Human point clouds: `PointCloudPipeline` = PointNetDenoiser + diffusion + normalization.

    from vhdiff.pointcloud.pipeline import PointCloudPipeline
    pipe = PointCloudPipeline.from_pretrained()          # the bundled model, offline
    clouds = pipe(num=16, seed=0)                         # PointClouds: points [16, 2048, 3], metres
    clouds = pipe(num=4, prompt="a person squats")        # a text-conditional model
    clouds = pipe(num=4, pose=load_pose("walk.npz:40"))   # a pose-conditional model
    write_ply("cloud.ply", clouds.points[0])              # vhdiff.pointcloud.files

`PointCloudPipeline` is a `vhdiff.pipelines.Pipeline` (folder format, from_pretrained /
save_pretrained / from_run, GenerationConfig). Its pipeline.json adds "normalization" (the
training set's, vhdiff.pointcloud.normalization: samples are mapped back to metres with it),
"condition" ("none", "text" or "pose") and "text_encoder". A conditional model trained with
condition dropout also samples unconditionally: no prompt / pose gives the null condition.
`vhdiff pointcloud-export RUN_DIR OUT` writes a run's pipeline folder.

Any point count: the denoiser is permutation-equivariant with a symmetric pool, so a model
trained on 1024-point subsets samples 2048 (or any other number of) points.

Two kinds of folder. A one-stage model: model/ is a `PointNetDenoiser` over the points
(conditioned on text or pose). A two-stage model (the bundled one): model/ is a
`PointCloudAutoencoder` (a shape code z -> the points) and prior/ a `LatentPrior` (a diffusion
over the codes, conditioned on text where the model takes text); a call first samples codes,
then each code's points. `pipe.encode(clouds)` / `pipe.decode(codes)` expose the two halves
(reconstruction, interpolation). An autoencoder folder without a prior encodes and decodes
but does not generate.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch

from vhdiff.backbones import PointCloudAutoencoder, PointNetDenoiser
from vhdiff.backbones.pretrained import CONFIG_NAME
from vhdiff.diffusion.samplers import resolve_sampler
from vhdiff.pipelines import GenerationConfig, Pipeline, make_generator
from vhdiff.pipelines.base import run_text_encoder
from vhdiff.pipelines.generation import check_number
from vhdiff.pointcloud.data import check_condition
from vhdiff.pointcloud.latent_prior import LatentPrior, code_statistics, encode_clouds
from vhdiff.pointcloud.normalization import Normalization
from vhdiff.pointcloud.pose import POSE_DIM, pose_vector

__all__ = ["MAX_CLOUDS", "MAX_POINTS", "PointCloudGeneration", "PointCloudPipeline", "PointClouds", "bundled_model_dir"]

MAX_POINTS = 200_000  # points per cloud at sampling time; more is a typo
MAX_CLOUDS = 10_000  # clouds per call
CONDITION_KEYS = {"text": "text_emb", "pose": "pose"}  # the model keyword of each condition
# the prior's grid: eps prediction on the cosine schedule from t = T-1 (DDIM's default trailing
# grid) divides the first code estimate by sqrt(alpha_bar_{T-1}) ~ 0.006; measured: codes
# far off and clouds thrown 4e4 units away (MMD-CD); the leading grid starts lower
PRIOR_SPACING = "leading"
POINT_MODELS = {cls.__name__: cls for cls in (PointNetDenoiser, PointCloudAutoencoder)}  # what model/ may hold


def bundled_model_dir() -> Path:
    """The default model shipped inside the package (vhdiff/assets/pointcloud_default)."""
    return Path(__file__).resolve().parents[1] / "assets" / "pointcloud_default"


@dataclass(frozen=True)
class PointCloudGeneration(GenerationConfig):
    """The point-cloud pipeline's generation settings: GenerationConfig's plus

    points: points per cloud (any count: the model is a set function).
    prior_sampler / prior_steps: how a two-stage model samples its shape codes (the
        sampler and steps above then drive the points; guidance acts on the prior, where
        the text condition is).
    """

    # eps prediction on the cosine schedule: a grid that starts at t = T-1 (trailing) divides
    # the first x_0 estimate by sqrt(alpha_bar_{T-1}) ~ 0.006 and throws points hundreds of
    # scales away (measured on the bundled model, docs/pointclouds.md); leading starts lower
    sampler: str = "dpm++"
    steps: int | None = 20
    timestep_spacing: str | None = "leading"
    guidance: float = 1.0
    points: int = 2048
    prior_sampler: str = "ddim"
    prior_steps: int | None = 50

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "prior_sampler", resolve_sampler(self.prior_sampler))
        if self.prior_steps is not None:
            object.__setattr__(self, "prior_steps", check_number(
                "prior_steps", self.prior_steps, lo=1, hi=100_000, integer=True, hint="the shape-code sampler's steps",
            ))
        object.__setattr__(self, "points", check_number(
            "points", self.points, lo=1, hi=MAX_POINTS, integer=True, hint="points per cloud",
        ))


@dataclass
class PointClouds:
    """Generated clouds.

    points: float32 [K, P, 3], metres, Y up.
    seed: the generator seed; prompt / pose: the condition (None: unconditional).
    intermediates: training timestep -> float32 [K, P, 3] x_t in metres (x_T first), when asked.
    pred_x0: the same timesteps -> the model's x_0 estimate there, metres.
    """

    points: np.ndarray
    seed: int
    prompt: str | None = None
    pose: np.ndarray | None = None
    intermediates: dict[int, np.ndarray] = field(default_factory=dict)
    pred_x0: dict[int, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.points)


class PointCloudPipeline(Pipeline):
    """Samples human point clouds. Build with `from_pretrained` / `from_run`.

    Args (keyword-only), beyond `Pipeline`'s (model, diffusion, generation, device, info):
        normalization: the training set's Normalization (samples are undone with it).
        condition: "none", "text" or "pose" (what the model was trained on; of a two-stage
            model, what its prior takes).
        text_encoder: {"name": ..., "params": {...}} for condition "text" (vhdiff.text).
        prior: the LatentPrior of a two-stage model (model is then a PointCloudAutoencoder).
    """

    pipeline_class: ClassVar[str] = "PointCloudPipeline"
    modality: ClassVar[str] = "pointcloud"
    generation_class: ClassVar[type[GenerationConfig]] = PointCloudGeneration
    model_class: ClassVar[Any] = PointNetDenoiser
    run_model_names: ClassVar[tuple[str, ...]] = ("pointnet", "point_autoencoder", "latent_mlp")
    export_command: ClassVar[str] = "vhdiff pointcloud-export"
    generation: PointCloudGeneration

    def __init__(
        self, *, model: torch.nn.Module, diffusion: Any, normalization: Normalization,
        condition: str = "none", text_encoder: dict[str, Any] | None = None,
        generation: PointCloudGeneration | None = None, device: str | torch.device = "cpu",
        info: dict[str, Any] | None = None, prior: LatentPrior | None = None,
    ) -> None:
        super().__init__(model=model, diffusion=diffusion, generation=generation, device=device, info=info)
        self.condition = check_condition(condition)
        self.prior = None if prior is None else prior.to(self.device)
        if prior is not None and not isinstance(model, PointCloudAutoencoder):
            raise ValueError("a latent prior needs a PointCloudAutoencoder as the model (it decodes the codes)")
        if prior is not None and prior.model.latent_dim != model.latent_dim:
            raise ValueError(
                f"the latent prior makes codes of width {prior.model.latent_dim}, the autoencoder "
                f"takes {model.latent_dim}; pair a prior with the autoencoder it was trained on"
            )
        if condition == "pose" and isinstance(model, PointCloudAutoencoder):
            raise ValueError("a two-stage point-cloud model takes no pose condition; use a pose-conditional PointNetDenoiser")
        conditioned = model.config if prior is None else prior.model.config
        width = {"text": conditioned.get("cond_dim"), "pose": conditioned.get("pose_dim")}.get(condition)
        if condition != "none" and width is None:
            raise ValueError(f"condition {condition!r} needs a model built with its width ({CONDITION_KEYS[condition]})")
        if condition == "pose" and width != POSE_DIM:
            raise ValueError(f"a pose-conditional model takes pose_dim={POSE_DIM}; this one has {width}")
        if condition == "text" and text_encoder is None:
            raise ValueError("a text-conditional pipeline needs its text_encoder ({'name': ..., 'params': {...}})")
        self.normalization = normalization
        self.text_encoder_spec = None if text_encoder is None else dict(text_encoder)

    # ------------------------------------------------------------------ folders
    @classmethod
    def default_folder(cls) -> Path:
        return bundled_model_dir()

    @classmethod
    def _load_model(cls, folder: Path) -> torch.nn.Module:
        try:
            name = json.loads((folder / CONFIG_NAME).read_text(encoding="utf-8")).get("_class")
        except (OSError, ValueError, AttributeError):
            name = None  # from_pretrained below names the damage
        return POINT_MODELS.get(name, PointNetDenoiser).from_pretrained(folder, dtype=torch.float32)

    @classmethod
    def _from_folder(cls, folder: Path, meta: dict[str, Any], **parts: Any) -> PointCloudPipeline:
        source = f"{str(folder)!r} pipeline.json \"normalization\""
        prior = None if meta.get("prior") is None else LatentPrior.load(folder, meta["prior"])
        return cls(
            normalization=Normalization.from_dict(meta.get("normalization"), source=source),
            condition=meta.get("condition", "none"), text_encoder=meta.get("text_encoder"), prior=prior, **parts,
        )

    def _save_extras(self, folder: Path, *, fp16: bool = False) -> dict[str, Any]:
        extras = {
            "normalization": self.normalization.to_dict(), "condition": self.condition,
            "text_encoder": self.text_encoder_spec,
        }
        if self.prior is not None:
            extras["prior"] = self.prior.save(folder, fp16=fp16)
        return extras

    @classmethod
    def _from_run(cls, config: Any, **parts: Any) -> PointCloudPipeline:
        from vhdiff.pointcloud.data import set_normalization
        from vhdiff.pointcloud.normalization import DEFAULT_NORMALIZATION

        params = config.data.params
        condition = params.get("condition", "none")
        if config.model.name == "latent_mlp":  # a prior's run: join it to its autoencoder
            return cls._from_prior_run(config, **parts)
        text_encoder = run_text_encoder(params, condition)
        if condition == "shape":  # an autoencoder's run: it encodes, but nothing samples codes yet
            condition = "none"
        normalization = set_normalization(params["root"], params.get("normalization", DEFAULT_NORMALIZATION))
        return cls(normalization=normalization, condition=condition, text_encoder=text_encoder, **parts)

    @classmethod
    def _from_prior_run(cls, config: Any, *, model: torch.nn.Module, diffusion: Any, device: Any = "cpu",
                        info: dict[str, Any] | None = None) -> PointCloudPipeline:
        """A latent prior's run + the autoencoder its data section names -> a two-stage
        pipeline (the codes' statistics are recomputed from the train split, exactly as the
        prior's training set made them)."""
        params = config.data.params
        autoencoder = cls.load_autoencoder(params["autoencoder"])
        codes = encode_clouds(autoencoder.model, autoencoder.normalized_split(params["root"], "train"))
        mean, std = code_statistics(codes)
        condition = params.get("condition", "none")
        return cls(
            model=autoencoder.model, diffusion=autoencoder.diffusion, normalization=autoencoder.normalization,
            condition=condition, text_encoder=run_text_encoder(params, condition), device=device,
            info={**(info or {}), "autoencoder": autoencoder.info},
            prior=LatentPrior(model=model, diffusion=diffusion, mean=mean, std=std),
        )

    @classmethod
    def load_autoencoder(cls, path: str | Path) -> PointCloudPipeline:
        """The autoencoder pipeline at `path`: a pipeline folder, or a `vhdiff train
        configs/pointcloud_humans_ae.yaml` run (its newest checkpoint) or checkpoint."""
        path = Path(path)
        pipe = cls.from_pretrained(path) if (path / "pipeline.json").is_file() else cls.from_run(path)
        if not isinstance(pipe.model, PointCloudAutoencoder):
            raise ValueError(  # noqa: TRY004 - a user error about the folder, for the CLI
                f"{str(path)!r} holds a {type(pipe.model).__name__}, not a PointCloudAutoencoder; "
                "give the run or folder of configs/pointcloud_humans_ae.yaml"
            )
        return pipe

    def normalized_split(self, root: str | Path, split: str) -> np.ndarray:
        """The clouds of a data set's split in this model's normalised coordinates [K, P, 3]."""
        from vhdiff.pointcloud.data import load_clouds, read_split

        return self.normalization.apply(load_clouds(root, read_split(root, split)))

    # ------------------------------------------------------------------ conditions
    def condition_for(self, num: int, *, prompt: str | None = None, pose: Any = None) -> dict[str, torch.Tensor]:
        """The keyword conditions for `num` clouds (of the model, or of a two-stage model's
        prior): the text embedding of `prompt`, the pose vector of `pose` ([22, 3]
        axis-angle, vhdiff.pointcloud.pose), or, with neither, `cond_drop` all True (the
        null condition: the unconditional model)."""
        given = "prompt" if prompt is not None else "pose" if pose is not None else None
        if prompt is not None and pose is not None:
            raise ValueError("give a prompt or a pose, not both")
        if given is not None and given != {"text": "prompt", "pose": "pose"}.get(self.condition):
            what = "unconditional" if self.condition == "none" else f"{self.condition}-conditional"
            fix = {"none": "leave it out", "text": "give --prompt instead", "pose": "give --pose instead"}
            raise ValueError(f"this model is {what}: it takes no {given}; {fix[self.condition]}")
        if given is None:
            return {} if self.condition == "none" else {"cond_drop": torch.ones(num, dtype=torch.bool, device=self.device)}
        if prompt is not None:
            if not isinstance(prompt, str) or not prompt.strip():
                raise ValueError(f"prompt must be non-empty text, got {prompt!r}")
            with torch.no_grad():
                emb = self.text_encoder.encode([prompt]).to(self.device, torch.float32)
            return {"text_emb": emb.expand(num, -1)}
        vector = torch.from_numpy(pose_vector(np.asarray(pose, dtype=np.float32))).to(self.device)
        return {"pose": vector.reshape(1, POSE_DIM).expand(num, -1)}

    # ------------------------------------------------------------------ generation
    def __call__(
        self, num: int = 16, *, prompt: str | None = None, pose: Any = None, seed: int | None = None,
        intermediates: tuple[int, ...] = (), progress: bool = False, **overrides: Any,
    ) -> PointClouds:
        """Sample `num` clouds (overrides: any PointCloudGeneration field for this call, e.g.
        points=4096, steps=50, guidance=2). intermediates: training timesteps whose x_t and
        x_0 estimate to keep (e.g. (999, 750, 500, 250, 0))."""
        num = check_number("num", num, lo=1, hi=MAX_CLOUDS, integer=True, hint="clouds per call")
        config = self.settings(**overrides)
        if isinstance(self.model, PointCloudAutoencoder) and self.prior is None:
            raise ValueError(
                "this folder holds a point-cloud autoencoder without a latent prior: it encodes and "
                "decodes (pipe.encode / pipe.decode) but cannot sample new clouds; train the prior "
                "(configs/pointcloud_humans_prior.yaml) and export that run"
            )
        cond = self.condition_for(num, prompt=prompt, pose=pose)
        if "cond_drop" in cond:  # the null condition: guidance has nothing to contrast
            config = config.replace(guidance=1.0)
        seed, generator = make_generator(seed, self.device)
        if self.prior is not None:
            codes = self.prior.sample(
                num, sampler=config.prior_sampler, steps=config.prior_steps or None,
                spacing=PRIOR_SPACING, eta=config.eta, guidance=config.guidance,
                guidance_interval=config.guidance_interval, generator=generator, device=self.device, **cond,
            )
            cond, config = {"latent": codes}, config.replace(guidance=1.0)
        out = self.sample(
            (num, config.points, self.model.point_dim), config, generator=generator, progress=progress,
            return_intermediates=tuple(intermediates), **cond,
        )
        return self._clouds(out, seed=seed, prompt=prompt, pose=pose)

    def _clouds(self, out: Any, *, seed: int, prompt: str | None = None, pose: Any = None) -> PointClouds:
        undo = self.normalization.undo
        return PointClouds(
            points=undo(out.sample.float().cpu().numpy()), seed=seed, prompt=prompt,
            pose=None if pose is None else np.asarray(pose, dtype=np.float32),
            intermediates={t: undo(x.float().cpu().numpy()) for t, x in out.intermediates.items()},
            pred_x0={t: undo(x.float().cpu().numpy()) for t, x in out.pred_x0.items()},
        )

    # ------------------------------------------------------------------ the two stages
    def _autoencoder(self) -> PointCloudAutoencoder:
        if not isinstance(self.model, PointCloudAutoencoder):
            raise ValueError(  # noqa: TRY004 - a user error about the folder, for the CLI
                "this point-cloud model is one-stage (a PointNetDenoiser): it has no shape codes to "
                "encode or decode; use a two-stage model (configs/pointcloud_humans_ae.yaml)"
            )
        return self.model

    def encode(self, clouds: Any) -> torch.Tensor:
        """Shape codes [K, D] of clouds [K, P, 3] in metres (Y up, as the data set's)."""
        model = self._autoencoder()
        clouds = np.asarray(clouds, dtype=np.float32)
        if clouds.ndim != 3 or clouds.shape[-1] != 3 or clouds.shape[1] < 1:
            raise ValueError(f"encode takes clouds [K, P, 3] with P >= 1; got shape {clouds.shape}")
        return encode_clouds(model, self.normalization.apply(clouds))

    def decode(self, codes: Any, *, seed: int | None = None, progress: bool = False,
               intermediates: tuple[int, ...] = (), **overrides: Any) -> PointClouds:
        """Clouds [K, points, 3] in metres drawn from shape codes [K, D] (overrides: any
        PointCloudGeneration field, e.g. points, steps)."""
        model = self._autoencoder()
        codes = torch.as_tensor(codes, dtype=torch.float32)
        if codes.ndim != 2 or codes.shape[1] != model.latent_dim or len(codes) < 1:
            raise ValueError(f"decode takes codes [K, {model.latent_dim}] with K >= 1; got shape {tuple(codes.shape)}")
        config = self.settings(**overrides).replace(guidance=1.0)
        seed, generator = make_generator(seed, self.device)
        out = self.sample(
            (len(codes), config.points, model.point_dim), config, generator=generator, progress=progress,
            return_intermediates=tuple(intermediates), latent=codes.to(self.device),
        )
        return self._clouds(out, seed=seed)
