"""Finding and loading the T2M evaluator's released files without running pickled code.

The files, as users have them after downloading (T2M README "Pre-trained Models", or MDM's
`prepare/download_t2m_evaluators.sh` and `prepare/download_glove.sh`):

    ROOT/t2m/text_mot_match/model/finest.tar    torch.save({"text_encoder": state_dict,
                                                "movement_encoder": ..., "motion_encoder": ...,
                                                "epoch": int, ...})
    ROOT/t2m/Comp_v6_KLD01/meta/mean.npy, std.npy   the evaluator's normalisation [263]
                                                (MDM copies them to dataset/t2m_mean.npy, t2m_std.npy)
    glove/our_vab_data.npy [V, 300], our_vab_words.pkl (list of words),
          our_vab_idx.pkl (dict word -> row)

ROOT is T2M's `checkpoints/` or MDM's repository root. `finest.tar` is read with
`torch.load(weights_only=True)` (tensors and plain containers only) and the two word
pickles with `PlainDataUnpickler`, which refuses every class, so a file cannot run code.
"""

from __future__ import annotations

import os
import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from vhdiff.array_files import load_npy_file

from .evaluator import T2MEvaluator
from .words import WordVectorizer

__all__ = [
    "CHECKPOINT",
    "PlainDataUnpickler",
    "T2MFiles",
    "find_t2m_files",
    "load_plain_pickle",
    "load_t2m_evaluator",
]

CHECKPOINT = Path("t2m", "text_mot_match", "model", "finest.tar")
GLOVE_FILES = ("our_vab_data.npy", "our_vab_words.pkl", "our_vab_idx.pkl")
EVALUATORS_HELP = (
    "download T2M's HumanML3D models (text-to-motion README, 'Download models for HumanML3D', "
    "https://drive.google.com/file/d/1DSaKqWX2HlwBtVH5l7DdW96jeYUIXsOP) and unzip them into "
    "checkpoints/, or run MDM's prepare/download_t2m_evaluators.sh"
)
GLOVE_HELP = (
    "download the GloVe files with MDM's prepare/download_glove.sh "
    "(https://drive.google.com/file/d/1cmXKUT31pqd7_XpJAiWEo1K81TMYHA5n) and unzip glove/ next "
    "to checkpoints/ (or pass --glove DIR)"
)


class PlainDataUnpickler(pickle.Unpickler):
    """An unpickler for plain data (str, int, float, list, dict, tuple): it refuses every
    class and function a pickle names, so loading cannot execute code."""

    def find_class(self, module: str, name: str) -> Any:
        raise pickle.UnpicklingError(f"it names {module}.{name}, and only plain data is allowed")


def load_plain_pickle(path: str | os.PathLike) -> Any:
    """The plain-data content of a pickle file; ValueError (one line) if it needs a class."""
    try:
        with open(path, "rb") as handle:
            return PlainDataUnpickler(handle).load()
    except (pickle.UnpicklingError, EOFError, ValueError, IndexError, KeyError) as exc:
        raise ValueError(f"{str(path)!r} was refused as a plain-data pickle: {exc}") from exc


@dataclass(frozen=True)
class T2MFiles:
    """Paths of the evaluator's files: checkpoint, mean, std, glove (the folder)."""

    checkpoint: Path
    mean: Path
    std: Path
    glove: Path


def _root(directory: Path) -> Path:
    """ROOT (the folder holding t2m/) from ROOT, ROOT/t2m or ROOT/t2m/text_mot_match."""
    for up, root in enumerate((directory, directory.parent, directory.parent.parent)):
        inside = directory / Path(*CHECKPOINT.parts[up:])
        if inside.is_file() and (root / CHECKPOINT).is_file():
            return root
    up = {"t2m": 1, "text_mot_match": 2}.get(directory.name, 0)
    raise FileNotFoundError(
        f"no T2M evaluator in {str(directory)!r}: "
        f"{str(directory / Path(*CHECKPOINT.parts[up:]))!r} is missing; {EVALUATORS_HELP}"
    )


