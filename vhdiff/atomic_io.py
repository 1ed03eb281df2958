"""Every atomic write of vhdiff: files, folders and multi-file staging.

A reader sees the old file (folder) or the new one, never half of one:

- `atomic_path(path)`: the content is written to a temporary file beside `path` (so the
  rename never crosses file systems), then `os.replace`d onto it; on any error the
  temporary file is removed and the old file is left untouched.
- `atomic_folder(path, kind=...)`: the same for a whole folder, under the replace rule.
- `Staging`: several files and folders renamed into place together, or none of them.

Temporary names. Every temporary file or folder made here is hidden and records the
process that made it: ``.NAME.partial-PID@HOST-RANDOM[.SUFFIX]`` (HOST: a short hash of
the host name). `remove_stale_partials(folder)` deletes those of processes that are no
longer alive on this host (a run killed by SIGKILL, a power cut); never those of a live
process, nor of another host sharing the folder. `Staging` calls it on every folder it
writes into, so the next run cleans up after a killed one.

The replace rule (`check_replace_folder`). A folder is replaced only when

- it is not, does not lie inside and does not contain a protected path (e.g. the
  training run being exported: replacing it, or a parent of it, would delete the run);
- it is missing, empty, or a folder vhdiff wrote, recognised by its `FolderKind` (a
  marker file such as ``pipeline.json``, or a test of its contents); replacing one of
  those may further need force=True (the commands' --force).

Anything else - a file, a link, a folder with anything vhdiff did not write - raises
FileExistsError naming the folder and the fix, before anything is written or deleted.

Write failures. A full disk, a read-only or otherwise unwritable place become an
`OutputError` (an OSError) whose message names the path and the fix (`output_error`);
torch and safetensors wrap the OSError of a full disk in their own exception types, so a
failure is also classified by the free space left where it happened. `check_writable`
probes a folder with a real write before long work starts: `os.access` is no help, root
passes it everywhere, even on a read-only disk.
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import shutil
import socket
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    from typing_extensions import Self

__all__ = [
    "FolderKind",
    "OutputError",
    "Staging",
    "atomic_folder",
    "atomic_path",
    "check_replace_folder",
    "check_writable",
    "delete_folder",
    "output_error",
    "partial_prefix",
    "pid_alive",
    "remove_stale_partials",
    "write_npz_atomic",
    "write_text_atomic",
]

PARTIAL = ".partial-"
# .NAME.partial-PID@HOST-... ; HOST is 8 hex digits (see _host_tag)
_PARTIAL_NAME = re.compile(r"^\..+\.partial-(?P<pid>\d+)@(?P<host>[0-9a-f]{8})-")
DISK_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})
NOT_WRITABLE_ERRNOS = frozenset({errno.EROFS, errno.EACCES, errno.EPERM})
# Below this much free space, a write that failed with a foreign exception type (torch's
# "enforce fail at inline_container.cc", safetensors' SafetensorError) was a full disk.
LOW_SPACE_BYTES = 1 << 20
PROBE_BYTES = 4096
# bad input and programming errors, never a disk problem however little space is left
_NOT_WRITE_FAILURES = (ValueError, TypeError, LookupError, AssertionError)


# ---- errors -----------------------------------------------------------------------------------


class OutputError(OSError):
    """A file or folder could not be written: the disk is full, the place is read-only or
    not writable. The message names the path and says what to do."""

    def __str__(self) -> str:
        return str(self.strerror)


def _free_bytes(path: Path) -> int | None:
    """Free bytes (for this user) on the file system holding `path` or its nearest parent."""
    for place in (path, *path.parents):
        try:
            stat = os.statvfs(place)
        except OSError:
            continue
        return stat.f_bavail * stat.f_frsize
    return None


def _size(count: int) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if count < 1024 or unit == "GiB":
            return f"{count:g} {unit}" if unit == "bytes" else f"{count:.1f} {unit}"
        count /= 1024
    return str(count)


def output_error(exc: BaseException, path: str | os.PathLike | None) -> OutputError | None:
    """The `OutputError` to raise for `exc`, raised while writing `path`, when it was a
    full disk or a place that cannot be written; None for any other failure.

    Call it before the partial output is removed: the free space it looks at is the
    space the failed write used up.
    """
    if isinstance(exc, OutputError):
        return exc
    if not isinstance(exc, Exception) or isinstance(exc, _NOT_WRITE_FAILURES):
        return None
    where = Path(path) if path is not None else Path(".")
    code = exc.errno if isinstance(exc, OSError) else None
    text = str(exc)
    free = _free_bytes(where)
    if code not in DISK_FULL_ERRNOS | NOT_WRITABLE_ERRNOS:
        full = "No space left on device" in text or "os error 28" in text
        code = errno.ENOSPC if full or (free is not None and free < LOW_SPACE_BYTES) else None
    if code in DISK_FULL_ERRNOS:
        left = "" if free is None else f", {_size(free)} free"
        return OutputError(
            code, f"cannot write {str(where)!r}: the disk is full{left}; free some space or "
            "write somewhere else (nothing half-written was left)",
        )  # fmt: skip
    if code in NOT_WRITABLE_ERRNOS:
        return OutputError(
            code, f"cannot write {str(where)!r}: {os.strerror(code).lower()}; write to a folder "
            "you can write to",
        )  # fmt: skip
    return None


@contextmanager
def _reporting(path: Path, cleanup: Callable[[], None]) -> Iterator[None]:
    """Run the block; on any error call `cleanup` (after classifying the error, so a full
    disk is still full when its free space is read) and raise the OutputError for it, or
    the error itself."""
    try:
        yield
    except BaseException as exc:
        error = output_error(exc, path)
        cleanup()
        if error is not None and error is not exc:
            raise error from exc
        raise


def check_writable(folder: str | os.PathLike) -> Path:
    """Raise `OutputError` unless a file can be created and written in `folder` (or, when
    it does not exist yet, in its nearest existing parent, where it would be made).

    A real probe write of PROBE_BYTES, removed again: permission bits say nothing for root,
    and only a write finds a read-only mount or a full disk. Returns `folder`.
    """
    folder = Path(folder)
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise NotADirectoryError(
            f"{str(existing)!r} is not a folder, so nothing can be written in {str(folder)!r}; "
            "choose another output place"
        )
    probe = None
    try:
        handle, probe = tempfile.mkstemp(dir=existing, prefix=partial_prefix("write-probe"))
        try:
            os.write(handle, b"\0" * PROBE_BYTES)
        finally:
            os.close(handle)
    except OSError as exc:
        raise output_error(exc, folder) or exc from None
    finally:
        if probe is not None and os.path.exists(probe):
            os.unlink(probe)
    return folder


# ---- temporary names and stale leftovers ------------------------------------------------------


def _host_tag() -> str:
    return hashlib.sha1(socket.gethostname().encode()).hexdigest()[:8]


def partial_prefix(name: str) -> str:
    """The start of a temporary name for NAME made by this process: ``.NAME.partial-PID@HOST-``."""
    return f".{name}{PARTIAL}{os.getpid()}@{_host_tag()}-"


def pid_alive(pid: int) -> bool:
    """Whether process `pid` runs on this host (this process included)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def remove_stale_partials(folder: str | os.PathLike) -> list[Path]:
    """Delete the temporary files and folders (``.NAME.partial-PID@HOST-*``) that processes
    no longer alive on this host left in `folder`; returns what was removed.

    Those of live processes (another run writing there now) and of other hosts are kept;
    so are hidden files named in any other way.
    """
    folder = Path(folder)
    removed: list[Path] = []
    try:
        entries = list(folder.iterdir())
    except OSError:
        return removed
    host = _host_tag()
    for entry in entries:
        match = _PARTIAL_NAME.match(entry.name)
        if match is None or match["host"] != host or pid_alive(int(match["pid"])):
            continue
        try:
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
        except OSError:
            continue
        removed.append(entry)
    return removed


