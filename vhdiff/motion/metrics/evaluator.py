"""A text-motion contrastive evaluator: motions and captions embedded into one space.

This is our counterpart of the motion and text encoders of Guo et al. 2022 (T2M), which
the field uses to compute FID, R-precision, MM-Dist, Diversity and MultiModality
(`vhdiff.motion.metrics`). It is trained on a dataset's train split with a symmetric
InfoNCE loss (CLIP, Radford et al. 2021, eq. in Fig. 3) and a learnable temperature.

Architecture (the keyword arguments are the saved config):

- motion encoder: normalised features x [B, T, feature_dim] with mask [B, T] ->
  frames grouped into patches of `patch_frames` consecutive frames (as T2M's movement
  encoder downsamples time by 4) -> linear -> + sinusoidal positions -> pre-norm
  transformer encoder (padded patches masked as keys) -> masked mean pooling ->
  LayerNorm -> linear -> `embed_dim`;
- text head: an MLP over frozen sentence embeddings [B, text_dim] (MiniLM, 384) ->
  `embed_dim`. The sentence encoder (`vhdiff.text.load_text_encoder(text_encoder)`) is
  not part of the saved weights; it is loaded on the first `embed_texts` call.

Both embeddings are L2-normalised, so Euclidean distances lie in [0, 2] and rank like
cosine similarities. (T2M's embeddings are not normalised, so our MM-Dist and Diversity
have a different scale from published HumanML3D numbers; R-precision and the ranking of
models compare.)

Saved as `config.json` + `model.safetensors` (`save_pretrained` / `load`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from vhdiff.backbones.motion_transformer import sinusoidal_positions
from vhdiff.backbones.pretrained import PretrainedMixin, register_config

__all__ = ["EVALUATOR_DIR", "TextMotionEvaluator", "contrastive_loss", "load_evaluator"]

EVALUATOR_DIR = "evaluator"  # DATA/evaluator: where `vhdiff prep motion-evaluator DATA` saves it


def contrastive_loss(
    motion_emb: Tensor,
    text_emb: Tensor,
    logit_scale: Tensor,
    captions: Sequence[str] | None = None,
) -> Tensor:
    """Symmetric InfoNCE over a batch of paired, L2-normalised embeddings [B, E].

    logits = exp(logit_scale) * motion_emb @ text_emb^T; the loss is the mean of the
    cross-entropies motion->text and text->motion (CLIP). When `captions` are given,
    pairs whose captions are identical are all positives of one another (their target
    probability is shared equally), so duplicated captions in a batch ("a person stands
    still") are not pushed apart as false negatives.
    """
    logits = logit_scale.exp() * motion_emb @ text_emb.T
    if captions is None:
        targets = torch.eye(len(motion_emb), device=logits.device)
    else:
        index = {c: i for i, c in enumerate(dict.fromkeys(captions))}
        ids = torch.tensor([index[c] for c in captions], device=logits.device)
        targets = (ids[:, None] == ids[None, :]).float()
    targets = targets / targets.sum(dim=1, keepdim=True)
    loss_m2t = torch.sum(-targets * F.log_softmax(logits, dim=1), dim=1).mean()
    loss_t2m = torch.sum(-targets.T * F.log_softmax(logits.T, dim=1), dim=1).mean()
    return (loss_m2t + loss_t2m) / 2


class TextMotionEvaluator(PretrainedMixin, nn.Module):
    """Motion encoder + text head into one `embed_dim` space (module docstring).

    Args (keyword-only; the saved config):
        feature_dim: features per frame of the dataset's representation (140 with contacts).
        latent_dim, num_layers, num_heads, ff_dim, dropout: the motion transformer.
        patch_frames: frames per transformer token (time downsampling).
        text_dim: width of the sentence embeddings (384 for MiniLM).
        text_hidden: hidden width of the text MLP.
        embed_dim: width of the shared space.
        text_encoder: name for `vhdiff.text.load_text_encoder` ("minilm").
        init_temperature: initial softmax temperature (CLIP's 0.07); learned, with
            exp(logit_scale) clamped to <= 100 during training as in CLIP.
    """

    @register_config
    def __init__(
        self,
        *,
        feature_dim: int = 140,
        latent_dim: int = 128,
        num_layers: int = 2,
        num_heads: int = 4,
        ff_dim: int = 256,
        dropout: float = 0.1,
        patch_frames: int = 4,
        text_dim: int = 384,
        text_hidden: int = 512,
        embed_dim: int = 512,
        text_encoder: str = "minilm",
        init_temperature: float = 0.07,
    ) -> None:
        super().__init__()
        for name, value in (
            ("feature_dim", feature_dim),
            ("latent_dim", latent_dim),
            ("num_layers", num_layers),
            ("patch_frames", patch_frames),
            ("text_dim", text_dim),
            ("embed_dim", embed_dim),
        ):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if latent_dim % num_heads:
            raise ValueError(
                f"latent_dim ({latent_dim}) must be a multiple of num_heads ({num_heads})"
            )
        if not 0 < init_temperature < 1:
            raise ValueError(f"init_temperature must be in (0, 1), got {init_temperature}")
        self.feature_dim, self.patch_frames, self.text_dim = feature_dim, patch_frames, text_dim
        self.latent_dim, self.embed_dim = latent_dim, embed_dim
        self.patch_in = nn.Linear(feature_dim * patch_frames, latent_dim)
        layer = nn.TransformerEncoderLayer(
            latent_dim, num_heads, ff_dim, dropout, activation="gelu", batch_first=True,
            norm_first=True,
        )  # fmt: skip
        self.motion_encoder = nn.TransformerEncoder(
            layer, num_layers, norm=nn.LayerNorm(latent_dim), enable_nested_tensor=False
        )
        self.motion_out = nn.Linear(latent_dim, embed_dim)
        self.text_head = nn.Sequential(
            nn.Linear(text_dim, text_hidden),
            nn.GELU(),
            nn.LayerNorm(text_hidden),
            nn.Linear(text_hidden, embed_dim),
        )
        self.logit_scale = nn.Parameter(torch.tensor(math.log(1.0 / init_temperature)))
        self._text_encoder: Any = None

    # ---- input checks ---------------------------------------------------------------------

    def _check_motion(self, x: Tensor, mask: Tensor | None) -> Tensor:
        if not isinstance(x, Tensor) or x.ndim != 3 or x.shape[-1] != self.feature_dim:
            shape = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
            raise ValueError(
                f"motion features must be a tensor [B, T, {self.feature_dim}] (normalised "
                f"with the dataset's FeatureStats), got {shape}"
            )
        if mask is None:
            return torch.ones(x.shape[:2], dtype=torch.bool, device=x.device)
        if mask.ndim == 3 and mask.shape[-1] == 1:
            mask = mask[..., 0]
        if tuple(mask.shape) != tuple(x.shape[:2]):
            raise ValueError(
                f"mask must be [B, T] = {tuple(x.shape[:2])} (1 = real frame), "
                f"got {tuple(mask.shape)}"
            )
        mask = mask.bool()
        if not mask.any(dim=1).all():
            raise ValueError("every motion needs at least one real frame (a mask row is all 0)")
        return mask

    # ---- encoders (differentiable) --------------------------------------------------------

    def encode_motion(self, x: Tensor, mask: Tensor | None = None) -> Tensor:
        """L2-normalised motion embeddings [B, embed_dim] of features x [B, T, D], mask [B, T]."""
        mask = self._check_motion(x, mask)
        batch, frames, dim = x.shape
        pad = (-frames) % self.patch_frames
        x = F.pad(x * mask[..., None], (0, 0, 0, pad))
        patch_mask = F.pad(mask, (0, pad)).view(batch, -1, self.patch_frames).any(dim=2)
        tokens = self.patch_in(x.reshape(batch, -1, self.patch_frames * dim))
        positions = sinusoidal_positions(tokens.shape[1], self.latent_dim).to(tokens)
        hidden = self.motion_encoder(tokens + positions, src_key_padding_mask=~patch_mask)
        weights = patch_mask[..., None].to(hidden.dtype)
        pooled = (hidden * weights).sum(1) / weights.sum(1)
        return F.normalize(self.motion_out(pooled), dim=-1)

    def encode_text_features(self, sentence_emb: Tensor) -> Tensor:
        """L2-normalised text embeddings [B, embed_dim] of sentence embeddings [B, text_dim]."""
        if sentence_emb.ndim != 2 or sentence_emb.shape[1] != self.text_dim:
            raise ValueError(
                f"sentence embeddings must be [B, {self.text_dim}] (from the "
                f"{self.config['text_encoder']!r} text encoder), got {tuple(sentence_emb.shape)}"
            )
        return F.normalize(self.text_head(sentence_emb), dim=-1)

    # ---- the sentence encoder -------------------------------------------------------------

    @property
    def text_encoder(self) -> Any:
        """The frozen sentence encoder (`vhdiff.text`), loaded on first use."""
        if self._text_encoder is None:
            from vhdiff.text import load_text_encoder

            self.set_text_encoder(load_text_encoder(self.config["text_encoder"]))
        return self._text_encoder

    def set_text_encoder(self, encoder: Any) -> None:
        """Use `encoder` (a `vhdiff.text.TextEncoder` with `dim == text_dim`) for captions."""
        if getattr(encoder, "dim", None) != self.text_dim:
            raise ValueError(
                f"the text encoder gives {getattr(encoder, 'dim', '?')}-dim embeddings but this "
                f"evaluator was built for text_dim={self.text_dim}; use the "
                f"{self.config['text_encoder']!r} encoder it was trained with"
            )
        self._text_encoder = encoder

    def sentence_embeddings(self, texts: Sequence[str], *, batch_size: int = 256) -> Tensor:
        """Frozen sentence embeddings [B, text_dim] of `texts`, each unique text encoded once."""
        texts = list(texts)
        unique = list(dict.fromkeys(texts))
        device = self.logit_scale.device
        parts = [
            self.text_encoder.encode(unique[i : i + batch_size]).to(device)
            for i in range(0, len(unique), batch_size)
        ]
        table = torch.cat(parts).float()
        lookup = {text: i for i, text in enumerate(unique)}
        return table[torch.tensor([lookup[t] for t in texts], device=device)]

    # ---- evaluation API (no grad, eval mode) ----------------------------------------------

    @torch.no_grad()
    def embed_motions(
        self, x: Tensor, mask: Tensor | None = None, *, batch_size: int = 256
    ) -> Tensor:
        """Motion embeddings [B, embed_dim] in eval mode, computed `batch_size` at a time."""
        mask = self._check_motion(x, mask)
        was_training = self.training
        self.eval()
        try:
            device = self.logit_scale.device
            out = [
                self.encode_motion(
                    x[i : i + batch_size].to(device), mask[i : i + batch_size].to(device)
                )
                for i in range(0, len(x), batch_size)
            ]
        finally:
            self.train(was_training)
        return torch.cat(out)

    @torch.no_grad()
    def embed_texts(self, texts: Sequence[str], *, batch_size: int = 256) -> Tensor:
        """Caption embeddings [B, embed_dim] in eval mode (sentence encoder + text head)."""
        from vhdiff.text.base import validate_prompts

        sentences = self.sentence_embeddings(validate_prompts(texts), batch_size=batch_size)
        was_training = self.training
        self.eval()
        try:
            return self.encode_text_features(sentences)
        finally:
            self.train(was_training)

    @classmethod
    def load(
        cls, directory: Any, *, device: str | torch.device | None = None
    ) -> TextMotionEvaluator:
        """The evaluator saved by `save_pretrained(directory)`, in eval mode."""
        return cls.from_pretrained(directory, device=device)


def load_evaluator(
    folder: Any, *, device: str | torch.device | None = None
) -> TextMotionEvaluator:
    """The evaluator saved in `folder` (eval mode); FileNotFoundError naming the command
    that trains one when the folder holds none."""
    folder = Path(folder)
    if not (folder / "config.json").is_file():
        data = folder.parent if folder.name == EVALUATOR_DIR else Path("DATA")
        raise FileNotFoundError(
            f"no trained evaluator in {str(folder)!r}; train one with "
            f"`vhdiff prep motion-evaluator {data}` (it saves DATA/{EVALUATOR_DIR}), or pass "
            "the folder of another one with --evaluator"
        )
    return TextMotionEvaluator.load(folder, device=device)
