"""Atomic file writes shared by the data modules: a reader sees the old file or the new one.

Every writer goes through `atomic_path`: the content is written to a temporary file in the
same folder (so the rename never crosses file systems), then `os.replace`d onto the final
name; on any error the temporary file is removed and the old file is left untouched.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

__all__ = ["atomic_path", "write_npz_atomic", "write_text_atomic"]


@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside `path`; when the block succeeds it replaces `path`.

    The temporary name ends in ".tmp", so writers that choose a format from the file
    suffix (matplotlib, np.savez) must be told the format or given an open stream.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(handle)
    try:
        yield Path(temp)
        os.replace(temp, path)
    except BaseException:
        if os.path.exists(temp):
            os.unlink(temp)
        raise


def write_npz_atomic(path: str | os.PathLike, arrays: dict[str, np.ndarray]) -> Path:
    """np.savez `arrays` to a temporary file beside `path`, then rename it into place."""
    with atomic_path(path) as temp, open(temp, "wb") as stream:
        np.savez(stream, **arrays)
    return Path(path)


def write_text_atomic(path: str | os.PathLike, text: str) -> Path:
    """Write UTF-8 `text` to a temporary file beside `path`, then rename it into place."""
    with atomic_path(path) as temp:
        temp.write_text(text, encoding="utf-8")
    return Path(path)
