"""The shared pipeline base: a denoiser + its diffusion + generation defaults, as a folder.

Every modality's pipeline (`vhdiff.motion.pipeline.MotionPipeline`, and the point-cloud and
image pipelines) is a `Pipeline` subclass, so they all load, save and sample the same way::

    pipe = MotionPipeline.from_pretrained()              # bundled model (or a folder)
    pipe = MotionPipeline.from_run("runs/motion")        # a `vhdiff train` run's newest checkpoint
    pipe.save_pretrained("my_model", fp16=True)
    pipe.generation                                      # GenerationConfig: every call's defaults

A pipeline folder::

    DIR/pipeline.json      {"_class", "_format", "modality", "diffusion": {...},
                            "generation": {...}, "info": {...}, + the modality's own keys}
    DIR/model/config.json  the backbone's constructor keywords
    DIR/model/model.safetensors
    DIR/...                the modality's files (feature statistics, a caption index, ...)

"diffusion" is `GaussianDiffusion.to_dict()` (the flat keys of a run config's `diffusion:`
section), so a pipeline rebuilds its diffusion without the run-config module or the
trainer; "generation" is the pipeline's `GenerationConfig.to_dict()`.

Subclasses set the class attributes (`pipeline_class`, `modality`, `generation_class`,
`model_class`, `run_model_names`) and may override four hooks: `_from_folder` (read their
own files), `_save_extras` (write them), `_from_run` (build from a run's config) and
`_load_model` (which backbone class a folder's model/ holds).
"""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import torch
from typing_extensions import Self

from vhdiff.atomic_io import FolderKind
from vhdiff.diffusion import ClassifierFreeGuidance, GaussianDiffusion, SampleOutput
from vhdiff.pipelines.generation import GenerationConfig

__all__ = ["FORMAT", "MODEL_DIR", "PIPELINE_FILE", "PIPELINE_FOLDER", "SEED_MAX", "Pipeline", "make_generator"]

PIPELINE_FILE = "pipeline.json"
# a folder save_pretrained wrote: it holds pipeline.json, written last (vhdiff.atomic_io's
# replace rule: only such a folder, or an empty one, is ever replaced by a save)
PIPELINE_FOLDER = FolderKind.with_file("pipeline folder", PIPELINE_FILE)
MODEL_DIR = "model"
FORMAT = 2  # 1: motion folders before the shared base (still read by MotionPipeline)
SEED_MAX = 2**63 - 1  # torch generators take 64-bit seeds

P = TypeVar("P", bound="Pipeline")


def make_generator(seed: Any, device: torch.device | str = "cpu") -> tuple[int, torch.Generator]:
    """(seed, a torch.Generator seeded with it); seed None draws one (reported back, so the
    run can be repeated). A seed must be a whole number in [0, 2^63 - 1]."""
    if seed is None:
        seed = int(torch.randint(0, 2**31 - 1, ()).item())
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= SEED_MAX:
        raise ValueError(f"seed must be a whole number in [0, 2^63 - 1]; got {seed!r}")
    return seed, torch.Generator(device=torch.device(device)).manual_seed(seed)


def run_text_encoder(data_params: dict[str, Any], condition: str) -> dict[str, Any] | None:
    """The {"name", "params"} text-encoder spec of a training run's data section for a
    text-conditional model (the dataset's text_encoder / text_encoder_params; MiniLM by
    default), None for any other condition."""
    if condition != "text":
        return None
    return {"name": data_params.get("text_encoder", "minilm"), "params": dict(data_params.get("text_encoder_params") or {})}


