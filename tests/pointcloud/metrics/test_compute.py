import dataclasses

import pytest
import torch

from vhdiff.pointcloud.metrics import (
    METRIC_DEFINITIONS,
    METRIC_NAMES,
    compute_metrics,
    coverage,
    jsd_between_sets,
    minimum_matching_distance,
    one_nn_accuracy,
    pairwise_chamfer,
    pairwise_emd,
)

from .clouds import blob_clouds


def test_compute_metrics_combines_the_parts():
    samples, references = blob_clouds(6, 32, seed=0), blob_clouds(5, 32, seed=1)
    m = compute_metrics(
        samples, references, emd="exact", jsd_normalization="as_given", batch_size=7
    )
    sr, ss, rr = (
        pairwise_chamfer(samples, references),
        pairwise_chamfer(samples),
        pairwise_chamfer(references),
    )
    assert (m.mmd_cd, m.cov_cd, m.nna_cd) == pytest.approx(
        (minimum_matching_distance(sr), coverage(sr), one_nn_accuracy(sr, ss, rr))
    )
    er = pairwise_emd(samples, references, method="exact")
    es, ee = pairwise_emd(samples, method="exact"), pairwise_emd(references, method="exact")
    assert (m.mmd_emd, m.cov_emd, m.nna_emd) == pytest.approx(
        (minimum_matching_distance(er), coverage(er), one_nn_accuracy(er, es, ee))
    )
    assert m.jsd == pytest.approx(jsd_between_sets(samples, references).jsd)
    assert (m.emd_method, m.num_samples, m.num_references) == ("exact", 6, 5)


def test_well_separated_sets_are_told_apart():
    samples, references = (
        blob_clouds(6, 32, seed=2, centre=2.0),
        blob_clouds(6, 32, seed=3, centre=-2.0),
    )
    m = compute_metrics(samples, references, jsd_normalization="fit_references")
    assert (m.nna_cd, m.nna_emd) == (1.0, 1.0)
    assert m.emd_method == "approx(block_size=16)"
    assert m.jsd_samples_outside == 6 * 32 and m.jsd_references_outside == 0
    assert m.jsd == pytest.approx(1.0)


def test_to_dict_and_the_metric_names():
    m = compute_metrics(
        blob_clouds(3, 16, seed=4), blob_clouds(3, 20, seed=5), emd="none", jsd_normalization=None
    )
    d = m.to_dict()
    assert set(METRIC_NAMES) <= set(d) == {f.name for f in dataclasses.fields(m)}
    assert METRIC_NAMES == tuple(METRIC_DEFINITIONS)
    assert (d["mmd_emd"], d["jsd"], d["emd_method"], d["jsd_normalization"]) == (
        None,
        None,
        "none",
        "none",
    )


def test_compute_metrics_on_a_given_device():
    samples, references = blob_clouds(3, 16, seed=6), blob_clouds(3, 16, seed=7)
    a = compute_metrics(samples, references, jsd_normalization=None, device="cpu")
    b = compute_metrics(samples.double(), references, jsd_normalization=None)
    assert a.mmd_emd == pytest.approx(b.mmd_emd, rel=1e-5) and a.mmd_cd == pytest.approx(
        b.mmd_cd, rel=1e-5
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"samples": torch.zeros(2, 16, 3) * float("nan")}, "NaN"),
        ({"samples": torch.zeros(2, 16)}, r"\[K, N, 3\]"),
        ({"references": torch.zeros(0, 16, 3)}, "empty"),
        ({"references": torch.zeros(2, 8, 3)}, "equal size"),
        ({"emd": "fast"}, "emd must be"),
        ({"jsd_normalization": "unit"}, "jsd_normalization must be"),
        ({"batch_size": 0}, "batch_size"),
    ],
)
def test_bad_input_is_a_one_line_error(kwargs, message):
    arguments = {
        "samples": blob_clouds(2, 16, seed=0),
        "references": blob_clouds(2, 16, seed=1),
        "jsd_normalization": "as_given",
    }
    arguments.update(kwargs)
    with pytest.raises(ValueError, match=message) as info:
        compute_metrics(**arguments)
    assert "\n" not in str(info.value)
