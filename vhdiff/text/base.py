"""The text-encoder interface shared by every encoder, with its embedding caches.

A `TextEncoder` turns a list of prompts into

- pooled embeddings, `encode(texts) -> Tensor[B, C]`, one vector per prompt, and
- token embeddings, `encode_tokens(texts) -> (Tensor[B, L, C], BoolTensor[B, L])`, one
  vector per token with a mask (True = real token, False = padding; padding rows are 0).

Encoders are frozen: the network is in eval mode, its parameters have
`requires_grad=False` and forward passes run under `torch.no_grad()` (not inference
mode, so the embeddings can feed a model that is being trained).

Null prompt
-----------
The empty string (or a prompt of only whitespace) is the *null prompt*, the
"no condition" of classifier-free guidance. Its embedding is fixed and independent of
the weights: the pooled embedding is the zero vector [C], and the token embedding is a
single zero token (L = 1) whose mask is True, so attention over it stays finite. It is
never sent through the network and never cached. This is the MDM convention (the
condition is zeroed when dropped).

Caches
------
Each (pooled, tokens) pair computed for a prompt is kept in an in-memory LRU cache
(`cache_size` prompts; 0 disables it) and, when `cache_dir` is given, written to disk as
one safetensors file per prompt under `cache_dir/<encoder id>/<sha256 of prompt>.safetensors`.
The encoder id is derived from the encoder's kind, its configuration and a fingerprint
of its weights, so two checkpoints never share entries. Files are written atomically
(`vhdiff.atomic_io.atomic_path`: a temporary name, then renamed); a file whose stored prompt differs from the
requested one (a hash collision) or that cannot be read is ignored and recomputed.
A cached prompt returns exactly the tensor values computed the first time.
"""

from __future__ import annotations

import hashlib
import os
from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor

from vhdiff.atomic_io import atomic_path

__all__ = [
    "TextEncoder",
    "TokenEmbeddings",
    "freeze",
    "is_null_prompt",
    "validate_prompts",
    "weights_fingerprint",
]


@dataclass
class TokenEmbeddings:
    """Per-token embeddings of a batch: `tokens` [B, L, C] and `mask` [B, L] (True = real).

    Iterating gives `(tokens, mask)`, so `tokens, mask = encoder.encode_tokens(texts)` works.
    """

    tokens: Tensor
    mask: Tensor

    def __iter__(self):
        return iter((self.tokens, self.mask))


def is_null_prompt(text: str) -> bool:
    """True for the null prompt: the empty string or whitespace only."""
    return text.strip() == ""


def validate_prompts(texts: object) -> list[str]:
    """Check that `texts` is a non-empty list (or tuple) of strings and return it as a list.

    Raises ValueError naming the problem and the fix: a single string instead of a list,
    an empty list, or an element that is not a string.
    """
    if isinstance(texts, str):
        raise ValueError(  # noqa: TRY004 - the project reports bad input as ValueError
            f"prompts must be a list of strings, got a single string {texts[:40]!r}; "
            "wrap it in a list: encode([prompt])"
        )
    if not isinstance(texts, (list, tuple)):
        raise ValueError(  # noqa: TRY004
            f"prompts must be a list of strings, got {type(texts).__name__}; "
            "pass e.g. ['a person walks forward']"
        )
    if len(texts) == 0:
        raise ValueError(
            "prompts is an empty list; pass at least one prompt "
            "(use '' for the null prompt of classifier-free guidance)"
        )
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise ValueError(  # noqa: TRY004
                f"prompt {i} is a {type(text).__name__} ({text!r:.60}), not a string; "
                "pass text prompts only (convert with str(...), use '' for no prompt)"
            )
    return list(texts)


