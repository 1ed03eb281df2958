"""CLIP text encoder on open_clip, loading weights only from local files (never a download).

`pretrained` is either an open_clip tag ("openai", "laion2b_s34b_b79k", ...) whose weights
are looked up in the user's caches, or the path of a local checkpoint (a `.safetensors`,
`.bin` or `.pt` state dict, loaded by open_clip with `torch.load(weights_only=True)`, or a
folder holding `open_clip_model.safetensors` / `open_clip_pytorch_model.bin`).

OpenAI's own TorchScript files (`~/.cache/clip/ViT-B-32.pt`, as the `clip` package and
MDM download them) are accepted only when their SHA-256 equals the official file's (the
hash in OpenAI's download URL): TorchScript is code, so vhdiff does not load other
TorchScript archives (convert those to safetensors yourself).
Where a tag is looked up (no network is used):

- the Hugging Face hub cache (`HF_HUB_CACHE`, default `~/.cache/huggingface/hub`, or
  `weights_cache_dir`) for the tag's hub repository, e.g.
  `timm/vit_base_patch32_clip_224.openai` or `laion/CLIP-ViT-B-32-laion2B-s34B-b79K`;
- open_clip's download folder `~/.cache/clip` (or `weights_cache_dir`) for tags that
  have a plain URL.

Outputs (width C = the model's `embed_dim`, 512 for ViT-B-32):

- pooled: `model.encode_text(tokens)`, the projected feature at the end-of-text token,
  not normalised (as MDM feeds it to its motion transformer);
- tokens: the text transformer's output after its final LayerNorm, [B, L, width], for
  positions up to and including the end-of-text token. (For ViT-B-32 width = 512 = C; a
  model with width != embed_dim reports `token_dim` separately.)

Prompts longer than the context (77 tokens with start/end) are truncated with a warning.
"""

from __future__ import annotations

import hashlib
import os
import warnings
import zipfile
from pathlib import Path

import torch
from torch import Tensor

from vhdiff.extras import require

from .base import TextEncoder, freeze, weights_fingerprint

__all__ = [
    "CLIPTextEncoder",
    "is_torchscript_archive",
    "load_openai_torchscript",
    "official_torchscript_sha256",
    "resolve_clip_weights",
]

# File names open_clip writes / the hub repos hold, preferred first.
CHECKPOINT_NAMES = (
    "open_clip_model.safetensors",
    "open_clip_pytorch_model.safetensors",
    "model.safetensors",
    "open_clip_pytorch_model.bin",
    "pytorch_model.bin",
)
_CHECKPOINT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".ckpt")


def _how_to_pass_a_file(model_name: str) -> str:
    return (
        "No weights are downloaded by vhdiff. Either place the weights in one of those "
        "places (e.g. copy the hub repository into your HF cache on a machine with "
        "internet: `huggingface-cli download <repo>`), or pass a local checkpoint: "
        f"CLIPTextEncoder(model_name={model_name!r}, pretrained='/path/to/open_clip_model.safetensors')"
        " (or load_text_encoder('clip', pretrained=...))."
    )


def _checkpoint_in_folder(folder: Path) -> Path | None:
    for name in CHECKPOINT_NAMES:
        if (folder / name).is_file():
            return folder / name
    return None


def resolve_clip_weights(
    model_name: str,
    pretrained: str | os.PathLike,
    *,
    weights_cache_dir: str | os.PathLike | None = None,
) -> tuple[Path, bool]:
    """Find the local checkpoint file for `pretrained` (a tag or a path) without any download.

    Returns (path, quick_gelu), quick_gelu being what the tag was trained with (False for
    a plain path). Raises FileNotFoundError listing every place looked at and how to pass a
    local file, or ValueError for an unknown tag.
    """
    open_clip = require("open_clip", needed_for="the CLIP text encoder")

    text = str(pretrained)
    path = Path(text).expanduser()
    looks_like_path = path.exists() or os.sep in text or text.endswith(_CHECKPOINT_SUFFIXES)
    if looks_like_path:
        if path.is_dir():
            found = _checkpoint_in_folder(path)
            if found is None:
                raise FileNotFoundError(
                    f"no CLIP checkpoint in folder {path}: expected one of {', '.join(CHECKPOINT_NAMES)}; "
                    "pass the checkpoint file itself as pretrained=..."
                )
            return found, False
        if not path.is_file():
            raise FileNotFoundError(
                f"CLIP checkpoint {path} does not exist; pass an existing open_clip state-dict file "
                "(.safetensors / .bin / .pt) or a known tag such as 'openai' or 'laion2b_s34b_b79k'"
            )
        return path, False

    cfg = open_clip.get_pretrained_cfg(model_name, text)
    if not cfg:
        tags = open_clip.list_pretrained_tags_by_model(model_name)
        raise ValueError(
            f"{text!r} is neither an existing file nor a known open_clip tag for {model_name}; "
            f"known tags: {', '.join(tags) or '(none)'}; or pass the path of a local checkpoint"
        )
    quick_gelu = bool(cfg.get("quick_gelu", False))
    looked: list[str] = []
    if cfg.get("hf_hub"):
        from huggingface_hub import constants as hf_constants
        from huggingface_hub import try_to_load_from_cache

        repo_id, filename = os.path.split(cfg["hf_hub"])  # "org/repo/" or "org/repo/file"
        hub_cache = (
            str(weights_cache_dir) if weights_cache_dir is not None else hf_constants.HF_HUB_CACHE
        )
        for name in [filename] if filename else list(CHECKPOINT_NAMES):
            hit = try_to_load_from_cache(repo_id, name, cache_dir=hub_cache)
            if isinstance(hit, str) and os.path.isfile(hit):
                return Path(hit), quick_gelu
        looked.append(f"Hugging Face cache {hub_cache} (repository {repo_id})")
    if cfg.get("url"):
        clip_cache = Path(weights_cache_dir or os.path.expanduser("~/.cache/clip"))
        candidate = clip_cache / os.path.basename(cfg["url"])
        if candidate.is_file():
            return candidate, quick_gelu
        looked.append(str(candidate))
    raise FileNotFoundError(
        f"CLIP weights {model_name}/{text} are not available locally. Looked in: "
        + "; ".join(looked)
        + ". "
        + _how_to_pass_a_file(model_name)
    )