def _fsync(path: Path) -> None:
    """fsync a file or a folder (folders where the platform allows it)."""
    try:
        handle = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(handle)
    except OSError:
        pass
    finally:
        os.close(handle)


def _fsync_tree(path: Path) -> None:
    """fsync a file, or a folder and everything in it (children before their folder)."""
    if path.is_dir():
        for child in sorted(path.rglob("*"), reverse=True):
            _fsync(child)
    _fsync(path)


def delete_folder(path: str | os.PathLike) -> None:
    """Delete a folder vhdiff wrote: renamed to a temporary name first, so a crash midway
    leaves no half-deleted folder under its real name (only a stale partial)."""
    path = Path(path)
    doomed = Path(tempfile.mkdtemp(dir=path.parent, prefix=partial_prefix(path.name)))
    os.replace(path, doomed / path.name)
    shutil.rmtree(doomed, ignore_errors=True)


# ---- the replace rule -------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class FolderKind:
    """A kind of folder vhdiff writes, recognisable on disk.

    name: what it is called in messages ("pipeline folder"); rule: what makes one ("holds
    pipeline.json"); test(folder): True for a folder of this kind.
    """

    name: str
    rule: str
    test: Callable[[Path], bool]

    @classmethod
    def with_file(cls, name: str, marker: str) -> FolderKind:
        """Folders recognised by one marker file that vhdiff writes last into them."""
        return cls(name=name, rule=f"holds {marker}", test=lambda folder: (folder / marker).is_file())


