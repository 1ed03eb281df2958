"""T2M's word features: GloVe vectors (300) + a 15-tag part-of-speech one-hot per token.

Our own code of what EricGuo5513/text-to-motion `utils/word_vectorizer.py` (`WordVectorizer`,
`POS_enumerator`, `VIP_dict`) and the caption handling of its `Text2MotionDatasetV2` do:

- a token is HumanML3D's ``word/POS`` (the second field of a ``texts/ID.txt`` line, made by
  spaCy when the dataset was built, so no tagger is needed here);
- a word in the vocabulary gets its GloVe vector and the one-hot of its POS, except that a
  word of one of the five VIP lists (locations, body parts, objects, actions, descriptions)
  gets the VIP tag instead; an unknown POS is OTHER; a word not in the vocabulary gets the
  vector of ``unk`` and OTHER;
- a caption keeps its first 20 tokens, is wrapped in ``sos/OTHER`` ... ``eos/OTHER`` (its
  length counts both) and is padded with ``unk/OTHER`` to 22 tokens.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["MAX_TEXT_TOKENS", "POS_TAGS", "VIP_WORDS", "EncodedCaption", "WordVectorizer"]

MAX_TEXT_TOKENS = 20  # T2M's max_text_len; a caption is at most 22 tokens with sos / eos
POS_TAGS = (
    "VERB", "NOUN", "DET", "ADP", "NUM", "AUX", "PRON", "ADJ", "ADV",
    "Loc_VIP", "Body_VIP", "Obj_VIP", "Act_VIP", "Desc_VIP", "OTHER",
)  # fmt: skip
VIP_WORDS: dict[str, frozenset[str]] = {
    "Loc_VIP": frozenset(
        [
            "left",
            "right",
            "clockwise",
            "counterclockwise",
            "anticlockwise",
            "forward",
            "back",
            "backward",
            "up",
            "down",
            "straight",
            "curve",
        ]
    ),
    "Body_VIP": frozenset(
        [
            "arm",
            "chin",
            "foot",
            "feet",
            "face",
            "hand",
            "mouth",
            "leg",
            "waist",
            "eye",
            "knee",
            "shoulder",
            "thigh",
        ]
    ),
    "Obj_VIP": frozenset(
        [
            "stair",
            "dumbbell",
            "chair",
            "window",
            "floor",
            "car",
            "ball",
            "handrail",
            "baseball",
            "basketball",
        ]
    ),
    "Act_VIP": frozenset(
        [
            "walk",
            "run",
            "swing",
            "pick",
            "bring",
            "kick",
            "put",
            "squat",
            "throw",
            "hop",
            "dance",
            "jump",
            "turn",
            "stumble",
            "stop",
            "sit",
            "lift",
            "lower",
            "raise",
            "wash",
            "stand",
            "kneel",
            "stroll",
            "rub",
            "bend",
            "balance",
            "flap",
            "jog",
            "shuffle",
            "lean",
            "rotate",
            "spin",
            "spread",
            "climb",
        ]
    ),
    "Desc_VIP": frozenset(
        [
            "slowly",
            "carefully",
            "fast",
            "careful",
            "slow",
            "quickly",
            "happy",
            "angry",
            "sad",
            "happily",
            "angrily",
            "sadly",
        ]
    ),
}
_TAG_INDEX = {tag: i for i, tag in enumerate(POS_TAGS)}


@dataclass
class EncodedCaption:
    """One caption for the text encoder: word_embs [22, 300], pos_onehot [22, 15] (float32),
    length (tokens read, sos and eos included, 3..22)."""

    word_embs: np.ndarray
    pos_onehot: np.ndarray
    length: int


class WordVectorizer:
    """GloVe lookup over T2M's vocabulary (`our_vab_*` files; see `files.load_word_vectorizer`).

    vectors: [V, 300]; words: the vocabulary; index: word -> row of `vectors`. The
    vocabulary must hold ``unk`` (the vector of unknown words and of padding).
    """

    def __init__(
        self, *, vectors: np.ndarray, words: Sequence[str], index: Mapping[str, int]
    ) -> None:
        vectors = np.asarray(vectors, dtype=np.float32)
        if vectors.ndim != 2:
            raise ValueError(f"GloVe vectors must be [V, 300], got {vectors.shape}")
        missing = [w for w in words if w not in index]
        if missing:
            raise ValueError(f"{len(missing)} vocabulary words have no index, e.g. {missing[0]!r}")
        if "unk" not in words:
            raise ValueError("the GloVe vocabulary has no 'unk' word (T2M's our_vab files do)")
        self.dim = vectors.shape[1]
        self._vectors = {w: vectors[int(index[w])] for w in words}

    def __len__(self) -> int:
        return len(self._vectors)

    def _onehot(self, tag: str) -> np.ndarray:
        out = np.zeros(len(POS_TAGS), dtype=np.float32)
        out[_TAG_INDEX.get(tag, _TAG_INDEX["OTHER"])] = 1.0
        return out

    def token(self, token: str) -> tuple[np.ndarray, np.ndarray]:
        """(GloVe vector [300], POS one-hot [15]) of one ``word/POS`` token."""
        word, _, tag = token.rpartition("/")
        if word not in self._vectors:
            return self._vectors["unk"], self._onehot("OTHER")
        vip = next((name for name, group in VIP_WORDS.items() if word in group), None)
        return self._vectors[word], self._onehot(vip or tag)

    def encode(self, tokens: Sequence[str]) -> EncodedCaption:
        """The padded caption of ``word/POS`` tokens (module docstring)."""
        kept = ["sos/OTHER", *list(tokens)[:MAX_TEXT_TOKENS], "eos/OTHER"]
        padded = kept + ["unk/OTHER"] * (MAX_TEXT_TOKENS + 2 - len(kept))
        pairs = [self.token(t) for t in padded]
        return EncodedCaption(
            word_embs=np.stack([p[0] for p in pairs]),
            pos_onehot=np.stack([p[1] for p in pairs]),
            length=len(kept),
        )
