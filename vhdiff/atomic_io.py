"""Atomic file and folder writes: a reader sees the old file (folder) or the new one.

Every file writer goes through `atomic_path`: the content is written to a temporary file in
the same folder (so the rename never crosses file systems), then `os.replace`d onto the
final name; on any error the temporary file is removed and the old file is left untouched.
`atomic_folder` does the same for a whole folder.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = ["Staging", "atomic_folder", "atomic_path", "write_npz_atomic", "write_text_atomic"]


@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside `path`; when the block succeeds it replaces `path`.

    The temporary name keeps `path`'s suffix, so writers that choose a format from the
    suffix (imageio, matplotlib) pick the right one.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=path.suffix)
    os.close(handle)
    os.chmod(temp, _file_mode())  # mkstemp makes it private; a plain open() would not
    try:
        yield Path(temp)
        os.replace(temp, path)
    except BaseException:
        if os.path.exists(temp):
            os.unlink(temp)
        raise


def _file_mode() -> int:
    """The mode open() gives a new file: 0o666 less the process umask."""
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask


@contextmanager
def atomic_folder(path: str | os.PathLike, *, replace: bool = True) -> Iterator[Path]:
    """Yield a new temporary folder beside `path`; when the block succeeds it becomes `path`.

    replace=True: an existing `path` is swapped out and deleted. replace=False: the rename
    only succeeds onto a missing or empty `path` (OSError otherwise, e.g. when another
    process filled it first). On any error the temporary folder is removed.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.tmp-"))
    os.chmod(temp, 0o755)  # mkdtemp makes it private; the result is meant to be shared
    try:
        yield temp
        if replace and path.exists():
            old = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.old-"))
            os.replace(path, old / path.name)
            os.replace(temp, path)
            shutil.rmtree(old)
        else:
            os.replace(temp, path)
    finally:
        if temp.exists():
            shutil.rmtree(temp, ignore_errors=True)


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


class Staging:
    """Several files and folders written together: each under a temporary name beside its
    destination; `commit` renames them all into place, `discard` removes them (and the
    folders it created). As a context manager it commits when the block succeeds and
    discards on any error."""

    def __init__(self) -> None:
        self.pending: list[tuple[Path, Path]] = []  # (temporary, final)
        self.created_dirs: list[Path] = []

    def _folder(self, folder: Path) -> None:
        missing = []
        while not folder.exists():
            missing.append(folder)
            folder = folder.parent
        for path in reversed(missing):
            path.mkdir()
            self.created_dirs.append(path)

    def file(self, final: Path) -> Path:
        """A temporary file path with `final`'s suffix (writers pick formats by suffix)."""
        self._folder(final.parent)
        handle, temp = tempfile.mkstemp(
            dir=final.parent, prefix=f".{final.stem}.partial-", suffix=final.suffix
        )
        os.close(handle)
        self.pending.append((Path(temp), final))
        return Path(temp)

    def folder(self, final: Path) -> Path:
        self._folder(final.parent)
        temp = Path(tempfile.mkdtemp(dir=final.parent, prefix=f".{final.name}.partial-"))
        self.pending.append((temp, final))
        return temp

    def commit(self) -> None:
        for temp, final in self.pending:
            if temp.is_dir():
                if final.is_dir():
                    shutil.rmtree(final)
                elif final.exists():
                    raise FileExistsError(
                        f"{str(final)!r} exists and is not a folder; remove it or pick another --out"
                    )
            os.replace(temp, final)
        self.pending = []

    def discard(self) -> None:
        for temp, _ in self.pending:
            if temp.is_dir():
                shutil.rmtree(temp, ignore_errors=True)
            elif temp.exists():
                temp.unlink()
        for folder in reversed(self.created_dirs):
            try:
                folder.rmdir()
            except OSError:
                pass
        self.pending = []

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.discard()
