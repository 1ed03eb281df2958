"""Atomic writers: the final name holds the old content or the new, never a partial file."""

import numpy as np
import pytest

from vhdiff.atomic_io import atomic_path, write_npz_atomic, write_text_atomic


def test_text_and_npz_land_under_their_exact_names_without_leftovers(tmp_path):
    write_text_atomic(tmp_path / "sub" / "a.txt", "one\n")
    assert (tmp_path / "sub" / "a.txt").read_text() == "one\n"
    write_npz_atomic(tmp_path / "m.npz", {"x": np.arange(3)})
    with np.load(tmp_path / "m.npz") as data:
        assert data["x"].tolist() == [0, 1, 2]
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == ["a.txt", "m.npz"]


def test_a_failed_write_keeps_the_old_file_and_removes_the_temporary(tmp_path):
    target = tmp_path / "a.txt"
    write_text_atomic(target, "old\n")
    with pytest.raises(RuntimeError, match="disk full"), atomic_path(target) as temp:
        temp.write_text("half")
        raise RuntimeError("disk full")
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]


def test_written_files_get_the_mode_a_plain_open_gives(tmp_path):
    import os

    old = os.umask(0o022)
    try:
        write_text_atomic(tmp_path / "a.txt", "x")
        (tmp_path / "plain.txt").write_text("x")
    finally:
        os.umask(old)
    mode = (tmp_path / "a.txt").stat().st_mode & 0o777
    assert mode == (tmp_path / "plain.txt").stat().st_mode & 0o777 == 0o644
