"""Atomic writers: the final name holds the old content or the new, never a partial file."""

import errno
import os
import signal
import subprocess
import sys

import numpy as np
import pytest

from vhdiff.atomic_io import (
    FolderKind,
    OutputError,
    Staging,
    atomic_folder,
    atomic_path,
    check_replace_folder,
    check_writable,
    partial_prefix,
    remove_stale_partials,
    write_npz_atomic,
    write_text_atomic,
)


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
    old = os.umask(0o022)
    try:
        write_text_atomic(tmp_path / "a.txt", "x")
        (tmp_path / "plain.txt").write_text("x")
    finally:
        os.umask(old)
    mode = (tmp_path / "a.txt").stat().st_mode & 0o777
    assert mode == (tmp_path / "plain.txt").stat().st_mode & 0o777 == 0o644


# ---- the replace rule -------------------------------------------------------------------------

KIND = FolderKind.with_file("pipeline folder", "pipeline.json")


def tree(folder) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def make_tree(tmp_path):
    """run/checkpoints/step_1/weights, other/ours/pipeline.json, mine/notes.txt, a.txt."""
    for rel, text in [("run/checkpoints/step_1/weights", "w"), ("ours/pipeline.json", "{}"),
                      ("ours/model/m", "m"), ("mine/notes.txt", "keep me"), ("a.txt", "file")]:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    return tmp_path / "run"


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("run", "'{t}/run' is '{t}/run', which must be kept"),
        ("run/checkpoints", "lies inside '{t}/run'"),
        ("run/new", "lies inside '{t}/run'"),
        (".", "contains '{t}/run'"),
        ("mine", "is not empty and is not a pipeline folder (one holds pipeline.json): vhdiff did not write it"),
        ("a.txt", "exists and is not a folder"),
        ("ours", "already holds a pipeline folder; pass --force to replace it"),
    ],
)
def test_replace_rule_refuses_and_changes_nothing(tmp_path, target, message):
    run = make_tree(tmp_path)
    before = tree(tmp_path)
    target_path = tmp_path / target if target != "." else tmp_path
    with pytest.raises(FileExistsError) as info:
        check_replace_folder(target_path, kind=KIND, protect=[run])
    assert message.replace("{t}", str(tmp_path)) in str(info.value).replace(f"{tmp_path}/.'", f"{tmp_path}'")
    entered = []
    with pytest.raises(FileExistsError), atomic_folder(target_path, kind=KIND, protect=[run]) as temp:
        entered.append(temp)  # never reached: the rule is checked before the block runs
    assert entered == [] and tree(tmp_path) == before
    assert not [p for p in tmp_path.rglob(".*partial-*")]


def test_replace_rule_allows_new_empty_and_ours_with_force(tmp_path):
    run = make_tree(tmp_path)
    check_replace_folder(tmp_path / "new", kind=KIND, protect=[run])
    (tmp_path / "empty").mkdir()
    check_replace_folder(tmp_path / "empty", kind=KIND, protect=[run])
    with atomic_folder(tmp_path / "ours", kind=KIND, force=True, protect=[run]) as temp:
        (temp / "pipeline.json").write_text('{"new": 1}')
    assert tree(tmp_path / "ours") == {"pipeline.json": b'{"new": 1}'}
    assert tree(tmp_path / "mine") == {"notes.txt": b"keep me"} and (run / "checkpoints/step_1/weights").is_file()
    # force never replaces a folder vhdiff did not write
    with pytest.raises(FileExistsError, match="vhdiff did not write it"):
        check_replace_folder(tmp_path / "mine", kind=KIND, force=True)
    # a link is not a folder we wrote, even when it points at one
    (tmp_path / "link").symlink_to(tmp_path / "ours")
    with pytest.raises(FileExistsError, match="is not a folder"):
        check_replace_folder(tmp_path / "link", kind=KIND, force=True)


def test_staging_checks_every_folder_before_renaming_anything(tmp_path):
    kind = FolderKind(name="mesh sequence folder", rule="holds only w_NNNNN.obj files",
                      test=lambda f: all(p.name.startswith("w_") for p in f.iterdir()))
    staging = Staging()
    (staging.file(tmp_path / "w.npz")).write_bytes(b"new")
    folder = staging.folder(tmp_path / "w_obj", kind=kind)
    (folder / "w_00000.obj").write_text("v 0 0 0\n")
    (tmp_path / "w_obj").mkdir()
    (tmp_path / "w_obj" / "notes.txt").write_text("the user's")  # appears after staging
    with pytest.raises(FileExistsError, match="is not a mesh sequence folder"):
        staging.commit()
    assert tree(tmp_path) == {"w_obj/notes.txt": b"the user's"}  # w.npz was not renamed either


