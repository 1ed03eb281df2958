"""Reading user-supplied `.npy` / `.npz` files: never unpickles, and a missing or unreadable
file is a one-line error that names it (FileNotFoundError / ValueError).

kind: what the file is, for "KIND not found: 'PATH'" (e.g. "AMASS file").
fmt: what it should hold, for "'PATH' is not a readable FMT (why)" (e.g. ".npz file").
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["load_npy_file", "load_npz_file"]


NUMPY_MAGIC = (b"PK\x03\x04", b"PK\x05\x06", b"\x93NUMPY")  # .npz (a zip, or an empty one), .npy


def _what_it_is(head: bytes) -> str:
    """A guess at what a file that is not NumPy's holds, from its first bytes."""
    if not head:
        return "an empty file"
    if head.startswith((b"\x80", b"(dp", b"ccopy_reg")):
        return "a Python pickle (not loaded: unpickling can run code)"
    text = head.decode("utf-8", errors="replace")  # 64 bytes may end inside a character
    if "\x00" in text or text.count("\ufffd") > 1:
        return "binary data of another format"
    if text.lstrip().upper().startswith("HIERARCHY"):
        return "a BVH motion file (text)"
    return "a text file"


def _load(path: str | os.PathLike, kind: str, fmt: str) -> Any:
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"{kind} {str(path)!r} is a folder; name a {fmt}")
    if not path.exists():
        raise FileNotFoundError(f"{kind} not found: {str(path)!r}")
    with open(path, "rb") as stream:
        head = stream.read(64)
    if not head.startswith(NUMPY_MAGIC):  # np.load would take it for a pickle and refuse that
        raise ValueError(
            f"{str(path)!r} is not a readable {fmt}: it is {_what_it_is(head)}; expected a NumPy "
            ".npz / .npy file"
        )
    try:
        return np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:  # truncated, pickles inside
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
