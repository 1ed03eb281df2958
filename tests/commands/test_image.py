"""`vhdiff image`, `vhdiff edit` and `vhdiff eval image` from the command line: what they
write, and their one-line errors (exit status 2, nothing written)."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from PIL import Image

from vhdiff.cli import main


def error_of(argv, capsys) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    return err


def test_writes_pngs_a_grid_and_the_strip(tiny_text_image_pipeline_dir, tmp_path, capsys):
    out = tmp_path / "images"
    argv = ["image", "--num", "3", "--prompt", "a person squatting", "--seed", "2", "--intermediates",
            "--checkpoint", str(tiny_text_image_pipeline_dir), "--out", str(out)]
    assert main(argv) == 0
    assert "wrote 3 images of 32x32 for 'a person squatting'" in capsys.readouterr().out
    names = sorted(p.name for p in out.iterdir())
    assert names == ["grid.png", "image_000.png", "image_001.png", "image_002.png", "images.json", "intermediates.png"]
    assert Image.open(out / "image_001.png").size == (32, 32)
    record = json.loads((out / "images.json").read_text())
    assert record["seed"] == 2 and record["prompt"] == "a person squatting" and record["generation"]["steps"] == 4
    # the strip: x_999 .. x_250 and x_0 (5 columns), two rows (x_t, x_0 estimate) per image, 4x enlarged
    width, height = Image.open(out / "intermediates.png").size
    assert width > 5 * 128 and height > 6 * 128
    first = np.asarray(Image.open(out / "image_001.png"))
    assert "--force" in error_of(argv, capsys)
    assert main([*argv, "--force"]) == 0
    np.testing.assert_array_equal(np.asarray(Image.open(out / "image_001.png")), first)


def test_image_errors_before_loading(tiny_image_pipeline_dir, tmp_path, capsys):
    base = ["image", "--checkpoint", str(tiny_image_pipeline_dir)]
    assert "--num must be between 1 and 1024" in error_of([*base, "--num", "0", "--out", str(tmp_path / "a")], capsys)
    assert "unconditional" in error_of([*base, "--prompt", "a person", "--out", str(tmp_path / "b")], capsys)
    assert "--steps" in error_of([*base, "--steps", "0", "--out", str(tmp_path / "c")], capsys)
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep")
    error_of([*base, "--out", str(tmp_path / "mine")], capsys)
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep"


@pytest.fixture()
def picture(tiny_image_set, tmp_path):
    path = tmp_path / "in.png"
    shutil.copy(min((tiny_image_set / "images").iterdir()), path)
    return path


def test_edit_sdedit_inpaint_and_invert(tiny_text_image_pipeline_dir, picture, tmp_path, capsys):
    ckpt = ["--checkpoint", str(tiny_text_image_pipeline_dir)]
    source = np.asarray(Image.open(picture).convert("RGB"))
    out = tmp_path / "sdedit.png"
    assert main(["edit", str(picture), "--prompt", "a person bowing", "--strength", "0.3", *ckpt, "--out", str(out)]) == 0
    assert "SDEdit at strength 0.3: mean distance to the input" in capsys.readouterr().out
    assert np.asarray(Image.open(out)).shape == source.shape
    mask = np.zeros((32, 32), dtype=np.uint8)
    mask[:, 16:] = 255
    Image.fromarray(mask).save(tmp_path / "mask.png")
    filled = tmp_path / "filled.png"
    assert main(["edit", str(picture), "--mask", str(tmp_path / "mask.png"), "--steps", "4", *ckpt,
                 "--out", str(filled)]) == 0
    assert "inpainted 512 masked pixels; 0 unmasked pixels changed" in capsys.readouterr().out
    np.testing.assert_array_equal(np.asarray(Image.open(filled))[:, :16], source[:, :16])
    inverted = tmp_path / "inverted.png"
    assert main(["edit", str(picture), "--invert", "--steps", "4", *ckpt, "--out", str(inverted)]) == 0
    printed = capsys.readouterr().out
    assert "round-trip RMSE" in printed and (tmp_path / "inverted_noise.png").is_file()


def test_edit_errors_are_one_line_and_write_nothing(tiny_image_pipeline_dir, picture, tmp_path, capsys):
    base = ["edit", str(picture), "--checkpoint", str(tiny_image_pipeline_dir)]
    out = tmp_path / "out.png"
    for strength in ("0", "1.5", "nan"):
        assert "--strength must lie in (0, 1]" in error_of([*base, "--strength", strength, "--out", str(out)], capsys)
    Image.fromarray(np.zeros((40, 40), dtype=np.uint8)).save(tmp_path / "small.png")
    assert "the mask is 40x40 but the image is 32x32" in error_of(
        [*base, "--mask", str(tmp_path / "small.png"), "--out", str(out)], capsys)
    Image.fromarray(np.full((32, 32), 100, dtype=np.uint8)).save(tmp_path / "grey.png")
    assert "not binary" in error_of([*base, "--mask", str(tmp_path / "grey.png"), "--out", str(out)], capsys)
    assert "unconditional" in error_of([*base, "--prompt", "a person", "--out", str(out)], capsys)
    (tmp_path / "text.png").write_text("not a picture")
    assert "not an image that can be read" in error_of(
        ["edit", str(tmp_path / "text.png"), "--checkpoint", str(tiny_image_pipeline_dir), "--out", str(out)], capsys)
    assert "image suffix" in error_of([*base, "--out", str(tmp_path / "out.txt")], capsys)
    assert not out.exists()
    out.write_bytes(b"mine")
    assert "--force" in error_of([*base, "--out", str(out)], capsys)
    assert out.read_bytes() == b"mine"
    assert "is the input image" in error_of([*base, "--out", str(picture), "--force"], capsys)


def test_edit_refuses_an_unwritable_output(tiny_image_pipeline_dir, picture, read_only_dir, capsys):
    err = error_of(["edit", str(picture), "--checkpoint", str(tiny_image_pipeline_dir),
                    "--out", str(read_only_dir / "out.png")], capsys)
    assert "cannot write" in err or "read-only" in err


def test_eval_image_reports_codecs_nll_fid_and_pose(tiny_image_set, tiny_text_image_pipeline_dir, tmp_path, capsys):
    data = tmp_path / "set"
    shutil.copytree(tiny_image_set, data, ignore=shutil.ignore_patterns("pose_classifier", "fid_features"))
    argv = ["eval", "image", "--data", str(data), "--checkpoint", str(tiny_text_image_pipeline_dir),
            "--nll-num", "2", "--fid-num", "2", "--edit-num", "1", "--json", str(tmp_path / "report.json")]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "bits/dim on 2 test images: PNG" in printed and "model" in printed and "L_0" in printed
    assert "FID at 2 images: train vs test" in printed and "generated vs test" in printed
    assert "prep pose-classifier" in printed  # no classifier yet: says how to make one
    assert "SDEdit on 1 test images" in printed and "strength 0.3: distance" in printed
    assert "largest change of a kept pixel 0 levels" in printed and "inversion round trip: RMSE" in printed
    report = json.loads((tmp_path / "report.json").read_text())
    nll = report["nll"]
    assert nll["total"] == pytest.approx(nll["prior"] + nll["diffusion"] + nll["decoder"], rel=1e-9)
    assert report["codecs"]["png"] > 0 and report["fid"]["ratio"] > 0
    assert any((data / "fid_features").iterdir())  # the real features are cached with the data
    assert main(["prep", "pose-classifier", str(data), "--steps", "2"]) == 0
    assert main([*argv[:-2], "--nll-num", "0"]) == 0
    printed = capsys.readouterr().out
    assert "pose family recognised in" in printed and "bits/dim" not in printed
    assert "input's family kept" in printed and "prompt's family" in printed  # the classifier scores the edits


def test_eval_image_without_a_model_and_its_errors(tiny_image_set, tmp_path, capsys):
    assert main(["eval", "image", "--data", str(tiny_image_set), "--nll-num", "2", "--fid-num", "0"]) == 0
    printed = capsys.readouterr().out
    assert "PNG" in printed and "model" not in printed
    assert "not an image set" in error_of(["eval", "image", "--data", str(tmp_path)], capsys)
    assert "--fid-num" in error_of(["eval", "image", "--data", str(tiny_image_set), "--fid-num", "1"], capsys)
