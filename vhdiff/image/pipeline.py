"""Human images: `ImagePipeline` = UNet + diffusion, with SDEdit, inpainting and inversion.

    from vhdiff.image.pipeline import ImagePipeline
    pipe = ImagePipeline.from_pretrained()                       # the bundled model, offline
    out = pipe(num=16, prompt="a person squatting, seen from the front", seed=0)
    out.images                                                   # uint8 [16, 32, 32, 3]
    edit = pipe.edit("me.png", prompt="a person raising both arms", strength=0.5)
    fill = pipe.inpaint("me.png", "mask.png")                    # white = repaint
    inv = pipe.invert("me.png")                                  # x_T and its round trip

`ImagePipeline` is a `vhdiff.pipelines.Pipeline` (folder format, from_pretrained /
save_pretrained / from_run, GenerationConfig). Its pipeline.json adds "condition" ("none"
or "text") and "text_encoder". A text-conditional model trained with condition dropout also
samples unconditionally: no prompt gives the null condition. `vhdiff image-export RUN OUT`
writes a run's pipeline folder.

Images are 8-bit data scaled to [-1, 1] (x = 2 k / 255 - 1); every x_0 estimate is clipped
to that range while sampling (`ImageGeneration.clip`). The UNet is convolutional: an input
image whose sides are multiples of its downsampling factor is used at its own size; any
other is resized (shorter side, centre crop) to the model's training size, with a note.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from torch import Tensor

from vhdiff.backbones import UNet
from vhdiff.image.data import (
    check_image_condition,
    from_unit,
    load_rgb8,
    pil,
    resize_center_crop,
    to_rgb8,
    to_unit,
)
from vhdiff.pipelines import GenerationConfig, Pipeline, make_generator
from vhdiff.pipelines.base import run_text_encoder
from vhdiff.pipelines.generation import check_number

__all__ = [
    "INPAINT_STEPS",
    "INVERT_STEPS",
    "MAX_IMAGES",
    "EditedImage",
    "ImageGeneration",
    "ImagePipeline",
    "Images",
    "Inversion",
    "bundled_model_dir",
    "open_image",
    "read_mask",
]

MAX_IMAGES = 10_000  # images per call
INPAINT_STEPS = 50  # RePaint's DDPM steps (respaced) unless a call says otherwise
INVERT_STEPS = 50  # DDIM inversion steps


def bundled_model_dir() -> Path:
    """The default model shipped inside the package (vhdiff/assets/image_default)."""
    return Path(__file__).resolve().parents[1] / "assets" / "image_default"


@dataclass(frozen=True)
class ImageGeneration(GenerationConfig):
    """The image pipeline's generation settings: GenerationConfig's plus

    clip: x_0 estimates are clamped to [-clip, clip] while sampling (1: the data range;
        None: no clamp).
    """

    sampler: str = "dpm++"
    steps: int | None = 20
    guidance: float = 2.0
    clip: float | None = 1.0

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.clip is not None:
            object.__setattr__(self, "clip", check_number("clip", self.clip, lo=1e-3, hi=1e3))


@dataclass
class Images:
    """Generated images.

    images: uint8 [K, H, W, 3].
    seed: the generator seed; prompt: the condition (a text or one per image; None:
    unconditional).
    intermediates: training timestep -> uint8 [K, H, W, 3] x_t (clamped to [-1, 1]), when asked.
    pred_x0: the same timesteps -> the model's x_0 estimate there.
    """

    images: np.ndarray
    seed: int
    prompt: str | list[str] | None = None
    intermediates: dict[int, np.ndarray] = field(default_factory=dict)
    pred_x0: dict[int, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.images)


@dataclass
class EditedImage:
    """One edit (SDEdit or inpainting).

    image: uint8 [H, W, 3], the result; source: uint8 [H, W, 3], the input as the model saw
    it (after any resize); mask: bool [H, W] (True = repainted) for inpainting, else None.
    distance: mean |image - source| in [0, 1] units over the kept pixels (all pixels for
    SDEdit, the unmasked ones for inpainting: 0 there means untouched).
    notes: what was done to the input (a resize), one line each.
    """

    image: np.ndarray
    source: np.ndarray
    seed: int
    prompt: str | None = None
    strength: float | None = None
    mask: np.ndarray | None = None
    distance: float = 0.0
    notes: list[str] = field(default_factory=list)


@dataclass
class Inversion:
    """DDIM inversion of an image and its reconstruction.

    x_T: float32 [3, H, W], the inverted noise; reconstruction: uint8 [H, W, 3], x_T decoded
    again on the same grid; source: uint8 [H, W, 3], the input as the model saw it.
    error: RMSE of reconstruction vs source in 8-bit levels (0-255); max_error: the largest.
    """

    x_T: Tensor
    reconstruction: np.ndarray
    source: np.ndarray
    steps: int
    error: float
    max_error: int
    prompt: str | None = None
    notes: list[str] = field(default_factory=list)


class ImagePipeline(Pipeline):
    """Samples and edits images. Build with `from_pretrained` / `from_run`.

    Args (keyword-only), beyond `Pipeline`'s (model, diffusion, generation, device, info):
        condition: "none" or "text" (what the model was trained on).
        text_encoder: {"name": ..., "params": {...}} for condition "text" (vhdiff.text).
    """

    pipeline_class: ClassVar[str] = "ImagePipeline"
    modality: ClassVar[str] = "image"
    generation_class: ClassVar[type[GenerationConfig]] = ImageGeneration
    model_class: ClassVar[Any] = UNet
    run_model_names: ClassVar[tuple[str, ...]] = ("unet",)
    export_command: ClassVar[str] = "vhdiff image-export"
    generation: ImageGeneration

    def __init__(
        self, *, model: torch.nn.Module, diffusion: Any, condition: str = "none",
        text_encoder: dict[str, Any] | None = None, generation: ImageGeneration | None = None,
        device: str | torch.device = "cpu", info: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(model=model, diffusion=diffusion, generation=generation, device=device, info=info)
        check_image_condition(condition)
        if condition == "text" and model.config.get("cond_dim") is None:
            raise ValueError("condition 'text' needs a UNet built with cond_dim")
        if condition == "text" and text_encoder is None:
            raise ValueError("a text-conditional pipeline needs its text_encoder ({'name': ..., 'params': {...}})")
        self.condition = condition
        self.text_encoder_spec = None if text_encoder is None else dict(text_encoder)
        if self.device.type == "cpu":  # oneDNN's convolutions run ~25 % faster on NHWC weights here
            self.model.to(memory_format=torch.channels_last)  # (benchmarks/bench_image.py)
        self.image_size = int(model.config.get("image_size", 32))
        self.factor = 2 ** (len(model.config.get("channel_mults", (1,))) - 1)  # the UNet's downsampling

    # ------------------------------------------------------------------ folders
    @classmethod
    def default_folder(cls) -> Path:
        return bundled_model_dir()

    @classmethod
    def _from_folder(cls, folder: Path, meta: dict[str, Any], **parts: Any) -> ImagePipeline:
        return cls(condition=meta.get("condition", "none"), text_encoder=meta.get("text_encoder"), **parts)

    def _save_extras(self, folder: Path, *, fp16: bool = False) -> dict[str, Any]:
        return {"condition": self.condition, "text_encoder": self.text_encoder_spec, "image_size": self.image_size}

    @classmethod
    def _from_run(cls, config: Any, **parts: Any) -> ImagePipeline:
        params = config.data.params
        condition = params.get("condition", "none")
        return cls(condition=condition, text_encoder=run_text_encoder(params, condition), **parts)

    # ------------------------------------------------------------------ conditions
    def condition_for(self, num: int, *, prompt: str | list[str] | None = None) -> dict[str, Tensor]:
        """The UNet's keyword conditions for `num` images: the pooled `text_emb` [num, C]
        and (with cross-attention) `text_tokens` [num, L, C'] / `text_mask` [num, L] of
        `prompt` (one text for all, or a list of `num` texts), or without a prompt
        `cond_drop` all True (the null condition: the unconditional model)."""
        if prompt is not None and self.condition == "none":
            raise ValueError("this model is unconditional: it takes no prompt; leave --prompt out")
        if prompt is None:
            return {} if self.condition == "none" else {"cond_drop": torch.ones(num, dtype=torch.bool, device=self.device)}
        texts = [prompt] if isinstance(prompt, str) else list(prompt)
        if len(texts) not in (1, num):
            raise ValueError(f"give one prompt or {num} (one an image); got {len(texts)}")
        for text in texts:
            if not isinstance(text, str) or not text.strip():
                raise ValueError(f"prompt must be non-empty text, got {text!r}")
        with torch.no_grad():
            cond = {"text_emb": self.text_encoder.encode(texts).to(self.device, torch.float32).expand(num, -1)}
            if getattr(self.model, "uses_tokens", False):
                tokens, mask = self.text_encoder.encode_tokens(texts)
                cond["text_tokens"] = tokens.to(self.device, torch.float32).expand(num, -1, -1)
                cond["text_mask"] = mask.to(self.device).expand(num, -1)
        return cond

    def _guided(self, config: ImageGeneration, cond: dict[str, Tensor]) -> tuple[ImageGeneration, Any]:
        if "cond_drop" in cond:  # the null condition: guidance has nothing to contrast
            config = config.replace(guidance=1.0)
        return config, self.guided_model(config)

    # ------------------------------------------------------------------ inputs
    def load_image(self, image: Any) -> tuple[np.ndarray, list[str]]:
        """An input image as uint8 [H, W, 3] at a size the model takes, and the notes on
        what was done to it. `image`: a path, a PIL image or a uint8 [H, W, 3] array."""
        picture = open_image(image)
        width, height = picture.size
        if width % self.factor == 0 and height % self.factor == 0:
            return np.asarray(picture, dtype=np.uint8).copy(), []
        size = self.image_size
        note = (f"resized the {width}x{height} input to {size}x{size} (the model takes sides that are "
                f"multiples of {self.factor})")
        return np.asarray(resize_center_crop(picture, size), dtype=np.uint8).copy(), [note]

    # ------------------------------------------------------------------ generation
    def __call__(
        self, num: int = 16, *, prompt: str | list[str] | None = None, seed: int | None = None,
        intermediates: tuple[int, ...] = (), progress: bool = False, size: int | None = None,
        **overrides: Any,
    ) -> Images:
        """Sample `num` images (prompt: one text, or one per image; overrides: any ImageGeneration field for this call, e.g.
        steps=50, guidance=3). intermediates: training timesteps whose x_t and x_0
        estimate to keep (e.g. (999, 750, 500, 250)). size: the side in pixels (None: the
        model's training size)."""
        num = check_number("num", num, lo=1, hi=MAX_IMAGES, integer=True, hint="images per call")
        side = self.image_size if size is None else self._check_side(size)
        config = self.settings(**overrides)
        cond = self.condition_for(num, prompt=prompt)
        config, _ = self._guided(config, cond)
        seed, generator = make_generator(seed, self.device)
        out = self.sample(
            (num, self.model.in_channels, side, side), config, generator=generator, progress=progress,
            return_intermediates=tuple(intermediates), clip_denoised=config.clip, **cond,
        )
        return Images(
            images=from_unit(out.sample), seed=seed, prompt=prompt,
            intermediates={t: from_unit(x) for t, x in out.intermediates.items()},
            pred_x0={t: from_unit(x) for t, x in out.pred_x0.items()},
        )

    def _check_side(self, size: int) -> int:
        size = check_number("size", size, lo=self.factor, hi=4096, integer=True, hint="pixels")
        if size % self.factor:
            raise ValueError(f"size must be a multiple of {self.factor} (the UNet's downsampling); got {size}")
        return size

    def edit(
        self, image: Any, *, prompt: str | None = None, strength: float = 0.5, seed: int | None = None,
        progress: bool = False, **overrides: Any,
    ) -> EditedImage:
        """SDEdit (Meng et al. 2022): noise the image to t = strength * T, denoise with the
        prompt. strength in (0, 1]: small keeps the layout, 1 is a fresh sample."""
        from vhdiff.diffusion import sdedit

        strength = _check_strength(strength)
        source, notes = self.load_image(image)
        config = self.settings(**overrides)
        cond = self.condition_for(1, prompt=prompt)
        config, model = self._guided(config, cond)
        seed, generator = make_generator(seed, self.device)
        x0 = to_unit(source[None]).to(self.device)
        with torch.no_grad():
            out = sdedit(
                self.diffusion, model, x0, strength=strength, sampler=config.sampler,
                steps=config.resolved_steps, eta=config.eta, timestep_spacing=config.resolved_spacing,
                generator=generator, progress=progress, clip_denoised=config.clip, **cond,
            )
        result = from_unit(out.sample)[0]
        return EditedImage(
            image=result, source=source, seed=seed, prompt=prompt, strength=strength,
            distance=_mean_distance(result, source), notes=notes,
        )

    def inpaint(
        self, image: Any, mask: Any, *, prompt: str | None = None, seed: int | None = None,
        steps: int | None = None, jump_length: int = 10, jump_n_sample: int = 1,
        progress: bool = False, **overrides: Any,
    ) -> EditedImage:
        """Repaint the white region of `mask` (RePaint, Lugmayr et al. 2022) and keep the
        rest exactly: `steps` respaced DDPM steps (None: INPAINT_STEPS, at most T), resampling with
        jump_n_sample > 1. overrides: guidance / clip (the sampler is RePaint's DDPM)."""
        from vhdiff.diffusion import inpaint

        steps = min(INPAINT_STEPS, self.diffusion.num_timesteps) if steps is None else steps
        steps = check_number("steps", steps, lo=1, hi=self.diffusion.num_timesteps, integer=True)
        width, height = open_image(image).size
        source, notes = self.load_image(image)
        repaint = read_mask(mask, like=(height, width))
        if notes:  # the image was resized: the mask goes with it (nearest, so it stays binary)
            picture = pil().fromarray(repaint.astype(np.uint8) * 255)
            repaint = np.asarray(resize_center_crop(picture, source.shape[0], resample="nearest")) >= 128
        config = self.settings(**overrides)
        cond = self.condition_for(1, prompt=prompt)
        config, model = self._guided(config, cond)
        seed, generator = make_generator(seed, self.device)
        x0 = to_unit(source[None]).to(self.device)
        known = torch.from_numpy(~repaint).to(self.device, torch.float32)[None, None]
        with torch.no_grad():
            out = inpaint(
                self.diffusion, model, x0, known, steps=steps, jump_length=jump_length,
                jump_n_sample=jump_n_sample, generator=generator, progress=progress,
                clip_denoised=config.clip, **cond,
            )
        result = from_unit(out.sample)[0]
        kept = ~repaint
        distance = _mean_distance(result[kept], source[kept]) if kept.any() else 0.0
        return EditedImage(
            image=result, source=source, seed=seed, prompt=prompt, mask=repaint, distance=distance, notes=notes,
        )

    def invert(
        self, image: Any, *, prompt: str | None = None, steps: int | None = None, fixed_point_iters: int = 1,
        progress: bool = False,
    ) -> Inversion:
        """DDIM inversion x_0 -> x_T in `steps` steps (None: INVERT_STEPS, at most T; eta = 0, the
        conditional model without guidance), then the reconstruction from x_T on the same
        grid; the round-trip error says how exact it is. fixed_point_iters: re-evaluate
        each inversion step's noise estimate at its result that many times (exact in the
        limit, one more model call a step each; vhdiff.diffusion.ddim_invert)."""
        from vhdiff.diffusion import ddim_invert

        steps = min(INVERT_STEPS, self.diffusion.num_timesteps) if steps is None else steps
        steps = check_number("steps", steps, lo=1, hi=self.diffusion.num_timesteps, integer=True)
        source, notes = self.load_image(image)
        cond = self.condition_for(1, prompt=prompt)
        x0 = to_unit(source[None]).to(self.device)
        spacing = "leading"  # x_T at t < T - 1: eps prediction is ill-posed at the last step
        with torch.no_grad():
            x_T = ddim_invert(self.diffusion, self.model, x0, steps=steps, timestep_spacing=spacing,
                              fixed_point_iters=int(fixed_point_iters), progress=progress, **cond)
            back = self.diffusion.sample(
                self.model, tuple(x0.shape), sampler="ddim", steps=steps, eta=0.0,
                timestep_spacing=spacing, x_T=x_T, progress=progress, **cond,
            ).sample
        reconstruction = from_unit(back)[0]
        diff = reconstruction.astype(np.float64) - source.astype(np.float64)
        return Inversion(
            x_T=x_T[0].float().cpu(), reconstruction=reconstruction, source=source, steps=steps,
            error=float(np.sqrt(np.mean(diff**2))), max_error=int(np.abs(diff).max()), prompt=prompt, notes=notes,
        )


def _check_strength(strength: Any) -> float:
    ok = isinstance(strength, (int, float)) and not isinstance(strength, bool)
    if not ok or not np.isfinite(strength) or not 0.0 < float(strength) <= 1.0:
        raise ValueError(f"strength must lie in (0, 1] (how far to noise the image: 0.3 keeps its layout); got {strength!r}")
    return float(strength)


def _mean_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute difference of two uint8 arrays, in [0, 1] units."""
    return float(np.mean(np.abs(a.astype(np.float64) - b.astype(np.float64))) / 255.0)


def open_image(image: Any) -> Any:
    """An input image as an 8-bit RGB PIL image: a path (PNG / JPEG / WebP, any mode), a PIL
    image or a uint8 [H, W, 3] array; anything else is a one-line ValueError."""
    Image = pil()
    if isinstance(image, (str, os.PathLike)):
        path = Path(image)
        if not path.is_file():
            raise FileNotFoundError(f"input image {str(path)!r} does not exist; check the path")
        try:
            return load_rgb8(path)
        except Exception as exc:  # noqa: BLE001 - any decoder failure is the same user error
            raise ValueError(f"{str(path)!r} is not an image that can be read ({type(exc).__name__}); "
                             "give a PNG, JPEG or WebP file") from None
    if isinstance(image, np.ndarray):
        if image.dtype != np.uint8 or image.ndim != 3 or image.shape[-1] != 3:
            raise ValueError(f"an image array must be uint8 [H, W, 3], got {image.dtype} {list(image.shape)}")
        return Image.fromarray(image, mode="RGB")
    if isinstance(image, Image.Image):
        return to_rgb8(image)
    raise ValueError(f"an input image must be a path, a PIL image or a uint8 array, got {type(image).__name__}")


def read_mask(mask: Any, *, like: tuple[int, int]) -> np.ndarray:
    """A black-and-white mask (white = repaint) as bool [H, W]: a path, or a bool / uint8
    [H, W] array; it must be binary (0 and 255 only) and of the image's size `like` (H, W)."""
    Image = pil()

    if isinstance(mask, (str, os.PathLike)):
        path = Path(mask)
        if not path.is_file():
            raise FileNotFoundError(f"mask {str(path)!r} does not exist; check the path")
        try:
            with Image.open(path) as opened:
                grey = np.asarray(opened.convert("L"))
        except Exception as exc:  # noqa: BLE001
            raise ValueError(f"mask {str(path)!r} is not an image that can be read ({type(exc).__name__}); "
                             "give a black-and-white PNG") from None
    else:
        grey = np.asarray(mask)
        if grey.dtype == bool:
            grey = grey.astype(np.uint8) * 255
    if grey.ndim != 2:
        raise ValueError(f"a mask must be one channel [H, W], got shape {list(grey.shape)}")
    if tuple(grey.shape) != tuple(like):
        raise ValueError(
            f"the mask is {grey.shape[1]}x{grey.shape[0]} but the image is {like[1]}x{like[0]}; "
            "give a mask of the image's size"
        )
    other = sorted(set(np.unique(grey).tolist()) - {0, 255})
    if other:
        shown = ", ".join(str(v) for v in other[:3]) + (", ..." if len(other) > 3 else "")
        raise ValueError(
            f"the mask is not binary (it holds grey values {shown}); use black (0) to keep and "
            "white (255) to repaint, nothing in between"
        )
    return grey == 255
