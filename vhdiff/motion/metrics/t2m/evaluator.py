"""`T2MEvaluator`: T2M's text and motion encoders with their normalisation and word vectors.

What MDM's `EvaluatorMDMWrapper` (data_loaders/humanml/networks/evaluator_wrapper.py) and
T2M's `EvaluatorModelWrapper` do, as one module: motions in the evaluator's normalisation
(raw HumanML3D vectors minus `Comp_v6_KLD01/meta/mean.npy`, over `std.npy`), zero-padded to
196 frames, go through the movement encoder (the first 259 features: the 4 foot contacts
are left out) and the motion encoder over `length // 4` steps; captions go through the
text encoder. Embeddings are 512-d and not normalised (published MM-Dist ~3, Diversity ~9.5).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from .networks import BiGRUEncoder, MovementEncoder
from .words import POS_TAGS, EncodedCaption, WordVectorizer

__all__ = ["MAX_MOTION_FRAMES", "T2M_DIM", "UNIT_LENGTH", "T2MEvaluator"]

T2M_DIM = 263  # HumanML3D's vectors (dim_pose)
MAX_MOTION_FRAMES = 196  # max_motion_length: every motion is zero-padded to this
UNIT_LENGTH = 4  # frames per motion-encoder step (the movement encoder's downsampling)
CONTACTS = 4  # trailing foot-contact features the movement encoder does not read


class T2MEvaluator(nn.Module):
    """The official evaluator (module docstring). Build it with `load_t2m_evaluator`.

    Args (keyword-only): mean / std [263] (the evaluator's normalisation), vectorizer
    (GloVe words), and the official widths (word 300, text hidden 512, movement 512,
    motion hidden 1024, embedding 512), which the released checkpoint needs as they are.
    """

    def __init__(
        self,
        *,
        mean: np.ndarray,
        std: np.ndarray,
        vectorizer: WordVectorizer,
        word_dim: int = 300,
        text_hidden: int = 512,
        movement_dim: int = 512,
        motion_hidden: int = 1024,
        embed_dim: int = 512,
    ) -> None:
        super().__init__()
        mean, std = np.asarray(mean, np.float64), np.asarray(std, np.float64)
        if mean.shape != (T2M_DIM,) or std.shape != (T2M_DIM,) or not (std > 0).all():
            raise ValueError(
                f"the T2M evaluator's mean / std must be [{T2M_DIM}] with std > 0 "
                f"(Comp_v6_KLD01/meta/mean.npy, std.npy), got {mean.shape} / {std.shape}"
            )
        if vectorizer.dim != word_dim:
            raise ValueError(
                f"GloVe vectors are {vectorizer.dim}-d; the text encoder reads {word_dim}"
            )
        self.mean, self.std, self.vectorizer = mean, std, vectorizer
        self.text_encoder = BiGRUEncoder(
            input_size=word_dim, hidden_size=text_hidden, output_size=embed_dim,
            pos_size=len(POS_TAGS),
        )  # fmt: skip
        self.movement_encoder = MovementEncoder(
            input_size=T2M_DIM - CONTACTS, hidden_size=movement_dim, output_size=movement_dim
        )
        self.motion_encoder = BiGRUEncoder(
            input_size=movement_dim, hidden_size=motion_hidden, output_size=embed_dim
        )
        self.eval()

    @property
    def device(self) -> torch.device:
        return self.motion_encoder.hidden.device

    def load_official(self, checkpoint: Mapping[str, Any], *, source: str = "finest.tar") -> None:
        """Load the three state dicts of T2M's `finest.tar` (strict: every name and shape)."""
        for key in ("text_encoder", "movement_encoder", "motion_encoder"):
            if key not in checkpoint:
                raise ValueError(
                    f"{source} has no {key!r} state dict; is it text_mot_match's finest.tar?"
                )
            module, state = getattr(self, key), checkpoint[key]
            try:
                module.load_state_dict(state, strict=True)
            except (RuntimeError, TypeError, AttributeError) as exc:
                raise ValueError(
                    f"{source}: {key} does not match T2M's network ({_mismatch(module, state)})"
                ) from exc

    def normalize(self, raw: Tensor) -> Tensor:
        """Raw HumanML3D vectors [..., 263] -> the evaluator's normalisation (same dtype)."""
        mean = torch.as_tensor(self.mean, dtype=raw.dtype, device=raw.device)
        std = torch.as_tensor(self.std, dtype=raw.dtype, device=raw.device)
        return (raw - mean) / std

    @torch.no_grad()
    def embed_motions(self, motions: Tensor, lengths: Tensor) -> Tensor:
        """Embeddings [B, 512] of motions [B, 196, 263] (evaluator-normalised, zero past
        each length) with lengths [B] (multiples of 4 in T2M's protocol, 4..196)."""
        if motions.ndim != 3 or motions.shape[-1] != T2M_DIM:
            raise ValueError(f"motions must be [B, T, {T2M_DIM}], got {tuple(motions.shape)}")
        movements = self.movement_encoder(motions.to(self.device, torch.float32)[..., :-CONTACTS])
        steps = torch.as_tensor(lengths).long() // UNIT_LENGTH
        if (steps < 1).any():
            raise ValueError(
                f"every motion needs at least {UNIT_LENGTH} frames for the T2M evaluator"
            )
        return self.motion_encoder(movements, steps)

    @torch.no_grad()
    def embed_captions(self, captions: list[EncodedCaption]) -> Tensor:
        """Embeddings [B, 512] of captions encoded by `vectorizer.encode`."""
        words = torch.from_numpy(np.stack([c.word_embs for c in captions])).to(self.device)
        pos = torch.from_numpy(np.stack([c.pos_onehot for c in captions])).to(self.device)
        lengths = torch.tensor([c.length for c in captions])
        return self.text_encoder(words, lengths, pos)


def _mismatch(module: nn.Module, state: Any) -> str:
    """The first differences between `module`'s parameters and a state dict, in words."""
    if not isinstance(state, Mapping):
        return f"a {type(state).__name__}, not a state dict"
    own = module.state_dict()
    missing = [k for k in own if k not in state][:3]
    unexpected = [k for k in state if k not in own][:3]
    shapes = [
        f"{k} {tuple(getattr(state[k], 'shape', ()))} != {tuple(v.shape)}"
        for k, v in own.items()
        if k in state and tuple(getattr(state[k], "shape", ())) != tuple(v.shape)
    ][:3]
    parts = [f"missing {missing}" if missing else "", f"unexpected {unexpected}" if unexpected else "",
             f"shapes {shapes}" if shapes else ""]  # fmt: skip
    return "; ".join(p for p in parts if p) or "values are not tensors"
