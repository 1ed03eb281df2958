"""`vhdiff prep human-images`: a tiny set end to end, one-line errors that write nothing."""

from __future__ import annotations

import json

import pytest

from vhdiff.cli import main


def error_of(argv, capsys) -> str:
    assert main(["prep", "human-images", *argv]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("vhdiff prep: error: ")
    return lines[0]


def test_writes_a_tiny_set(tmp_path, capsys):
    out = tmp_path / "humans"
    assert (
        main(["prep", "human-images", str(out), "--num", "3", "--size", "32", "--seed", "5"]) == 0
    )
    printed = capsys.readouterr().out
    assert "wrote 3 images of 32x32" in printed and "images/s" in printed
    description = json.loads((out / "dataset.json").read_text())
    assert (description["num"], description["size"], description["seed"]) == (3, 32, 5)
    assert len(list((out / "images").iterdir())) == 3


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--size", "48"], "--size must be one of 32, 64, got 48"),
        (["--num", "0"], "--num must be a whole number between 1 and"),
        (["--num", "-5"], "--num must be a whole number between 1 and"),
    ],
)
def test_bad_options(tmp_path, capsys, options, message):
    out = tmp_path / "humans"
    assert message in error_of([str(out), *options], capsys)
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


def test_unwritable_out_under_a_file(tmp_path, capsys):
    (tmp_path / "file.txt").write_text("x")
    line = error_of([str(tmp_path / "file.txt" / "humans"), "--num", "1"], capsys)
    assert "is not a folder" in line
    assert [p.name for p in tmp_path.iterdir()] == ["file.txt"]


def test_read_only_out(read_only_dir, capsys):
    line = error_of([str(read_only_dir / "humans"), "--num", "1"], capsys)
    assert "cannot write" in line and "read-only" in line


def test_foreign_folder_is_kept(tmp_path, capsys):
    out = tmp_path / "notes"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    assert "vhdiff did not write it" in error_of([str(out), "--num", "1"], capsys)
    assert [p.name for p in out.iterdir()] == ["keep.txt"]