def _overlap(target: Path, guarded: Path) -> str | None:
    if target == guarded:
        return "is"
    if guarded in target.parents:
        return "lies inside"
    if target in guarded.parents:
        return "contains"
    return None


def check_replace_folder(
    target: str | os.PathLike,
    *,
    kind: FolderKind | None = None,
    force: bool = False,
    protect: Iterable[str | os.PathLike] = (),
) -> None:
    """Raise FileExistsError unless a new folder may take `target`'s place (module docstring).

    kind: how to recognise a folder vhdiff wrote (None: no existing non-empty folder is
    ever replaced). force: replace one of those (False: refuse, the fix is --force).
    protect: paths that must survive: `target` may not be one, lie inside one or contain one.
    Nothing is changed on disk.
    """
    target = Path(target)
    where = target.resolve()
    for guarded in protect:
        relation = _overlap(where, Path(guarded).resolve())
        if relation is not None:
            raise FileExistsError(
                f"{str(target)!r} {relation} {str(guarded)!r}, which must be kept; writing there "
                f"would replace it: choose an output folder outside {str(guarded)!r}"
            )
    if target.is_symlink() or target.exists() and not target.is_dir():
        raise FileExistsError(
            f"{str(target)!r} exists and is not a folder; remove it or choose another output name"
        )
    if not target.exists() or not any(target.iterdir()):
        return
    if kind is None or not kind.test(target):
        what = "" if kind is None else f" and is not a {kind.name} (one {kind.rule})"
        raise FileExistsError(
            f"{str(target)!r} is not empty{what}: vhdiff did not write it, so it is not replaced; "
            "choose another output folder (nothing was changed)"
        )
    if not force:
        raise FileExistsError(
            f"{str(target)!r} already holds a {kind.name}; pass --force to replace it, or choose "
            "another output folder"
        )


def _swap_in(temp: Path, final: Path) -> None:
    """Rename the finished folder `temp` to `final`; an existing `final` (checked by the
    caller) is renamed aside first and deleted after the swap."""
    if final.exists() and any(final.iterdir()):
        old = Path(tempfile.mkdtemp(dir=final.parent, prefix=partial_prefix(final.name)))
        os.replace(final, old / final.name)
        os.replace(temp, final)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(temp, final)


# ---- files and folders ------------------------------------------------------------------------


def _file_mode() -> int:
    """The mode open() gives a new file: 0o666 less the process umask."""
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask


def _new_file(final: Path) -> Path:
    """A new temporary file beside `final`, with its suffix (writers pick formats by it)."""
    handle, temp = tempfile.mkstemp(dir=final.parent, prefix=partial_prefix(final.stem), suffix=final.suffix)
    os.close(handle)
    os.chmod(temp, _file_mode())  # mkstemp makes it private; a plain open() would not
    return Path(temp)


def _new_folder(final: Path) -> Path:
    temp = Path(tempfile.mkdtemp(dir=final.parent, prefix=partial_prefix(final.name)))
    os.chmod(temp, 0o755)  # mkdtemp makes it private; the result is meant to be shared
    return temp


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    elif path.exists() or path.is_symlink():
        path.unlink()


@contextmanager
def _placed(path: Path, temp: Path, place: Callable[[], None], *, fsync: bool) -> Iterator[None]:
    """Run the block (which writes `temp`); then `place` it at `path`, fsynced first and its
    folder after with fsync=True. On any error `temp` is removed (disk problems: OutputError)."""
    with _reporting(path, lambda: _remove(temp)):
        yield
        if fsync:
            _fsync_tree(temp)
        place()
        if fsync:
            _fsync(path.parent)


