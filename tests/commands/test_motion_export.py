"""`vhdiff motion-export RUN OUT`: it refuses (one line, exit 2, nothing touched) any OUT it
would destroy - RUN itself, a folder inside RUN or holding RUN, a non-empty folder that is
not a pipeline folder - and replaces an earlier pipeline folder only with --force.

The run is a folder laid out like `vhdiff train`'s, and `MotionPipeline.from_run` is
replaced by the tiny pipeline, so these tests check what is written where (the real
train -> export chain is tests/motion/training/test_setup.py)."""

from __future__ import annotations

import json

import pytest

from vhdiff.cli import main
from vhdiff.motion.pipeline import MotionPipeline


def tree(folder) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture()
def run(tmp_path, tiny_pipeline_dir, monkeypatch):
    """tmp/runs/run: config.yaml, metrics.jsonl, checkpoints/step_2 (weights, meta.json);
    beside it tmp/runs/notes.txt and another run. from_run gives the tiny pipeline."""
    root = tmp_path / "runs" / "run"
    for rel, text in [("config.yaml", "trainer: {}\n"), ("metrics.jsonl", '{"step": 2}\n'),
                      ("checkpoints/step_00000002/model/model.safetensors", "weights"),
                      ("checkpoints/step_00000002/meta.json", '{"step": 2}'),
                      ("../notes.txt", "my notes"), ("../other/checkpoints/step_00000001/meta.json", "{}")]:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)

    def from_run(path, **kwargs):
        pipe = MotionPipeline.from_pretrained(tiny_pipeline_dir)
        pipe.info = {"run": str(path), "step": 2, "weights": "ema"}
        return pipe

    monkeypatch.setattr(MotionPipeline, "from_run", staticmethod(from_run))
    return root


def refused(argv, capsys) -> str:
    assert main(["motion-export", *map(str, argv)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith("vhdiff motion-export: error: ")
    assert "Traceback" not in err
    return err


def test_export_into_run_its_parent_or_any_non_empty_folder_keeps_every_file(run, tmp_path, capsys):
    """These once deleted OUT and exited 0: the run and its checkpoints, a parent folder
    holding other runs and files, any unrelated folder."""
    mine = tmp_path / "photos"
    mine.mkdir()
    (mine / "holiday.jpg").write_bytes(b"\xff\xd8 a picture")
    before = tree(tmp_path)
    assert "is '" in refused([run, run], capsys) and "which must be kept" in refused([run, run], capsys)
    assert "contains" in refused([run, run.parent], capsys)
    assert "contains" in refused([run, tmp_path], capsys)
    assert "lies inside" in refused([run, run / "checkpoints"], capsys)
    assert "lies inside" in refused([run, run / "export"], capsys)
    step = run / "checkpoints" / "step_00000002"
    assert "contains" in refused([step, run], capsys)  # RUN may be one step of the run
    err = refused([run, mine], capsys)
    assert "is not empty and is not a pipeline folder (one holds pipeline.json)" in err
    assert "vhdiff did not write it" in err
    err = refused([run, mine, "--force"], capsys)  # --force replaces pipeline folders only
    assert "vhdiff did not write it" in err
    (tmp_path / "file").write_text("x")
    before["file"] = b"x"
    assert "exists and is not a folder" in refused([run, tmp_path / "file"], capsys)
    assert tree(tmp_path) == before
    assert not [p for p in tmp_path.rglob(".*partial-*")]


def test_an_earlier_pipeline_folder_is_replaced_only_with_force(run, tmp_path, capsys):
    out = tmp_path / "model"
    assert main(["motion-export", str(run), str(out)]) == 0
    assert f"wrote {out}" in capsys.readouterr().out
    assert json.loads((out / "pipeline.json").read_text())["info"]["run"] == str(run)
    first = tree(out)
    err = refused([run, out], capsys)
    assert "already holds a pipeline folder; pass --force to replace it" in err
    assert tree(out) == first
    (out / "model" / "stale.bin").write_bytes(b"old")  # swapped out with the old folder
    assert main(["motion-export", str(run), str(out), "--force", "--fp16"]) == 0
    assert "fp16" in capsys.readouterr().out
    assert not (out / "model" / "stale.bin").exists() and (out / "pipeline.json").is_file()
    assert MotionPipeline.from_pretrained(out).max_frames == 40
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model", "runs"]  # no temporary left


def test_an_empty_or_new_folder_is_written(run, tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert main(["motion-export", str(run), str(tmp_path / "empty")]) == 0
    assert main(["motion-export", str(run), str(tmp_path / "new" / "deeper")]) == 0
    capsys.readouterr()
    assert (tmp_path / "empty" / "pipeline.json").is_file()
    assert (tmp_path / "new" / "deeper" / "pipeline.json").is_file()


def test_an_unwritable_place_is_refused_before_the_run_is_read(run, read_only_dir, capsys, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the run was read before OUT was checked")

    monkeypatch.setattr(MotionPipeline, "from_run", staticmethod(refuse))
    err = refused([run, read_only_dir / "model"], capsys)
    assert f"cannot write {str(read_only_dir)!r}: read-only file system" in err
