"""Real write failures for tests: a full disk and a read-only folder, as small tmpfs mounts.

Root ignores permission bits (chmod 0o555 stops nobody here), so a read-only folder that
refuses root is a read-only mount, and a full disk is a tiny tmpfs filled up. Mounting
needs CAP_SYS_ADMIN; where it is missing the tests that use these fixtures are skipped
(each failure is also tested with a monkeypatched writer, which runs everywhere).
"""

from __future__ import annotations

import subprocess

import pytest


def _mount(folder, options: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip() or done.returncode})")


def _unmount(folder) -> None:
    subprocess.run(["umount", "-l", str(folder)], capture_output=True, check=False)


@pytest.fixture()
def full_disk(tmp_path):
    """A folder on a 256 KiB file system with no byte left (a `filler` file holds them)."""
    folder = tmp_path / "full"
    _mount(folder, "size=256k,mode=0755")
    try:
        with open(folder / "filler", "wb", buffering=0) as stream:
            try:
                while True:
                    stream.write(b"\0" * 4096)
            except OSError:
                pass
        yield folder
    finally:
        _unmount(folder)


@pytest.fixture()
def read_only_dir(tmp_path):
    """A folder on a read-only file system: every write fails, for root too."""
    folder = tmp_path / "read_only"
    _mount(folder, "ro,size=64k,mode=0755")
    try:
        yield folder
    finally:
        _unmount(folder)
