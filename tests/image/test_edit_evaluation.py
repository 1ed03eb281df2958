"""The editing report (vhdiff.image.edit_evaluation) on the tiny set and pipeline."""

import numpy as np
import pytest

from vhdiff.image.edit_evaluation import _targets, evaluate_edits, layout_distance


def test_layout_distance_is_the_mean_gap_of_block_means():
    rng = np.random.default_rng(0)
    a = rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)
    b = rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)
    expected = np.mean([
        abs(a[r:r + 4, c:c + 4, k].astype(float).mean() - b[r:r + 4, c:c + 4, k].astype(float).mean())
        for r in (0, 4) for c in (0, 4) for k in range(3)
    ]) / 255
    assert layout_distance(a, b) == pytest.approx(expected)
    shuffled = a.reshape(2, 4, 2, 4, 3).transpose(0, 3, 2, 1, 4).reshape(8, 8, 3)  # pixels moved within blocks
    assert layout_distance(a, shuffled) == pytest.approx(0.0, abs=1e-12)


def test_targets_are_another_image_of_another_family_where_known():
    families = [0, 0, 1, 1, 2]
    targets = _targets(["a", "b", "c", "d", "e"], ["x"] * 5, families)
    assert all(t != i and families[t] != families[i] for i, t in enumerate(targets))
    assert _targets(["a", "b"], ["x", "y"], None) == [1, 0]
    assert _targets(["a"], ["x"], [0]) == [0]  # one image: edited towards its own caption


def test_evaluate_edits_reports_every_strength_and_exact_inpainting(tiny_image_set, tiny_text_image_pipeline_dir):
    from vhdiff.image.pipeline import ImagePipeline

    pipe = ImagePipeline.from_pretrained(tiny_text_image_pipeline_dir)
    report = evaluate_edits(tiny_image_set, pipeline=pipe, num=2, strengths=(0.05, 1.0))
    assert report["num"] == 2 and [row["strength"] for row in report["sdedit"]] == [0.05, 1.0]
    near, far = report["sdedit"]
    assert 0 <= near["distance"] < far["distance"] <= 1
    assert near["layout_distance"] <= near["distance"] + 1e-12  # block means move less than pixels
    assert report["inpaint"]["kept_max_change"] == 0 and report["inpaint"]["repainted_distance"] > 0
    assert report["invert"]["rmse_levels"] >= 0 and report["invert"]["max_error_levels"] >= 0