# ---- stale partial files ----------------------------------------------------------------------


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_stale_partials_of_dead_processes_are_removed_only(tmp_path):
    dead = dead_pid()
    own = partial_prefix("walk")  # this live process
    stale = own.replace(f"-{os.getpid()}@", f"-{dead}@")
    other_host = stale.replace("@", "@0").replace("@0", "@", 1)[:-1]  # malformed host: kept
    names = {
        f"{stale}abc.mp4": "stale file", f"{own}abc.npz": "live file", ".walk.partial-abc.bvh": "old style",
        f".walk.partial-{dead}@ffffffff-x.npz": "another host", "walk.mp4": "output", other_host + "x": "odd",
    }
    for name, text in names.items():
        (tmp_path / name).write_text(text)
    (tmp_path / f"{stale}dir").mkdir()
    (tmp_path / f"{stale}dir" / "w_00000.obj").write_text("v")
    removed = remove_stale_partials(tmp_path)
    assert sorted(p.name for p in removed) == sorted([f"{stale}abc.mp4", f"{stale}dir"])
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(n for n in names if not n.startswith(stale))


def test_the_next_staging_removes_what_a_sigkilled_one_left(tmp_path):
    """A process killed (SIGKILL) while its outputs are staged leaves hidden partial files;
    the next Staging that writes into the same folder removes them, and a live one's stay."""
    script = (
        "import sys, time; from pathlib import Path; from vhdiff.atomic_io import Staging\n"
        "s = Staging(); s.file(Path(sys.argv[1]) / 'a.npz').write_bytes(b'half')\n"
        "s.folder(Path(sys.argv[1]) / 'a_obj'); print('staged', flush=True); time.sleep(60)\n"
    )
    child = subprocess.Popen([sys.executable, "-c", script, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline() == "staged\n"
        live = Staging()
        live.file(tmp_path / "b.npz")  # while the child lives, its partials stay
        assert len([p for p in tmp_path.iterdir() if f"partial-{child.pid}@" in p.name]) == 2
        live.discard()
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    assert len(list(tmp_path.iterdir())) == 2  # what the killed process left
    with Staging() as staging:
        staging.file(tmp_path / "c.npz").write_bytes(b"c")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.npz"]


# ---- write failures ---------------------------------------------------------------------------


def test_a_full_disk_is_an_output_error_naming_the_file(tmp_path):
    target = tmp_path / "a.txt"
    write_text_atomic(target, "old\n")
    with pytest.raises(OutputError) as info, atomic_path(target) as temp:
        temp.write_text("half")
        raise OSError(errno.ENOSPC, "No space left on device")
    assert f"cannot write {str(target)!r}: the disk is full" in str(info.value)
    assert "free some space or write somewhere else" in str(info.value)
    assert target.read_text() == "old\n" and [p.name for p in tmp_path.iterdir()] == ["a.txt"]


def test_a_foreign_error_on_a_full_disk_is_an_output_error(full_disk):
    """torch.save on a full disk raises RuntimeError ("enforce fail at inline_container.cc"):
    classified by the free space left, and its partial file removed."""
    import torch

    with pytest.raises(OutputError, match="the disk is full"), atomic_path(full_disk / "state.pt") as temp:
        torch.save({"x": torch.zeros(100_000)}, temp)
    assert [p.name for p in full_disk.iterdir()] == ["filler"]
    with pytest.raises(OutputError, match="the disk is full"):
        check_writable(full_disk / "new" / "folder")


def test_check_writable_probes_with_a_real_write(tmp_path, monkeypatch):
    assert check_writable(tmp_path / "not" / "yet") == tmp_path / "not" / "yet"
    assert list(tmp_path.iterdir()) == []  # the probe is gone
    with pytest.raises(NotADirectoryError, match="is not a folder"):
        (tmp_path / "file").write_text("x")
        check_writable(tmp_path / "file" / "out")

    real_write = os.write

    def read_only(handle, data):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr("vhdiff.atomic_io.os.write", read_only)
    with pytest.raises(OutputError, match="read-only file system; write to a folder you can write to"):
        check_writable(tmp_path)
    monkeypatch.setattr("vhdiff.atomic_io.os.write", real_write)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


def test_check_writable_on_a_read_only_mount(read_only_dir):
    """A real failure that root cannot write past: the probe write finds the read-only disk."""
    with pytest.raises(OutputError, match="read-only file system"):
        check_writable(read_only_dir / "clips")


def test_check_writable_on_a_folder_without_write_permission(tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root writes into 0o555 folders (the read-only mount test covers root)")
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o555)
    with pytest.raises(OutputError, match="permission denied"):
        check_writable(locked)