def is_torchscript_archive(path: str | os.PathLike) -> bool:
    """True for a TorchScript zip (it holds `constants.pkl` and `code/`), not a state dict."""
    if not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as archive:
        return any(name.endswith("/constants.pkl") for name in archive.namelist())


def official_torchscript_sha256(model_name: str) -> set[str]:
    """SHA-256 digests of OpenAI's TorchScript files for `model_name` (from their URLs)."""
    open_clip = require("open_clip", needed_for="the CLIP text encoder")

    digests = set()
    for tag in open_clip.list_pretrained_tags_by_model(model_name):
        url = open_clip.get_pretrained_cfg(model_name, tag).get("url", "")
        if "openaipublic" in url:
            digests.add(url.split("/")[-2])
    return digests


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


def load_openai_torchscript(path: Path, model_name: str) -> torch.nn.Module:
    """Build an open_clip CLIP (float32, QuickGELU) from OpenAI's official TorchScript file.

    Raises ValueError for any other TorchScript archive (its code is not run).
    """
    build_model_from_openai_state_dict = require("open_clip.model").build_model_from_openai_state_dict

    digest = _file_sha256(path)
    if digest not in official_torchscript_sha256(model_name):
        raise ValueError(
            f"{path} is a TorchScript archive but not OpenAI's official {model_name} file "
            f"(sha256 {digest[:12]}...); vhdiff runs no other TorchScript. Save its weights as "
            "a state dict (safetensors.torch.save_file(model.state_dict(), 'clip.safetensors')) "
            "and pass that file"
        )
    with warnings.catch_warnings():  # torch.jit is deprecated; OpenAI's files are TorchScript
        warnings.simplefilter("ignore", FutureWarning)
        state = torch.jit.load(str(path), map_location="cpu").state_dict()
    for key in ("input_resolution", "context_length", "vocab_size", "attn_mask"):
        state.pop(key, None)
    return build_model_from_openai_state_dict(state, quick_gelu=True).float()


