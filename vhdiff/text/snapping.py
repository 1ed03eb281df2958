"""Pull free-text prompts towards the captions a model was trained on (prompt snapping).

A text-to-motion model trained on a limited caption vocabulary (the built-in synthetic set)
knows what its training captions' embeddings mean, but a wording far from all of them
("someone ambles forward" when every training caption says "walks") lands where the model
has seen nothing and it tends to stand still. The sentence encoder itself still ranks the
right captions first (MiniLM: "ambles forward" -> "walks forward", cosine 0.61), so the
pipeline blends the prompt's embedding with its nearest training captions:

    w_i = softmax_i(cos(e, c_i) / temperature)   over the k nearest captions c_1..c_k
    e'  = (1 - strength) * e + strength * sum_i w_i c_i

strength 0 leaves the prompt alone, 1 replaces it by a soft nearest-caption embedding.
Measured on the bundled model (11 paraphrases x 4 motions, tests/motion/
test_bundled_model.py): 30 of 44 motions did what was asked without snapping, 40 with
strength 0.5. Only the TRAINING split's captions go in the index, so scores on the test
split never see its captions.

The index is stored in a pipeline folder as ``captions.safetensors`` (embeddings fp16 [N, C],
the caption texts in the metadata).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

__all__ = ["CAPTIONS_FILE", "DEFAULT_SNAPPING", "WARN_BELOW", "CaptionIndex", "PromptMatch", "SnapSettings"]

CAPTIONS_FILE = "captions.safetensors"
WARN_BELOW = 0.55


@dataclass(frozen=True)
class SnapSettings:
    """How strongly and from how many captions prompts are snapped (module docstring)."""

    strength: float = 0.5
    k: int = 8
    temperature: float = 0.02
    # a prompt whose nearest training caption is less similar than this (cosine) is far from
    # everything the model learned: `CaptionIndex.match` flags it (measured threshold:
    # benchmarks/prompt_coverage.py, docs/prompts.md)
    warn_below: float = WARN_BELOW

    def __post_init__(self) -> None:
        if not 0.0 <= self.strength <= 1.0:
            raise ValueError(f"prompt snapping strength must lie in [0, 1] (0 = off); got {self.strength}")
        if not isinstance(self.k, int) or self.k < 1:
            raise ValueError(f"prompt snapping k must be an integer >= 1; got {self.k!r}")
        if not self.temperature > 0:
            raise ValueError(f"prompt snapping temperature must be > 0; got {self.temperature}")
        if not -1.0 <= self.warn_below <= 1.0:
            raise ValueError(f"warn_below is a cosine in [-1, 1]; got {self.warn_below}")


DEFAULT_SNAPPING = SnapSettings()


@dataclass(frozen=True)
class PromptMatch:
    """How close one prompt comes to a model's training captions.

    prompt: the text; similarity: cosine of its embedding to the nearest training caption's;
    nearest: the nearest captions with their cosines, best first; far: similarity is below
    the threshold it was matched with (the model has likely never seen anything like it).
    """

    prompt: str
    similarity: float
    nearest: tuple[tuple[str, float], ...]
    far: bool

    def warning(self) -> str | None:
        """A one-line warning for a far prompt (None otherwise)."""
        if not self.far:
            return None
        shown = "; ".join(f"{text!r} ({cos:.2f})" for text, cos in self.nearest)
        return (
            f"{self.prompt!r} is far from everything this model was trained on (nearest "
            f"captions: {shown}); the motion will follow what it understood, which may not be what you asked"
        )


class CaptionIndex:
    """Text embeddings of a model's training captions.

    Args (keyword-only):
        embeddings: [N, C] pooled text embeddings, from the model's own text encoder.
        texts: the N captions.
    """

    def __init__(self, *, embeddings: Tensor, texts: list[str]) -> None:
        if embeddings.ndim != 2 or embeddings.shape[0] != len(texts) or not texts:
            raise ValueError(
                f"a caption index needs embeddings [N, C] for N >= 1 captions; got "
                f"{list(embeddings.shape)} for {len(texts)} texts"
            )
        self.embeddings = embeddings.float()
        self.texts = list(texts)
        self._unit = torch.nn.functional.normalize(self.embeddings, dim=-1)

    def __len__(self) -> int:
        return len(self.texts)

    @property
    def dim(self) -> int:
        return int(self.embeddings.shape[1])

    def _check(self, emb: Tensor) -> None:
        if emb.ndim != 2 or emb.shape[1] != self.dim:
            raise ValueError(
                f"prompt embeddings must have shape [B, {self.dim}] (the index's text encoder); "
                f"got {list(emb.shape)}"
            )

    def nearest(self, emb: Tensor, k: int = 5) -> list[list[tuple[str, float]]]:
        """The k nearest training captions of each prompt embedding [B, C], with cosines."""
        values, index = self._top(emb, k)
        return [[(self.texts[j], float(v)) for v, j in zip(vs, js)] for vs, js in zip(values.tolist(), index.tolist())]

    def match(
        self, emb: Tensor, prompts: list[str], *, warn_below: float = WARN_BELOW, k: int = 3,
    ) -> list[PromptMatch]:
        """A PromptMatch per prompt from its raw (unsnapped) embedding, row of emb [B, C]."""
        return [
            PromptMatch(prompt=p, similarity=near[0][1], nearest=tuple(near), far=near[0][1] < warn_below)
            for p, near in zip(prompts, self.nearest(emb, k=k), strict=True)
        ]

    def _top(self, emb: Tensor, k: int) -> tuple[Tensor, Tensor]:
        """Cosines [B, k] and indices [B, k] of the k nearest captions of emb [B, C]."""
        self._check(emb)
        sims = torch.nn.functional.normalize(emb.float(), dim=-1) @ self._unit.to(emb.device).T  # [B, N]
        return sims.topk(min(k, len(self)), dim=-1)

    def snap(self, emb: Tensor, settings: SnapSettings = DEFAULT_SNAPPING) -> Tensor:
        """Snapped embeddings [B, C] (same device and dtype as `emb` [B, C])."""
        self._check(emb)
        if settings.strength == 0.0:
            return emb
        values, index = self._top(emb, settings.k)
        weights = torch.softmax(values / settings.temperature, dim=-1)  # [B, k]
        blend = (weights[..., None] * self.embeddings.to(emb.device)[index]).sum(1)  # [B, C]
        return ((1.0 - settings.strength) * emb.float() + settings.strength * blend).to(emb.dtype)

    # ------------------------------------------------------------------ files
    def save(self, path: str | os.PathLike) -> Path:
        """Write fp16 embeddings and the texts to a safetensors file (atomically)."""
        from safetensors.torch import save_file

        from vhdiff.atomic_io import atomic_path

        path = Path(path)
        with atomic_path(path) as tmp:
            save_file(
                {"embeddings": self.embeddings.half().contiguous()}, str(tmp),
                metadata={"texts": json.dumps(self.texts)},
            )
        return path

    @classmethod
    def load(cls, path: str | os.PathLike) -> CaptionIndex:
        from safetensors import SafetensorError, safe_open

        try:
            with safe_open(str(path), framework="pt") as f:
                texts = json.loads((f.metadata() or {}).get("texts", "[]"))
                emb = f.get_tensor("embeddings")
        except (SafetensorError, json.JSONDecodeError, OSError) as exc:
            raise ValueError(
                f"{str(path)!r} is not a readable caption index ({exc}); delete it to turn prompt "
                "snapping off, or export the model again"
            ) from exc
        return cls(embeddings=emb.float(), texts=texts)

    @classmethod
    def from_texts(
        cls, texts: list[str], *, folder: str | os.PathLike, encoder: str,
        encoder_params: dict[str, Any] | None = None,
    ) -> CaptionIndex:
        """An index of `texts` (deduplicated, sorted), embedded with `encoder` through the
        cached table of `folder` (vhdiff.text.embedding_table: a dataset folder's table, so
        a model's training captions are not encoded again)."""
        from vhdiff.text.embedding_table import caption_embeddings

        unique = sorted(set(texts))
        if not unique:
            raise ValueError("a caption index needs at least one caption")
        table = caption_embeddings(folder, unique, encoder=encoder, encoder_params=encoder_params)
        return cls(embeddings=torch.stack([table[t] for t in unique]), texts=unique)