class TextEncoder(ABC):
    """Frozen text encoder with pooled and per-token outputs and embedding caches.

    Subclasses implement `_encode_batch` (the network on non-null prompts), the `dim`
    property, and `_identity` (a string that changes whenever the outputs could change).
    Subclass constructors call `_init_caches(...)` once the network is loaded.
    """

    device: torch.device

    # ---- for subclasses -------------------------------------------------------------------

    @property
    @abstractmethod
    def dim(self) -> int:
        """C, the size of the pooled embeddings."""

    @property
    def token_dim(self) -> int:
        """C', the size of the per-token embeddings (= `dim` unless a subclass says otherwise)."""
        return self.dim

    @abstractmethod
    def _identity(self) -> str:
        """A string naming the encoder kind, configuration and weights (for the disk cache)."""

    @abstractmethod
    def _encode_batch(self, texts: list[str]) -> tuple[Tensor, Tensor, Tensor]:
        """Run the network on non-null prompts.

        Returns (pooled [B, C], tokens [B, L, C], mask [B, L] bool), the mask being a
        prefix of True values per row. Called under torch.no_grad().
        """

    def _init_caches(self, *, cache_size: int, cache_dir: str | os.PathLike | None) -> None:
        if not isinstance(cache_size, int) or cache_size < 0:
            raise ValueError(
                f"cache_size must be an integer >= 0 (0 disables the memory cache), got {cache_size!r}"
            )
        self.cache_size = cache_size
        self._memory: OrderedDict[str, tuple[Tensor, Tensor]] = OrderedDict()
        self.cache_dir = None if cache_dir is None else Path(cache_dir)
        self._id_hash = hashlib.sha256(self._identity().encode()).hexdigest()[:20]

    # ---- public API ---------------------------------------------------------------------------

    @property
    def encoder_id(self) -> str:
        """Short hash of the encoder identity; the disk cache's sub-folder name."""
        return self._id_hash

    def encode(self, texts: Sequence[str]) -> Tensor:
        """Pooled embeddings of `texts`: Tensor[B, C] (float32, on `self.device`)."""
        entries = self._entries(validate_prompts(texts))
        return torch.stack([pooled for pooled, _ in entries]).to(self.device)

    def encode_tokens(self, texts: Sequence[str], *, pad_to: int | None = None) -> TokenEmbeddings:
        """Per-token embeddings of `texts`.

        Returns TokenEmbeddings(tokens [B, L, C'], mask [B, L] bool) with C' = `token_dim`
        and L the longest prompt of the batch in tokens (special tokens included), or
        `pad_to` if given (which must be >= that length). Padding rows are zero, masked False.
        """
        entries = self._entries(validate_prompts(texts))
        lengths = [tokens.shape[0] for _, tokens in entries]
        length = max(lengths)
        if pad_to is not None:
            if not isinstance(pad_to, int) or pad_to < length:
                raise ValueError(
                    f"pad_to={pad_to!r} is shorter than the longest prompt ({length} tokens); "
                    f"pass pad_to >= {length} or leave it None"
                )
            length = pad_to
        out = torch.zeros(len(entries), length, self.token_dim)
        mask = torch.zeros(len(entries), length, dtype=torch.bool)
        for i, (_, tokens) in enumerate(entries):
            out[i, : tokens.shape[0]] = tokens
            mask[i, : tokens.shape[0]] = True
        return TokenEmbeddings(out.to(self.device), mask.to(self.device))

    def null_embedding(self) -> tuple[Tensor, Tensor]:
        """The null prompt's (pooled [C], tokens [1, C']): both zero (see module docstring)."""
        return torch.zeros(self.dim), torch.zeros(1, self.token_dim)

    def clear_memory_cache(self) -> None:
        """Forget the in-memory cache (the disk cache is kept)."""
        self._memory.clear()

    def __call__(self, texts: Sequence[str]) -> Tensor:
        return self.encode(texts)

    # ---- caching ------------------------------------------------------------------------------

    def _entries(self, texts: list[str]) -> list[tuple[Tensor, Tensor]]:
        """(pooled [C], tokens [n, C]) per prompt, on the CPU, from the caches or the network."""
        found: dict[str, tuple[Tensor, Tensor]] = {}
        missing: list[str] = []
        for text in texts:
            if text in found or text in missing:
                continue
            if is_null_prompt(text):
                found[text] = self.null_embedding()
                continue
            entry = self._memory_get(text)
            if entry is None:
                entry = self._disk_get(text)
                if entry is not None:
                    self._memory_put(text, entry)
            if entry is None:
                missing.append(text)
            else:
                found[text] = entry
        if missing:
            with torch.no_grad():
                pooled, tokens, mask = self._encode_batch(missing)
            pooled = pooled.detach().float().cpu()
            tokens = tokens.detach().float().cpu()
            mask = mask.cpu()
            for i, text in enumerate(missing):
                entry = (pooled[i].clone(), tokens[i, mask[i]].clone())
                found[text] = entry
                self._memory_put(text, entry)
                self._disk_put(text, entry)
        return [found[text] for text in texts]

    def _memory_get(self, text: str) -> tuple[Tensor, Tensor] | None:
        entry = self._memory.get(text)
        if entry is not None:
            self._memory.move_to_end(text)
        return entry

    def _memory_put(self, text: str, entry: tuple[Tensor, Tensor]) -> None:
        if self.cache_size == 0:
            return
        self._memory[text] = entry
        self._memory.move_to_end(text)
        while len(self._memory) > self.cache_size:
            self._memory.popitem(last=False)

    def _disk_path(self, text: str) -> Path:
        assert self.cache_dir is not None
        name = hashlib.sha256(text.encode("utf-8")).hexdigest()
        return self.cache_dir / self._id_hash / f"{name}.safetensors"

    def _disk_get(self, text: str) -> tuple[Tensor, Tensor] | None:
        if self.cache_dir is None:
            return None
        path = self._disk_path(text)
        if not path.is_file():
            return None
        from safetensors import SafetensorError, safe_open

        try:
            with safe_open(str(path), framework="pt") as f:
                if (f.metadata() or {}).get("text") != text:
                    return None
                return f.get_tensor("pooled"), f.get_tensor("tokens")
        except (OSError, SafetensorError, KeyError):  # unreadable / truncated: recompute it
            return None

    def _disk_put(self, text: str, entry: tuple[Tensor, Tensor]) -> None:
        if self.cache_dir is None:
            return
        from safetensors.torch import save_file

        pooled, tokens = entry
        with atomic_path(self._disk_path(text)) as tmp:
            save_file(
                {"pooled": pooled.contiguous(), "tokens": tokens.contiguous()},
                str(tmp),
                metadata={"text": text, "encoder": self._identity()},
            )


def weights_fingerprint(module: torch.nn.Module, *, per_tensor: int = 4096) -> str:
    """A cheap content hash of a module's weights: sha256 over every parameter's name,
    shape and first `per_tensor` values. Two different checkpoints differ in it."""
    digest = hashlib.sha256()
    for name, tensor in module.state_dict().items():
        flat = tensor.detach().reshape(-1)[:per_tensor].float().cpu().contiguous()
        digest.update(name.encode())
        digest.update(str(tuple(tensor.shape)).encode())
        digest.update(flat.numpy().tobytes())
    return digest.hexdigest()[:16]


def freeze(module: torch.nn.Module) -> torch.nn.Module:
    """Eval mode and requires_grad=False on every parameter; returns the module."""
    module.eval()
    for parameter in module.parameters():
        parameter.requires_grad_(False)
    return module