class CLIPTextEncoder(TextEncoder):
    """open_clip's text tower as a frozen `TextEncoder` (see the module docstring).

    Args:
        model_name: open_clip architecture, e.g. "ViT-B-32" (default), "ViT-L-14".
        pretrained: a tag ("openai", "laion2b_s34b_b79k", ...) looked up in the local caches,
            the path of a local checkpoint file or folder, or None for RANDOM weights (tests
            and benchmarks only; warns).
        device: where the network runs and where embeddings are returned.
        cache_size: prompts kept in the in-memory LRU cache (0 disables it).
        cache_dir: folder of the on-disk embedding cache, or None for no disk cache.
        weights_cache_dir: where tags are looked up instead of the default caches.
        model_overrides: keyword overrides of the architecture passed to
            `open_clip.create_model` (e.g. a smaller `text_cfg`); the checkpoint must match.
    """

    def __init__(
        self,
        *,
        model_name: str = "ViT-B-32",
        pretrained: str | os.PathLike | None = "openai",
        device: str | torch.device = "cpu",
        cache_size: int = 4096,
        cache_dir: str | os.PathLike | None = None,
        weights_cache_dir: str | os.PathLike | None = None,
        model_overrides: dict | None = None,
    ) -> None:
        open_clip = require("open_clip", needed_for="the CLIP text encoder")

        if model_name not in open_clip.list_models():
            raise ValueError(
                f"unknown open_clip model {model_name!r}; choose a built-in CLIP such as "
                "'ViT-B-32', 'ViT-B-16' or 'ViT-L-14' (open_clip.list_models() lists all)"
            )
        text_cfg = open_clip.get_model_config(model_name).get("text_cfg", {})
        if "hf_model_name" in text_cfg or "hf_tokenizer_name" in text_cfg:
            raise ValueError(
                f"{model_name} uses a Hugging Face text tower, which CLIPTextEncoder does not "
                "support; use a built-in CLIP text tower such as 'ViT-B-32' or 'ViT-L-14'"
            )
        overrides = dict(model_overrides or {})
        if pretrained is None:
            warnings.warn(
                "CLIPTextEncoder(pretrained=None) uses RANDOM weights: embeddings carry no "
                "meaning (fine for tests and benchmarks only)",
                stacklevel=2,
            )
            checkpoint, quick_gelu = None, False
        else:
            checkpoint, quick_gelu = resolve_clip_weights(
                model_name, pretrained, weights_cache_dir=weights_cache_dir
            )
        if checkpoint is not None and is_torchscript_archive(checkpoint):
            if overrides:
                raise ValueError("model_overrides cannot apply to OpenAI's TorchScript file")
            model = load_openai_torchscript(checkpoint, model_name)
        else:
            model = open_clip.create_model(
                model_name,
                pretrained=None if checkpoint is None else str(checkpoint),
                force_quick_gelu=quick_gelu,
                device="cpu",
                **overrides,
            )
        if not hasattr(model, "token_embedding"):
            raise ValueError(f"{model_name} has no built-in CLIP text tower; use e.g. 'ViT-B-32'")
        model.visual = None  # the image tower is never used: free its memory
        self.device = torch.device(device)
        self.model = freeze(model).to(self.device)
        self.model_name = model_name
        self.pretrained = None if pretrained is None else str(pretrained)
        self.checkpoint = checkpoint
        context = overrides.get("text_cfg", {}).get(
            "context_length", text_cfg.get("context_length", 77)
        )
        self.context_length = int(context)
        self.tokenizer = open_clip.get_tokenizer(model_name, context_length=self.context_length)
        self._fingerprint = weights_fingerprint(self.model)
        self._init_caches(cache_size=cache_size, cache_dir=cache_dir)

    @property
    def dim(self) -> int:
        """Pooled width C (the model's embed_dim, 512 for ViT-B-32)."""
        projection = self.model.text_projection
        if projection is None:
            return self.token_dim
        return (
            projection.out_features
            if isinstance(projection, torch.nn.Linear)
            else projection.shape[1]
        )

    @property
    def token_dim(self) -> int:
        """Per-token width C' (the text transformer's width; 512 for ViT-B-32)."""
        return int(self.model.ln_final.weight.shape[0])

    def _identity(self) -> str:
        return f"clip|{self.model_name}|ctx={self.context_length}|{self._fingerprint}"

    def tokenize(self, texts: list[str]) -> Tensor:
        """Token ids [B, context_length]; warns about prompts that get truncated."""
        too_long = []
        for text in texts:
            n = len(self.tokenizer.encode(text)) + 2  # + start and end tokens
            if n > self.context_length:
                too_long.append((text, n))
        if too_long:
            text, n = too_long[0]
            warnings.warn(
                f"{len(too_long)} prompt(s) exceed CLIP's {self.context_length}-token context and are "
                f"truncated (e.g. {n} tokens: {text[:60]!r}...); shorten them to keep their ends",
                stacklevel=5,  # the caller of encode()
            )
        return self.tokenizer(texts)

    def _encode_batch(self, texts: list[str]) -> tuple[Tensor, Tensor, Tensor]:
        model = self.model
        ids = self.tokenize(texts).to(self.device)
        eot = ids.argmax(dim=-1)  # the end-of-text id is the largest id of the vocabulary
        # With CLIP's causal mask, features up to the end-of-text token do not depend on the
        # padding after it, so the batch is cut at its longest prompt: the values of the
        # full 77-token pass (up to float rounding) at a fraction of the cost.
        mask = model.attn_mask
        length = ids.shape[1] if mask is None else int(eot.max()) + 1
        ids = ids[:, :length]
        mask = None if mask is None else mask[:length, :length]
        cast = model.transformer.get_cast_dtype()
        # The steps of open_clip's CLIP.encode_text, keeping the per-token features.
        x = model.token_embedding(ids).to(cast) + model.positional_embedding[:length].to(cast)
        x = model.ln_final(model.transformer(x, attn_mask=mask))  # [B, L, width]
        pooled = x[torch.arange(x.shape[0], device=x.device), eot]
        projection = model.text_projection
        if projection is not None:
            pooled = (
                projection(pooled)
                if isinstance(projection, torch.nn.Linear)
                else pooled @ projection
            )
        positions = torch.arange(length, device=ids.device)
        return pooled, x, positions[None, :] <= eot[:, None]