@contextmanager
def atomic_path(path: str | os.PathLike, *, fsync: bool = False) -> Iterator[Path]:
    """Yield a temporary path beside `path`; when the block succeeds it replaces `path`.

    The temporary name keeps `path`'s suffix, so writers that choose a format from the
    suffix (imageio, matplotlib) pick the right one. fsync=True: the file is on disk
    before the rename (for state a crash must not lose). A full disk or an unwritable
    place raises `OutputError`.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = _new_file(path)
    with _placed(path, temp, lambda: os.replace(temp, path), fsync=fsync):
        yield temp


@contextmanager
def atomic_folder(
    path: str | os.PathLike,
    *,
    kind: FolderKind | None = None,
    force: bool = False,
    protect: Iterable[str | os.PathLike] = (),
    fsync: bool = False,
) -> Iterator[Path]:
    """Yield a new temporary folder beside `path`; when the block succeeds it becomes `path`.

    An existing `path` is replaced only under the replace rule (`check_replace_folder`
    with `kind`, `force` and `protect`), checked before the block runs (nothing is
    written when it fails) and again before the rename (another process may have filled
    `path` meanwhile). fsync=True: every file is on disk before the rename. On any error
    the temporary folder is removed; a full disk or an unwritable place raises `OutputError`.
    """
    path = Path(path)
    protect = tuple(protect)
    check_replace_folder(path, kind=kind, force=force, protect=protect)
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = _new_folder(path)

    def place() -> None:
        check_replace_folder(path, kind=kind, force=force, protect=protect)
        _swap_in(temp, path)

    with _placed(path, temp, place, fsync=fsync):
        yield temp


def write_npz_atomic(path: str | os.PathLike, arrays: dict[str, np.ndarray]) -> Path:
    """np.savez `arrays` to a temporary file beside `path`, then rename it into place."""
    import numpy as np

    with atomic_path(path) as temp, open(temp, "wb") as stream:
        np.savez(stream, **arrays)
    return Path(path)


def write_text_atomic(path: str | os.PathLike, text: str, *, fsync: bool = False) -> Path:
    """Write UTF-8 `text` to a temporary file beside `path`, then rename it into place."""
    with atomic_path(path, fsync=fsync) as temp:
        temp.write_text(text, encoding="utf-8")
    return Path(path)


# ---- several outputs together -----------------------------------------------------------------


@dataclass
class _Pending:
    temp: Path
    final: Path
    kind: FolderKind | None = None  # folders only: what may be replaced


class Staging:
    """Several files and folders written together: each under a temporary name beside its
    destination; `commit` renames them all into place, `discard` removes them (and the
    folders it created). As a context manager it commits when the block succeeds and
    discards on any error (a full disk or an unwritable place then raises `OutputError`).

    The first time it writes into a folder it removes the stale partials that dead
    processes left there (`remove_stale_partials`). A staged folder replaces an existing
    one only when it is empty or of the `kind` given to `folder` (`check_replace_folder`
    with force=True: the caller's own earlier output), checked when the folder is staged
    and again, for all folders, before anything is renamed.
    """

    def __init__(self) -> None:
        self.pending: list[_Pending] = []
        self.created_dirs: list[Path] = []
        self.cleaned: set[Path] = set()

    def _folder(self, folder: Path) -> None:
        missing = []
        while not folder.exists():
            missing.append(folder)
            folder = folder.parent
        for path in reversed(missing):
            path.mkdir()
            self.created_dirs.append(path)
        if folder not in self.cleaned:
            remove_stale_partials(folder)
            self.cleaned.add(folder)

    def file(self, final: Path) -> Path:
        """A temporary file path with `final`'s suffix (writers pick formats by suffix)."""
        final = Path(final)
        self._folder(final.parent)
        temp = _new_file(final)
        self.pending.append(_Pending(temp=temp, final=final))
        return temp

    def folder(self, final: Path, *, kind: FolderKind | None = None) -> Path:
        """A temporary folder that becomes `final` on commit; an existing `final` must be
        empty or a `kind` folder (FileExistsError now otherwise)."""
        final = Path(final)
        check_replace_folder(final, kind=kind, force=True)
        self._folder(final.parent)
        temp = _new_folder(final)
        self.pending.append(_Pending(temp=temp, final=final, kind=kind))
        return temp

    def check(self) -> None:
        """Raise FileExistsError if a destination may not be replaced (a file's destination is
        a folder, a folder's is not empty nor of its kind)."""
        for item in self.pending:
            if item.temp.is_dir():
                check_replace_folder(item.final, kind=item.kind, force=True)
            elif item.final.is_dir():
                raise IsADirectoryError(
                    f"{str(item.final)!r} is a folder; remove it or choose another output name"
                )

    def commit(self) -> None:
        """Rename every staged file and folder into place (all destinations checked first)."""
        with _reporting(self.where(), self.discard):
            self.check()
            for item in self.pending:
                if item.temp.is_dir():
                    _swap_in(item.temp, item.final)
                else:
                    os.replace(item.temp, item.final)
        self.pending = []

    def where(self) -> Path:
        """The destination written last (where a failure most likely happened)."""
        return self.pending[-1].final if self.pending else Path(".")

    def discard(self) -> None:
        """Remove every staged file and folder, and the folders this staging created."""
        for item in self.pending:
            _remove(item.temp)
        for folder in reversed(self.created_dirs):
            try:
                folder.rmdir()
            except OSError:
                pass
        self.pending = []

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: object, exc: BaseException | None, tb: object) -> None:
        if exc is None:
            self.commit()
            return
        error = output_error(exc, self.where())
        self.discard()
        if error is not None and error is not exc:
            raise error from exc
