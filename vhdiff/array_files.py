"""Reading user-supplied `.npy` / `.npz` files: never unpickles, and a missing or unreadable
file is a one-line error that names it (FileNotFoundError / ValueError).

kind: what the file is, for "KIND not found: 'PATH'" (e.g. "AMASS file").
fmt: what it should hold, for "'PATH' is not a readable FMT (why)" (e.g. ".npz file").
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["load_npy_file", "load_npz_file"]


def _load(path: str | os.PathLike, kind: str, fmt: str) -> Any:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{kind} not found: {str(path)!r}")
    try:
        return np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:  # truncated, not numpy, or pickled objects
        raise ValueError(f"{str(path)!r} is not a readable {fmt} ({exc})") from None


def load_npy_file(path: str | os.PathLike, *, kind: str, fmt: str) -> np.ndarray:
    """One array: `np.load(path, allow_pickle=False)` of an `.npy` file."""
    array = _load(path, kind, fmt)
    if not isinstance(array, np.ndarray):
        array.close()
        raise ValueError(  # noqa: TRY004 (the file's content is wrong, not an argument's type)
            f"{str(Path(path))!r} is an .npz archive, not a {fmt} holding one array"
        )
    return array


def load_npz_file(path: str | os.PathLike, *, kind: str, fmt: str) -> Any:
    """Named arrays: the `NpzFile` of an `.npz` file (use it as a context manager).
    Reading a key that holds Python objects raises ValueError (pickles stay refused)."""
    archive = _load(path, kind, fmt)
    if isinstance(archive, np.ndarray):
        raise ValueError(  # noqa: TRY004 (the file's content is wrong, not an argument's type)
            f"{str(Path(path))!r} holds a single array, not a {fmt} with named arrays"
        )
    return archive