class Pipeline:
    """A denoiser, its diffusion and its generation defaults (see the module docstring).

    Args (keyword-only):
        model: the denoiser (a `vhdiff.backbones` module); put in eval mode on `device`.
        diffusion: a `GaussianDiffusion`, or its `to_dict()` form.
        generation: the defaults of every call (None: `generation_class()`).
        device: where the model runs.
        info: free-form provenance (the run and step it came from, ...), saved in pipeline.json.
    """

    pipeline_class: ClassVar[str] = "Pipeline"  # pipeline.json's "_class"
    modality: ClassVar[str] = ""
    generation_class: ClassVar[type[GenerationConfig]] = GenerationConfig
    model_class: ClassVar[Any] = None  # a backbone class with from_pretrained / save_pretrained
    run_model_names: ClassVar[tuple[str, ...]] = ()  # registry model names from_run accepts
    export_command: ClassVar[str] = ""  # the command that turns a run into a folder

    def __init__(
        self, *, model: torch.nn.Module, diffusion: GaussianDiffusion | dict[str, Any],
        generation: GenerationConfig | None = None, device: str | torch.device = "cpu",
        info: dict[str, Any] | None = None,
    ) -> None:
        self.device = torch.device(device)
        self.model = model.to(self.device).eval()
        self.diffusion = diffusion if isinstance(diffusion, GaussianDiffusion) else GaussianDiffusion.from_dict(diffusion)
        generation = self.generation_class() if generation is None else generation
        if not isinstance(generation, self.generation_class):
            raise ValueError(  # noqa: TRY004 - the CLI's user errors are ValueErrors
                f"generation must be a {self.generation_class.__name__}, got {type(generation).__name__}"
            )
        generation.check_for(self.diffusion.num_timesteps)
        self.generation = generation
        self.info = dict(info or {})
        # {"name": ..., "params": {...}} of vhdiff.text.load_text_encoder; set by a
        # text-conditional subclass (None: the pipeline encodes no text)
        self.text_encoder_spec: dict[str, Any] | None = None
        self._text_encoder: Any = None

    @property
    def text_encoder(self) -> Any:
        """The text encoder of `text_encoder_spec`, loaded on first use (None without one)."""
        if self._text_encoder is None and self.text_encoder_spec is not None:
            from vhdiff.text import load_text_encoder

            spec = self.text_encoder_spec
            self._text_encoder = load_text_encoder(spec["name"], device=self.device, **spec.get("params", {}))
        return self._text_encoder

    # ------------------------------------------------------------------ folders
    @classmethod
    def default_folder(cls) -> Path | None:
        """The model shipped inside the package for this pipeline, or None."""
        return None

    @classmethod
    def read_meta(cls, folder: Path) -> dict[str, Any]:
        """pipeline.json of `folder`, checked; errors say what the folder is instead."""
        what = f"{cls.modality} pipeline" if cls.modality else "pipeline"
        if not folder.is_dir():
            if folder == cls.default_folder():
                raise FileNotFoundError(
                    f"the bundled {what} is missing from {folder}; reinstall vhdiff or pass "
                    "--checkpoint DIR (a folder written by save_pretrained / an export command)"
                )
            raise FileNotFoundError(f"no {what} folder at {str(folder)!r}")
        path = folder / PIPELINE_FILE
        if not path.is_file():
            hint = ""
            if (folder / "checkpoints").is_dir() or (folder / "config.yaml").is_file():
                how = f"`{cls.export_command} {folder} OUT`" if cls.export_command else "save_pretrained"
                hint = f"; it looks like a training run: export it with {how}"
            elif (folder / "config.json").is_file():
                hint = f"; it holds a single model (config.json), not a {what}"
            raise ValueError(f"{str(folder)!r} is not a {what} folder (no {PIPELINE_FILE}){hint}")
        try:
            meta = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValueError(f"{str(path)!r} is not valid JSON ({exc}); the folder is damaged") from None
        if not isinstance(meta, dict) or meta.get("_class") != cls.pipeline_class:
            kind = meta.get("_class") if isinstance(meta, dict) else type(meta).__name__
            raise ValueError(
                f"{str(path)!r} describes a {kind!r}, not a {cls.pipeline_class} (another modality?); "
                f"pass a {what} folder"
            )
        version = meta.get("_format", 1)
        if not isinstance(version, int) or version > FORMAT:
            raise ValueError(f"{str(path)!r} was written by a newer vhdiff (format {version}); upgrade vhdiff")
        if not isinstance(meta.get("diffusion"), dict):
            raise ValueError(f"{str(path)!r} has no \"diffusion\" section; the folder is damaged")  # noqa: TRY004
        return meta

    @classmethod
    def from_pretrained(cls, path: str | os.PathLike | None = None, *,
                        device: str | torch.device = "cpu") -> Self:
        """Load a pipeline folder (None: the bundled model of this pipeline)."""
        folder = cls.default_folder() if path is None else Path(path)
        if folder is None:
            raise ValueError(f"{cls.__name__} has no bundled model; pass a folder")
        meta = cls.read_meta(folder)
        model = cls._load_model(folder / MODEL_DIR)
        diffusion = GaussianDiffusion.from_dict(meta["diffusion"])
        generation = cls.generation_from_meta(meta, source=str(folder / PIPELINE_FILE))
        return cls._from_folder(
            folder, meta, model=model.float(), diffusion=diffusion, generation=generation,
            device=device, info=meta.get("info"),
        )

    @classmethod
    def _load_model(cls, folder: Path) -> torch.nn.Module:
        """The denoiser saved in `folder` (the pipeline folder's model/), in float32; a
        subclass whose folders may hold one of several backbones picks the class here."""
        return cls.model_class.from_pretrained(folder, dtype=torch.float32)

    @classmethod
    def generation_from_meta(cls, meta: dict[str, Any], *, source: str) -> GenerationConfig:
        """The generation defaults a pipeline.json holds (its "generation" section)."""
        return cls.generation_class.from_dict(meta.get("generation") or {}, source=f"{source} \"generation\"")

    @classmethod
    def _from_folder(cls, folder: Path, meta: dict[str, Any], **parts: Any) -> Self:
        """Build from a folder's parts (model, diffusion, generation, device, info); a
        subclass reads its own files here."""
        return cls(**parts)

    def save_pretrained(self, directory: str | os.PathLike, *, fp16: bool = False) -> Path:
        """Write the pipeline folder (fp16 weights with `fp16=True`); atomic: the folder is
        written under a temporary name and renamed over `directory`, which must be missing,
        empty or an earlier pipeline folder (anything else is refused, nothing touched)."""
        from vhdiff.atomic_io import atomic_folder, write_text_atomic

        out = Path(directory)
        with atomic_folder(out, kind=PIPELINE_FOLDER, force=True) as tmp:
            model = copy.deepcopy(self.model).cpu()
            (model.half() if fp16 else model).save_pretrained(tmp / MODEL_DIR)
            meta: dict[str, Any] = {
                "_class": self.pipeline_class, "_format": FORMAT, "modality": self.modality,
                "diffusion": self.diffusion.to_dict(), "generation": self.generation.to_dict(),
                "info": self.info,
            }
            meta.update(self._save_extras(tmp, fp16=fp16))
            write_text_atomic(tmp / PIPELINE_FILE, json.dumps(meta, indent=2) + "\n")
        return out

    def _save_extras(self, folder: Path, *, fp16: bool = False) -> dict[str, Any]:
        """Write the modality's own files into `folder` (weights in float16 with `fp16`, as
        the model's); return its extra pipeline.json keys."""
        return {}

    # ------------------------------------------------------------------ training runs
    @classmethod
    def from_run(cls, run: str | os.PathLike, *, device: str | torch.device = "cpu",
                 ema: bool = True, **options: Any) -> Self:
        """A pipeline from a `vhdiff train` run folder (its newest checkpoint) or one of its
        checkpoints/step_* folders; EMA weights unless ema=False. `options` go to the
        subclass's `_from_run`."""
        import dataclasses

        from vhdiff.config import import_config_modules, load_config
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
        import_config_modules(cfg)
        if cls.run_model_names and cfg.model.name not in cls.run_model_names:
            raise ValueError(
                f"{str(step)!r} trained a {cfg.model.name!r} model, not a "
                f"{' / '.join(cls.run_model_names)}; it is not a {cls.modality} run"
            )
        model = build_model(cfg.model.name, cfg.model.params)
        weights = step / "ema" if ema and (step / "ema").is_dir() else step / "model"
        load_module_weights(model, weights)
        info: dict[str, Any] = {
            "run": str(step), "step": int(step.name.split("_")[-1]) if "_" in step.name else None,
            "weights": weights.name,
        }
        if cfg.trainer.init_from:  # a fine-tune: where its starting weights came from
            info["init_from"] = str(cfg.trainer.init_from)
        diffusion = GaussianDiffusion.from_dict(dataclasses.asdict(cfg.diffusion))
        return cls._from_run(cfg, model=model, diffusion=diffusion, device=device, info=info, **options)

    @classmethod
    def _from_run(cls, config: Any, **parts: Any) -> Self:
        """Build from a run's `vhdiff.config.RunConfig` and parts (model, diffusion, device,
        info, + from_run's options); a subclass reads its data section here."""
        return cls(**parts)

    # ------------------------------------------------------------------ generation
    def settings(self, **overrides: Any) -> GenerationConfig:
        """The pipeline's generation defaults with a call's `overrides` (None = default),
        checked against the model."""
        config = self.generation.replace(**overrides)
        config.check_for(self.diffusion.num_timesteps)
        return config

    def guided_model(self, config: GenerationConfig) -> Any:
        """The model, wrapped in classifier-free guidance unless config.guidance is 1."""
        if config.guidance == 1.0:
            return self.model
        return ClassifierFreeGuidance(self.model, config.guidance, interval=config.guidance_interval)

    def sample(
        self, shape: tuple[int, ...], config: GenerationConfig, *, generator: torch.Generator,
        progress: bool = False, return_intermediates: tuple[int, ...] = (),
        clip_denoised: float | None = None, **cond: Any,
    ) -> SampleOutput:
        """Sample x_0 [shape] with `config`'s sampler, grid and guidance (cond: the model's
        keyword conditions, [B, ...] tensors; clip_denoised: clamp each x_0 estimate to
        [-c, c], for data of a known range such as images)."""
        with torch.no_grad():
            return self.diffusion.sample(
                self.guided_model(config), shape, sampler=config.sampler, steps=config.resolved_steps,
                eta=config.eta, timestep_spacing=config.resolved_spacing, generator=generator,
                device=self.device, progress=progress, return_intermediates=return_intermediates,
                clip_denoised=clip_denoised, **cond,
            )
