"""Bundled run configs: by name, by path, `vhdiff train --list`, `--print`, unknown names."""

from __future__ import annotations

import pytest

from tests.training.helpers import REPO
from vhdiff.bundled_configs import bundled_configs, config_summary, resolve_config
from vhdiff.cli import main
from vhdiff.config import load_config

SHIPPED = {"toy2d", "motion_synthetic", "motion_humanml3d", "pointcloud_humans",
           "pointcloud_humans_pose", "image_humans", "image_humans_32"}


def test_every_repository_config_is_bundled_by_its_stem():
    configs = bundled_configs()
    assert set(configs) == {path.stem for path in (REPO / "configs").glob("*.yaml")}
    assert SHIPPED <= set(configs)
    for path in configs.values():
        assert path.read_bytes() == (REPO / "configs" / path.name).read_bytes()


def test_a_name_and_a_path_resolve_to_the_same_file(tmp_path, monkeypatch):
    by_name = resolve_config("motion_synthetic")
    assert by_name.samefile(REPO / "configs" / "motion_synthetic.yaml")
    monkeypatch.chdir(REPO)
    assert resolve_config("configs/motion_synthetic.yaml").samefile(by_name)
    own = tmp_path / "mine.yaml"
    own.write_text("trainer: {max_steps: 3}\n")
    monkeypatch.chdir(tmp_path)
    assert resolve_config("mine.yaml") == own.relative_to(tmp_path)
    assert load_config("toy2d", ["trainer.max_steps=5"]).trainer.max_steps == 5


def test_a_file_in_the_working_directory_wins_over_the_bundled_name(tmp_path, monkeypatch):
    (tmp_path / "toy2d").write_text("trainer: {max_steps: 3}\n")
    monkeypatch.chdir(tmp_path)
    assert load_config("toy2d").trainer.max_steps == 3


def test_an_unknown_name_lists_the_bundled_ones():
    with pytest.raises(ValueError, match="unknown config 'motion_synthtic'") as info:
        resolve_config("motion_synthtic")
    message = str(info.value)
    assert "\n" not in message and all(name in message for name in SHIPPED)


def test_a_missing_path_points_at_the_bundled_config_of_that_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # outside a clone: configs/ is not here
    with pytest.raises(FileNotFoundError, match="does not exist") as info:
        resolve_config("configs/toy2d.yaml")
    assert "`vhdiff train toy2d`" in str(info.value)
    with pytest.raises(FileNotFoundError, match="bundled configs: ") as info:
        resolve_config("elsewhere/nothing.yaml")
    assert "vhdiff train nothing" not in str(info.value)


def test_summary_is_the_first_comment_line():
    assert config_summary(bundled_configs()["toy2d"]).startswith("A 2-D toy run")


def test_train_list_shows_names_and_summaries(capsys):
    assert main(["train", "--list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert {line.split()[0] for line in lines} == set(bundled_configs())
    assert any(line.startswith("toy2d ") and "2-D toy run" in line for line in lines)


def test_train_print_writes_a_config_that_loads_back(tmp_path, capsys):
    assert main(["train", "motion_synthetic", "trainer.max_steps=7", "--out", str(tmp_path / "r"),
                 "--print"]) == 0
    text = capsys.readouterr().out
    assert not (tmp_path / "r").exists()  # printing trains nothing
    copy = tmp_path / "copy.yaml"
    copy.write_text(text)
    again = load_config(copy)
    assert again.trainer.max_steps == 7 and again.trainer.out_dir == str(tmp_path / "r")
    assert again.data.params["root"] == "data/motion_synthetic"  # relative: the working dir's
    stats = again.trainer.loss_hooks["motion_geometry"]["stats"]
    assert stats == "data/motion_synthetic/feature_stats.npz"


def test_train_errors_are_one_line(capsys):
    assert main(["train", "nope"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unknown config 'nope'" in err and "toy2d" in err
    assert main(["train"]) == 2
    assert "vhdiff train --list" in capsys.readouterr().err
