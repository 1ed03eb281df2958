"""A folder's tables of caption embeddings, computed once per text encoder and reused.

Training a text-conditional model looks every caption's embedding up in a table under
``FOLDER/text_embeddings/`` instead of running the text encoder each step; a table grows
when new captions appear (it is rewritten atomically). Two kinds:

- pooled (`caption_embeddings`): ``<encoder>.safetensors``, fp32 [N, C], one vector a caption;
- tokens (`caption_tokens`, for cross-attention): ``<encoder>.tokens.safetensors``, fp16
  [N, L, C'] padded to the longest caption, with each caption's token count.

The caption texts are kept in each file's metadata. Delete the files after changing the
encoder's weights.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from vhdiff.atomic_io import atomic_path

__all__ = ["EMBEDDINGS_DIR", "CaptionTokens", "caption_embeddings", "caption_tokens"]

EMBEDDINGS_DIR = "text_embeddings"
ENCODE_CHUNK = 256  # captions per encoder call when a table grows


def caption_embeddings(
    root: str | os.PathLike, captions: list[str], *, encoder: str, encoder_params: dict[str, Any] | None = None,
) -> dict[str, Tensor]:
    """Pooled embeddings [C] (float32) of every caption, from ROOT/text_embeddings/<encoder>.safetensors.

    Captions missing from the table are encoded with `vhdiff.text.load_text_encoder(encoder,
    **encoder_params)` and the table is rewritten atomically; when every caption is found
    the encoder is not loaded at all.
    """

    def encode(text_encoder: Any, chunk: list[str]) -> list[dict[str, Tensor]]:
        out = text_encoder.encode(chunk).float().cpu()
        return [{"embeddings": out[i]} for i in range(len(chunk))]

    table = _table(root, captions, encoder=encoder, params=encoder_params, kind="", encode=encode)
    return {text: row["embeddings"] for text, row in table.items()}


@dataclass
class CaptionTokens:
    """Token embeddings of a set of captions: `lookup(captions)` batches them.

    index: caption -> row; tokens: fp16 [N, L, C'] (zero past each caption's end);
    lengths: long [N], each caption's token count.
    """

    index: dict[str, int]
    tokens: Tensor
    lengths: Tensor

    def lookup(self, captions: Sequence[str]) -> tuple[Tensor, Tensor]:
        """(tokens float32 [B, L_b, C'], mask bool [B, L_b]) for `captions`, L_b the longest."""
        missing = [c for c in captions if c not in self.index]
        if missing:
            raise KeyError(f"caption {missing[0]!r} is not in the token table; rebuild it with caption_tokens")
        rows = torch.tensor([self.index[c] for c in captions], dtype=torch.long)
        lengths = self.lengths[rows]
        width = int(lengths.max())
        mask = torch.arange(width)[None, :] < lengths[:, None]
        return self.tokens[rows, :width].float(), mask


def caption_tokens(
    root: str | os.PathLike, captions: list[str], *, encoder: str, encoder_params: dict[str, Any] | None = None,
) -> CaptionTokens:
    """Token embeddings of every caption (the encoder's `encode_tokens`), from
    ROOT/text_embeddings/<encoder>.tokens.safetensors, grown like `caption_embeddings`."""

    def encode(text_encoder: Any, chunk: list[str]) -> list[dict[str, Tensor]]:
        tokens, mask = text_encoder.encode_tokens(chunk)
        counts = mask.sum(dim=1).tolist()
        return [{"tokens": tokens[i, : counts[i]].half().cpu()} for i in range(len(chunk))]

    table = _table(root, captions, encoder=encoder, params=encoder_params, kind=".tokens", encode=encode)
    texts = sorted(table)
    lengths = torch.tensor([table[t]["tokens"].shape[0] for t in texts], dtype=torch.long)
    dim = next(iter(table.values()))["tokens"].shape[1] if table else 0
    tokens = torch.zeros(len(texts), int(lengths.max()) if texts else 0, dim, dtype=torch.float16)
    for i, text in enumerate(texts):
        tokens[i, : lengths[i]] = table[text]["tokens"]
    return CaptionTokens(index={t: i for i, t in enumerate(texts)}, tokens=tokens, lengths=lengths)


# ---------------------------------------------------------------------- the files
Encode = Callable[[Any, list[str]], list[dict[str, Tensor]]]


def _table(
    root: str | os.PathLike, captions: list[str], *, encoder: str, params: dict[str, Any] | None,
    kind: str, encode: Encode,
) -> dict[str, dict[str, Tensor]]:
    """caption -> its row ({name: tensor}) for every caption, read from the table file of
    `kind` and grown (encoded, rewritten) when captions are missing."""
    params = dict(params or {})
    tag = encoder if not params else f"{encoder}-{_short_hash(json.dumps(params, sort_keys=True))}"
    path = Path(root) / EMBEDDINGS_DIR / f"{tag}{kind}.safetensors"
    table = _read_rows(path)
    missing = sorted({c for c in captions if c not in table})
    if missing:
        from vhdiff.text import load_text_encoder

        text_encoder = load_text_encoder(encoder, **params)
        for start in range(0, len(missing), ENCODE_CHUNK):
            chunk = missing[start:start + ENCODE_CHUNK]
            with torch.no_grad():
                table.update(zip(chunk, encode(text_encoder, chunk), strict=True))
        _write_rows(path, table, metadata={"encoder": encoder, "params": json.dumps(params)})
    return table


def _read_rows(path: Path) -> dict[str, dict[str, Tensor]]:
    """A table file's rows: each tensor is stored concatenated along dim 0, split by the
    per-row lengths in the metadata (1 each for pooled rows). Unreadable: empty."""
    from safetensors import safe_open

    if not path.is_file():
        return {}
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
            texts = json.loads(meta.get("texts", "[]"))
            counts = json.loads(meta.get("counts", "null")) or [1] * len(texts)
            tensors = {name: f.get_tensor(name) for name in f.keys()}  # noqa: SIM118
    except (OSError, ValueError, json.JSONDecodeError):
        return {}
    rows: dict[str, dict[str, Tensor]] = {text: {} for text in texts}
    for name, stacked in tensors.items():
        if stacked.shape[0] != sum(counts) or len(counts) != len(texts):
            return {}
        for text, part in zip(texts, stacked.split(counts), strict=True):
            rows[text][name] = part[0] if name == "embeddings" else part
    return rows


def _write_rows(path: Path, table: dict[str, dict[str, Tensor]], *, metadata: dict[str, str]) -> None:
    from safetensors.torch import save_file

    texts = sorted(table)
    names = sorted(table[texts[0]])
    parts = {name: [table[t][name] for t in texts] for name in names}
    counts = [1 if p.dim() == 1 else p.shape[0] for p in parts[names[0]]]
    stacked = {
        name: torch.stack(rows) if rows[0].dim() == 1 else torch.cat(rows) for name, rows in parts.items()
    }
    meta = dict(metadata, texts=json.dumps(texts), counts=json.dumps(counts))
    with atomic_path(path) as tmp:
        save_file({k: v.contiguous() for k, v in stacked.items()}, str(tmp), metadata=meta)


def _short_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:10]
