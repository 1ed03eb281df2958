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
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch

from vhdiff.backbones import PointNetDenoiser
from vhdiff.pipelines import GenerationConfig, Pipeline, make_generator
from vhdiff.pipelines.base import run_text_encoder
from vhdiff.pipelines.generation import check_number
from vhdiff.pointcloud.data import check_condition
from vhdiff.pointcloud.normalization import Normalization
from vhdiff.pointcloud.pose import POSE_DIM, pose_vector

__all__ = ["MAX_CLOUDS", "MAX_POINTS", "PointCloudGeneration", "PointCloudPipeline", "PointClouds", "bundled_model_dir"]

MAX_POINTS = 200_000  # points per cloud at sampling time; more is a typo
MAX_CLOUDS = 10_000  # clouds per call
CONDITION_KEYS = {"text": "text_emb", "pose": "pose"}  # the model keyword of each condition


def bundled_model_dir() -> Path:
    """The default model shipped inside the package (vhdiff/assets/pointcloud_default)."""
    return Path(__file__).resolve().parents[1] / "assets" / "pointcloud_default"


@dataclass(frozen=True)
class PointCloudGeneration(GenerationConfig):
    """The point-cloud pipeline's generation settings: GenerationConfig's plus

    points: points per cloud (any count: the model is a set function).
    """

    # eps prediction on the cosine schedule: a grid that starts at t = T-1 (trailing) divides
    # the first x_0 estimate by sqrt(alpha_bar_{T-1}) ~ 0.006 and throws points hundreds of
    # scales away (measured on the bundled model, docs/pointclouds.md); leading starts lower
    sampler: str = "dpm++"
    steps: int | None = 20
    timestep_spacing: str | None = "leading"
    guidance: float = 1.0
    points: int = 2048

    def __post_init__(self) -> None:
        super().__post_init__()
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
        condition: "none", "text" or "pose" (what the model was trained on).
        text_encoder: {"name": ..., "params": {...}} for condition "text" (vhdiff.text).
    """

    pipeline_class: ClassVar[str] = "PointCloudPipeline"
    modality: ClassVar[str] = "pointcloud"
    generation_class: ClassVar[type[GenerationConfig]] = PointCloudGeneration
    model_class: ClassVar[Any] = PointNetDenoiser
    run_model_names: ClassVar[tuple[str, ...]] = ("pointnet",)
    export_command: ClassVar[str] = "vhdiff pointcloud-export"
    generation: PointCloudGeneration

    def __init__(
        self, *, model: torch.nn.Module, diffusion: Any, normalization: Normalization,
        condition: str = "none", text_encoder: dict[str, Any] | None = None,
        generation: PointCloudGeneration | None = None, device: str | torch.device = "cpu",
        info: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(model=model, diffusion=diffusion, generation=generation, device=device, info=info)
        self.condition = check_condition(condition)
        width = {"text": model.config.get("cond_dim"), "pose": model.config.get("pose_dim")}.get(condition)
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
    def _from_folder(cls, folder: Path, meta: dict[str, Any], **parts: Any) -> PointCloudPipeline:
        source = f"{str(folder)!r} pipeline.json \"normalization\""
        return cls(
            normalization=Normalization.from_dict(meta.get("normalization"), source=source),
            condition=meta.get("condition", "none"), text_encoder=meta.get("text_encoder"), **parts,
        )

    def _save_extras(self, folder: Path) -> dict[str, Any]:
        return {
            "normalization": self.normalization.to_dict(), "condition": self.condition,
            "text_encoder": self.text_encoder_spec,
        }

    @classmethod
    def _from_run(cls, config: Any, **parts: Any) -> PointCloudPipeline:
        from vhdiff.pointcloud.data import set_normalization
        from vhdiff.pointcloud.normalization import DEFAULT_NORMALIZATION

        params = config.data.params
        condition = params.get("condition", "none")
        text_encoder = run_text_encoder(params, condition)
        normalization = set_normalization(params["root"], params.get("normalization", DEFAULT_NORMALIZATION))
        return cls(normalization=normalization, condition=condition, text_encoder=text_encoder, **parts)

    # ------------------------------------------------------------------ conditions
    def condition_for(self, num: int, *, prompt: str | None = None, pose: Any = None) -> dict[str, torch.Tensor]:
        """The model's keyword conditions for `num` clouds: the text embedding of `prompt`,
        the pose vector of `pose` ([22, 3] axis-angle, vhdiff.pointcloud.pose), or, with
        neither, `cond_drop` all True (the null condition: the unconditional model)."""
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
        cond = self.condition_for(num, prompt=prompt, pose=pose)
        if "cond_drop" in cond:  # the null condition: guidance has nothing to contrast
            config = config.replace(guidance=1.0)
        seed, generator = make_generator(seed, self.device)
        out = self.sample(
            (num, config.points, self.model.point_dim), config, generator=generator, progress=progress,
            return_intermediates=tuple(intermediates), **cond,
        )
        undo = self.normalization.undo
        return PointClouds(
            points=undo(out.sample.float().cpu().numpy()), seed=seed, prompt=prompt,
            pose=None if pose is None else np.asarray(pose, dtype=np.float32),
            intermediates={t: undo(x.float().cpu().numpy()) for t, x in out.intermediates.items()},
            pred_x0={t: undo(x.float().cpu().numpy()) for t, x in out.pred_x0.items()},
        )