def find_t2m_files(
    directory: str | os.PathLike, *, glove: str | os.PathLike | None = None
) -> T2MFiles:
    """The files under `directory` (ROOT, ROOT/t2m or ROOT/t2m/text_mot_match; module
    docstring); FileNotFoundError naming the missing file and how to download it."""
    root = _root(Path(directory))
    pairs = [
        (
            root / "t2m" / "Comp_v6_KLD01" / "meta" / "mean.npy",
            root / "t2m" / "Comp_v6_KLD01" / "meta" / "std.npy",
        ),
        (root / "dataset" / "t2m_mean.npy", root / "dataset" / "t2m_std.npy"),
        (root / "t2m_mean.npy", root / "t2m_std.npy"),
    ]
    stats = next((pair for pair in pairs if pair[0].is_file() and pair[1].is_file()), None)
    if stats is None:
        raise FileNotFoundError(
            f"the T2M evaluator's normalisation is missing: expected {str(pairs[0][0])!r} and "
            f"std.npy beside it (or MDM's dataset/t2m_mean.npy, t2m_std.npy); {EVALUATORS_HELP}"
        )
    folders = [Path(glove)] if glove is not None else [root / "glove", root.parent / "glove"]
    for folder in folders:
        if all((folder / name).is_file() for name in GLOVE_FILES):
            return T2MFiles(root / CHECKPOINT, stats[0], stats[1], folder)
    missing = next(name for name in GLOVE_FILES if not (folders[-1] / name).is_file())
    raise FileNotFoundError(
        f"T2M's GloVe word vectors are missing: expected {str(folders[-1] / missing)!r}"
        f"{'' if glove is not None else f' (or in {str(folders[0])!r})'}; {GLOVE_HELP}"
    )


def load_word_vectorizer(folder: str | os.PathLike) -> WordVectorizer:
    """T2M's GloVe vocabulary from `folder`/our_vab_{data.npy, words.pkl, idx.pkl}."""
    folder = Path(folder)
    vectors = load_npy_file(folder / GLOVE_FILES[0], kind="GloVe vectors", fmt=".npy array")
    words = load_plain_pickle(folder / GLOVE_FILES[1])
    index = load_plain_pickle(folder / GLOVE_FILES[2])
    if not isinstance(words, (list, tuple)) or not all(isinstance(w, str) for w in words):
        raise ValueError(f"{str(folder / GLOVE_FILES[1])!r} must hold a list of words")
    if not isinstance(index, dict) or not all(isinstance(i, int) for i in index.values()):
        raise ValueError(f"{str(folder / GLOVE_FILES[2])!r} must hold a dict word -> row")
    return WordVectorizer(vectors=vectors, words=words, index=index)


def load_t2m_evaluator(
    directory: str | os.PathLike,
    *,
    glove: str | os.PathLike | None = None,
    device: str | torch.device = "cpu",
) -> T2MEvaluator:
    """The released T2M evaluator (eval mode, on `device`) from the downloaded files.

    directory: T2M's `checkpoints/` (or MDM's root, holding t2m/), or its t2m/ or
    t2m/text_mot_match/ folder. glove: the GloVe folder (default: glove/ in or next to ROOT).
    """
    files = find_t2m_files(directory, glove=glove)
    try:
        checkpoint = torch.load(files.checkpoint, map_location=device, weights_only=True)
    except Exception as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ValueError(
            f"{str(files.checkpoint)!r} could not be loaded as plain tensors "
            f"(torch.load weights_only=True): {reason}"
        ) from exc
    if not isinstance(checkpoint, dict):
        raise ValueError(  # noqa: TRY004 (the file's content is wrong, not an argument's type)
            f"{str(files.checkpoint)!r} holds a {type(checkpoint).__name__}, not a dict"
        )
    mean = load_npy_file(files.mean, kind="T2M mean", fmt=".npy array")
    std = load_npy_file(files.std, kind="T2M std", fmt=".npy array")
    evaluator = T2MEvaluator(mean=mean, std=std, vectorizer=load_word_vectorizer(files.glove))
    evaluator.load_official(checkpoint, source=str(files.checkpoint))
    return evaluator.to(device).eval()
