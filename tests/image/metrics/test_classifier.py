"""The pose-family classifier: trained by a command, saved with the data, loaded back."""

import json

import numpy as np
import pytest

from vhdiff.image.metrics.classifier import (
    CLASSIFIER_DIR,
    build_pose_classifier,
    load_pose_classifier,
    read_labels,
)


def test_trains_saves_with_the_data_and_predicts(tiny_image_set, tmp_path, capsys):
    from vhdiff.cli import main

    out = tmp_path / "classifier"
    assert main(["prep", "pose-classifier", str(tiny_image_set), "--steps", "6", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "saved the pose classifier (10 families)" in printed and "test" in printed
    classifier, record = load_pose_classifier(out)
    assert len(record["families"]) == 10 and set(record["accuracy"]) == {"val", "test"}
    assert json.loads((out / "classifier.json").read_text())["steps"] == 6
    labels = read_labels(tiny_image_set)
    assert record["families"][labels["000000"]["family_index"]] == labels["000000"]["family"]
    images = np.zeros((5, 32, 32, 3), dtype=np.uint8)
    predicted = classifier.predict(images)
    assert predicted.shape == (5,) and predicted.min() >= 0 and predicted.max() < 10


def test_default_folder_and_errors(tiny_image_set, tmp_path):
    record = build_pose_classifier(tiny_image_set, steps=2)
    assert record.out == tiny_image_set / CLASSIFIER_DIR
    load_pose_classifier(tiny_image_set)  # found in DATA/pose_classifier
    with pytest.raises(FileNotFoundError, match="prep pose-classifier"):
        load_pose_classifier(tmp_path)
    with pytest.raises(FileNotFoundError, match="not an image set"):
        build_pose_classifier(tmp_path, steps=2)
    with pytest.raises(ValueError, match="--steps"):
        build_pose_classifier(tiny_image_set, steps=0)
