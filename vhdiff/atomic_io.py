"""Atomic file writes shared by the data modules: a reader sees the old file or the new one."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np


def write_npz_atomic(path: str | os.PathLike, arrays: dict[str, np.ndarray]) -> Path:
    """np.savez `arrays` to a temporary file beside `path`, then rename it into place."""
    path = Path(path)
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            np.savez(stream, **arrays)
        os.replace(temp, path)
    except BaseException:
        if os.path.exists(temp):
            os.unlink(temp)
        raise
    return path
