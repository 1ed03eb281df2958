"""A folder's table of caption embeddings, computed once per text encoder and reused.

Training a text-conditional model looks every caption's pooled embedding up in
``FOLDER/text_embeddings/<encoder>.safetensors`` (fp32 [N, C], the caption texts in the
metadata) instead of running the text encoder each step; the table grows when new captions
appear.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from vhdiff.atomic_io import atomic_path

__all__ = ["EMBEDDINGS_DIR", "caption_embeddings"]

EMBEDDINGS_DIR = "text_embeddings"


def caption_embeddings(
    root: str | os.PathLike, captions: list[str], *, encoder: str, encoder_params: dict[str, Any] | None = None,
) -> dict[str, Tensor]:
    """Pooled embeddings [C] (float32) of every caption, from ROOT/text_embeddings/<encoder>.safetensors.

    Captions missing from the table are encoded with `vhdiff.text.load_text_encoder(encoder,
    **encoder_params)` and the table is rewritten atomically; when every caption is found
    the encoder is not loaded at all. Delete the file after changing encoder weights.
    """
    from safetensors import safe_open
    from safetensors.torch import save_file

    params = dict(encoder_params or {})
    tag = encoder if not params else f"{encoder}-{_short_hash(json.dumps(params, sort_keys=True))}"
    path = Path(root) / EMBEDDINGS_DIR / f"{tag}.safetensors"
    table: dict[str, Tensor] = {}
    if path.is_file():
        with safe_open(str(path), framework="pt") as f:
            texts = json.loads((f.metadata() or {}).get("texts", "[]"))
            emb = f.get_tensor("embeddings")
        if len(texts) == emb.shape[0]:
            table = {text: emb[i] for i, text in enumerate(texts)}
    missing = sorted({c for c in captions if c not in table})
    if missing:
        from vhdiff.text import load_text_encoder

        text_encoder = load_text_encoder(encoder, **params)
        for start in range(0, len(missing), 256):
            chunk = missing[start:start + 256]
            with torch.no_grad():
                out = text_encoder.encode(chunk).float().cpu()
            table.update({text: out[i] for i, text in enumerate(chunk)})
        texts = sorted(table)
        with atomic_path(path) as tmp:
            save_file(
                {"embeddings": torch.stack([table[t] for t in texts]).contiguous()}, str(tmp),
                metadata={"texts": json.dumps(texts), "encoder": encoder, "params": json.dumps(params)},
            )
    return table


def _short_hash(text: str) -> str:
    import hashlib

    return hashlib.sha256(text.encode()).hexdigest()[:10]


def _short_hash(text: str) -> str:
    import hashlib

    return hashlib.sha256(text.encode()).hexdigest()[:10]
