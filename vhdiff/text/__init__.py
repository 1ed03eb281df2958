"""Text encoders: prompts -> pooled [B, C] and per-token [B, L, C] embeddings.

    from vhdiff.text import load_text_encoder
    encoder = load_text_encoder("minilm")                              # offline, ships in a package
    encoder = load_text_encoder("clip", pretrained="openai")           # from the local caches
    encoder = load_text_encoder("clip", pretrained="/ckpt/open_clip_model.safetensors")
    emb = encoder.encode(["a person walks forward", ""])               # "" = the null prompt
    tokens, mask = encoder.encode_tokens(["a person walks forward"])

Encoders import open_clip / tokenizers only when loaded; importing this package is light.
See `vhdiff.text.base` for the interface, the null prompt and the caches.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from .base import TextEncoder, TokenEmbeddings

if TYPE_CHECKING:
    from .clip import CLIPTextEncoder
    from .minilm import MiniLMTextEncoder

__all__ = [
    "ENCODERS",
    "CLIPTextEncoder",
    "MiniLMTextEncoder",
    "TextEncoder",
    "TokenEmbeddings",
    "load_text_encoder",
]

# name -> (module, class). Add an encoder by adding a line here.
ENCODERS: dict[str, tuple[str, str]] = {
    "clip": ("vhdiff.text.clip", "CLIPTextEncoder"),
    "minilm": ("vhdiff.text.minilm", "MiniLMTextEncoder"),
}


def _encoder_class(name: str) -> type[TextEncoder]:
    module, cls = ENCODERS[name]
    return getattr(importlib.import_module(module), cls)


def load_text_encoder(name: str, **kwargs) -> TextEncoder:
    """Build the text encoder registered as `name` ("clip" or "minilm") with its keyword options.

    Example: load_text_encoder("clip", pretrained="openai", device="cuda", cache_dir="~/.cache/vhdiff").
    """
    if not isinstance(name, str) or name.lower() not in ENCODERS:
        raise ValueError(f"unknown text encoder {name!r}; choose one of: {', '.join(ENCODERS)}")
    return _encoder_class(name.lower())(**kwargs)


def __getattr__(attr: str):
    for name, (_, cls) in ENCODERS.items():
        if attr == cls:
            return _encoder_class(name)
    raise AttributeError(f"module {__name__!r} has no attribute {attr!r}")
