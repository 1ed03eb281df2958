"""Text conditioning for training: a batch's captions -> the model's text-embedding keyword."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

__all__ = ["TextCondition"]


class TextCondition:
    """Encodes batch[text_key] (list[str]) with a frozen text encoder -> {output_key: [B, C]}."""

    def __init__(self, *, encoder: Any, text_key: str, output_key: str, device: torch.device | None) -> None:
        self.encoder = encoder
        self.text_key = text_key
        self.output_key = output_key
        self.device = device

    def __call__(self, batch: Any) -> dict[str, Tensor]:
        if not isinstance(batch, dict) or self.text_key not in batch:
            keys = sorted(batch) if isinstance(batch, dict) else type(batch).__name__
            raise ValueError(
                f"text_encoder is set but the batch has no {self.text_key!r} entry (got {keys}); "
                "set text_encoder.text_key or text_encoder.name=null"
            )
        with torch.no_grad():
            emb = self.encoder.encode(list(batch[self.text_key]))
        return {self.output_key: emb.to(self.device, dtype=torch.float32)}
