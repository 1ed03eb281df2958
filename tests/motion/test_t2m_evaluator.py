"""The official T2M evaluator (vhdiff.motion.metrics.t2m): files in the released format,
the protocol through `vhdiff eval motion --evaluator t2m:DIR`, metrics vs direct numpy."""

from __future__ import annotations

import json
import math
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from vhdiff.cli import main
from vhdiff.motion.metrics.t2m import (
    POS_TAGS,
    WordVectorizer,
    load_plain_pickle,
    load_t2m_evaluator,
    metric_statistics,
)
from vhdiff.motion.metrics.t2m.protocol import score_embeddings

CAPTIONS = [
    ("a person walks forward", "a/DET person/NOUN walk/VERB forward/ADV"),
    ("someone raises the left arm", "someone/PRON raise/VERB the/DET left/ADJ arm/NOUN"),
    ("a man jumps up quickly", "a/DET man/NOUN jump/VERB up/ADP quickly/ADV"),
    ("the person sits on a chair", "the/DET person/NOUN sit/VERB on/ADP a/DET chair/NOUN"),
]


def _official_state_dicts(gen: torch.Generator) -> dict[str, dict[str, torch.Tensor]]:
    """Random tensors under the names and shapes of T2M's text_mot_match networks
    (networks/modules.py: TextEncoderBiGRUCo(300, 15, 512, 512), MovementConvEncoder(259,
    512, 512), MotionEncoderBiGRUCo(512, 1024, 512)), written out here, not taken from ours."""

    def gru(hidden: int) -> dict[str, tuple[int, ...]]:
        shapes = {}
        for suffix in ("", "_reverse"):
            shapes |= {f"gru.weight_ih_l0{suffix}": (3 * hidden, hidden),
                       f"gru.weight_hh_l0{suffix}": (3 * hidden, hidden),
                       f"gru.bias_ih_l0{suffix}": (3 * hidden,), f"gru.bias_hh_l0{suffix}": (3 * hidden,)}  # fmt: skip
        return shapes

    def head(hidden: int) -> dict[str, tuple[int, ...]]:
        return {"output_net.0.weight": (hidden, 2 * hidden), "output_net.0.bias": (hidden,),
                "output_net.1.weight": (hidden,), "output_net.1.bias": (hidden,),
                "output_net.3.weight": (512, hidden), "output_net.3.bias": (512,),
                "hidden": (2, 1, hidden)}  # fmt: skip

    shapes = {
        "text_encoder": {"pos_emb.weight": (300, 15), "pos_emb.bias": (300,),
                         "input_emb.weight": (512, 300), "input_emb.bias": (512,), **gru(512), **head(512)},
        "movement_encoder": {"main.0.weight": (512, 259, 4), "main.0.bias": (512,),
                             "main.3.weight": (512, 512, 4), "main.3.bias": (512,),
                             "out_net.weight": (512, 512), "out_net.bias": (512,)},
        "motion_encoder": {"input_emb.weight": (1024, 512), "input_emb.bias": (1024,),
                           **gru(1024), **head(1024)},
    }  # fmt: skip
    return {
        net: {k: 0.03 * torch.randn(s, generator=gen) for k, s in table.items()}
        for net, table in shapes.items()
    }


@pytest.fixture(scope="module")
def t2m_root(tmp_path_factory) -> Path:
    """T2M's layout: ROOT/checkpoints/t2m/{text_mot_match/model/finest.tar,
    Comp_v6_KLD01/meta/{mean,std}.npy} and ROOT/glove/our_vab_*."""
    root = tmp_path_factory.mktemp("t2m_release")
    gen = torch.Generator().manual_seed(0)
    model = root / "checkpoints" / "t2m" / "text_mot_match" / "model"
    model.mkdir(parents=True)
    torch.save({**_official_state_dicts(gen), "epoch": 7, "iter": 1234}, model / "finest.tar")
    meta = root / "checkpoints" / "t2m" / "Comp_v6_KLD01" / "meta"
    meta.mkdir(parents=True)
    rng = np.random.default_rng(0)
    np.save(meta / "mean.npy", rng.normal(size=263).astype(np.float32))
    np.save(meta / "std.npy", rng.uniform(0.5, 1.5, size=263).astype(np.float32))
    words = sorted({t.split("/")[0] for _, tokens in CAPTIONS for t in tokens.split()}) + [
        "sos",
        "eos",
        "unk",
    ]
    glove = root / "glove"
    glove.mkdir()
    np.save(glove / "our_vab_data.npy", rng.normal(size=(len(words), 300)).astype(np.float32))
    (glove / "our_vab_words.pkl").write_bytes(pickle.dumps(words))
    (glove / "our_vab_idx.pkl").write_bytes(pickle.dumps({w: i for i, w in enumerate(words)}))
    return root


@pytest.fixture(scope="module")
def humanml3d(tmp_path_factory) -> Path:
    """A tiny HumanML3D folder: 70 test clips of 40-199 frames (+ one too long, one too short)."""
    root = tmp_path_factory.mktemp("HumanML3D")
    (root / "new_joint_vecs").mkdir()
    (root / "texts").mkdir()
    rng = np.random.default_rng(1)
    ids = []
    for i in range(72):
        frames = 230 if i == 70 else 30 if i == 71 else int(rng.integers(40, 200))
        clip = f"{i:06d}"
        np.save(
            root / "new_joint_vecs" / f"{clip}.npy",
            rng.normal(size=(frames, 263)).astype(np.float32),
        )
        text, tokens = CAPTIONS[i % len(CAPTIONS)]
        lines = [
            f"{text}#{tokens}#0.0#0.0",
            f"{CAPTIONS[(i + 1) % 4][0]}#{CAPTIONS[(i + 1) % 4][1]}#0.0#0.0",
        ]
        if i == 0:
            lines.append(f"{text}#{tokens}#0.5#2.5")  # a 40-frame segment: its own clip
        (root / "texts" / f"{clip}.txt").write_text("\n".join(lines) + "\n")
        ids.append(clip)
    (root / "test.txt").write_text("\n".join(ids) + "\n")
    np.save(root / "Mean.npy", np.zeros(263, np.float32))
    np.save(root / "Std.npy", np.ones(263, np.float32))
    return root


def noise(
    checkpoint: str | None, *, data: Path, stats: Any, fps: float, device: str, seed: int
) -> Any:
    """A generator factory for `--generator tests.motion.test_t2m_evaluator:noise`."""
    gen = torch.Generator().manual_seed(seed)

    def generate_fn(captions: list[str], lengths: list[int]) -> torch.Tensor:
        return torch.randn(len(captions), max(lengths), stats.dim, generator=gen)

    return generate_fn


def test_official_format_loads_from_each_folder_users_have(t2m_root):
    checkpoints = t2m_root / "checkpoints"
    saved = torch.load(checkpoints / "t2m/text_mot_match/model/finest.tar", weights_only=True)
    for folder in (checkpoints, checkpoints / "t2m", checkpoints / "t2m" / "text_mot_match"):
        evaluator = load_t2m_evaluator(folder)
        assert torch.equal(
            evaluator.motion_encoder.gru.weight_hh_l0, saved["motion_encoder"]["gru.weight_hh_l0"]
        )
        assert torch.equal(evaluator.text_encoder.hidden, saved["text_encoder"]["hidden"])
    assert len(evaluator.vectorizer) == 19 and not evaluator.training


def test_eval_command_with_the_t2m_evaluator(t2m_root, humanml3d, tmp_path, capsys):
    out = tmp_path / "t2m.json"
    args = ["eval", "motion", "--data", str(humanml3d), "--evaluator", f"t2m:{t2m_root / 'checkpoints'}",
            "--generator", "tests.motion.test_t2m_evaluator:noise", "--replications", "2",
            "--mm-texts", "3", "--mm-repeats", "10", "--device", "cpu", "--out", str(out)]  # fmt: skip
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "ground truth" in printed and "R@3" in printed and "2 replication(s)" in printed
    report = json.loads(out.read_text())
    # 71 clips kept (70 whole + the segment; the 230- and 30-frame clips are dropped): 2 batches
    assert report["settings"]["clips"] == 71 and report["settings"]["replications"] == 2
    truth, generated = report["rows"]
    assert truth["num_samples"] == generated["num_samples"] == 64
    assert truth["summary"]["multimodality"] is None and len(generated["replications"]) == 2
    for row in (truth, generated):
        for name, value in row["summary"].items():
            assert value is None or all(math.isfinite(v) for v in value), (row["name"], name)
    assert generated["summary"]["multimodality"][0] > 0 and generated["summary"]["fid"][0] > 0


def test_t2m_evaluator_needs_humanml3d_features(t2m_root, tmp_path, capsys):
    assert main(["eval", "motion", "--data", str(tmp_path), "--evaluator", f"t2m:{t2m_root}/checkpoints",
                 "--out", str(tmp_path / "m.json")]) == 2  # fmt: skip
    err = capsys.readouterr().err
    assert "needs HumanML3D's 263-dim features" in err and err.strip().count("\n") == 0


def test_missing_files_name_the_file_and_the_download(t2m_root, tmp_path):
    with pytest.raises(FileNotFoundError, match=r"finest\.tar.*download_t2m_evaluators\.sh"):
        load_t2m_evaluator(tmp_path)
    copy = tmp_path / "copy"
    (copy / "t2m" / "text_mot_match" / "model").mkdir(parents=True)
    (copy / "t2m" / "text_mot_match" / "model" / "finest.tar").symlink_to(
        t2m_root / "checkpoints/t2m/text_mot_match/model/finest.tar"
    )
    with pytest.raises(FileNotFoundError, match=r"Comp_v6_KLD01/meta/mean\.npy"):
        load_t2m_evaluator(copy)
    (copy / "t2m" / "Comp_v6_KLD01").symlink_to(t2m_root / "checkpoints/t2m/Comp_v6_KLD01")
    with pytest.raises(
        FileNotFoundError, match=r"glove/our_vab_data\.npy.*download_glove\.sh"
    ) as info:
        load_t2m_evaluator(copy)
    assert "\n" not in str(info.value)
    assert load_t2m_evaluator(copy, glove=t2m_root / "glove").vectorizer.dim == 300


def test_pickles_that_name_a_class_are_refused(t2m_root, tmp_path):
    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps({"walk": Path("x")}))
    with pytest.raises(
        ValueError, match=r"refused as a plain-data pickle: it names pathlib\."
    ) as info:
        load_plain_pickle(path)
    assert "\n" not in str(info.value)
    assert load_plain_pickle(t2m_root / "glove" / "our_vab_idx.pkl")["unk"] == 18


def test_a_checkpoint_with_other_shapes_is_refused_in_one_line(t2m_root, tmp_path):
    root = tmp_path / "ckpt"
    model = root / "t2m" / "text_mot_match" / "model"
    model.mkdir(parents=True)
    state = torch.load(
        t2m_root / "checkpoints/t2m/text_mot_match/model/finest.tar", weights_only=True
    )
    state["movement_encoder"]["out_net.weight"] = torch.zeros(3, 3)
    torch.save(state, model / "finest.tar")
    (root / "t2m" / "Comp_v6_KLD01").symlink_to(t2m_root / "checkpoints/t2m/Comp_v6_KLD01")
    with pytest.raises(
        ValueError, match=r"movement_encoder does not match .*out_net\.weight"
    ) as info:
        load_t2m_evaluator(root, glove=t2m_root / "glove")
    assert "\n" not in str(info.value)


def test_word_vectors_follow_t2m():
    words = ["a", "man", "walk", "left", "unk", "sos", "eos"]
    vectors = np.arange(len(words) * 300, dtype=np.float32).reshape(len(words), 300)
    vectorizer = WordVectorizer(
        vectors=vectors, words=words, index={w: i for i, w in enumerate(words)}
    )
    caption = vectorizer.encode(
        ["a/DET", "man/NOUN", "walk/VERB", "to/ADP", "the/DET", "left/NOUN"]
    )
    assert (
        caption.length == 8
        and caption.word_embs.shape == (22, 300)
        and caption.pos_onehot.shape == (22, 15)
    )
    tags = [POS_TAGS[i] for i in caption.pos_onehot.argmax(1)]
    # sos, a, man, walk (an action word: Act_VIP), to (not in the vocabulary: unk / OTHER), ...
    assert tags[:8] == ["OTHER", "DET", "NOUN", "Act_VIP", "OTHER", "OTHER", "Loc_VIP", "OTHER"]
    assert (caption.word_embs[4] == vectors[4]).all() and (
        caption.word_embs[21] == vectors[4]
    ).all()
    assert vectorizer.encode(["a/DET"] * 30).length == 22


def test_metrics_match_a_direct_computation():
    from scipy import linalg

    rng = np.random.default_rng(3)
    text = rng.normal(size=(96, 8))
    motion = text + rng.normal(scale=1.5, size=(96, 8))
    reference = rng.normal(loc=0.3, size=(80, 8))
    got = score_embeddings(text, motion, reference, seed=5)
    hits, trace = np.zeros(3), 0.0
    for b in range(3):  # T2M's calculate_R_precision / matching score, batch by batch
        t, m = text[32 * b : 32 * b + 32], motion[32 * b : 32 * b + 32]
        dist = np.sqrt(((t[:, None] - m[None]) ** 2).sum(-1))
        trace += np.trace(dist)
        ranks = np.argsort(dist, axis=1)
        hits += [(ranks[:, :k] == np.arange(32)[:, None]).any(1).sum() for k in (1, 2, 3)]
    assert np.allclose([got.top1, got.top2, got.top3], hits / 96)
    assert got.mm_dist == pytest.approx(trace / 96)
    mu1, mu2 = motion.mean(0), reference.mean(0)
    s1, s2 = np.cov(motion, rowvar=False), np.cov(reference, rowvar=False)
    fid = ((mu1 - mu2) ** 2).sum() + np.trace(s1 + s2 - 2 * linalg.sqrtm(s1 @ s2).real)
    assert got.fid == pytest.approx(fid, rel=1e-6)
    draw = np.random.default_rng(5)
    first, second = draw.choice(96, 96, replace=False), draw.choice(96, 96, replace=False)
    assert got.diversity == pytest.approx(
        np.linalg.norm(motion[first] - motion[second], axis=1).mean()
    )

    from vhdiff.motion.metrics import multimodality

    mm = rng.normal(size=(4, 30, 8))
    draw = np.random.default_rng(2)
    first, second = draw.choice(30, 10, replace=False), draw.choice(30, 10, replace=False)
    direct = np.linalg.norm(mm[:, first] - mm[:, second], axis=2).mean()
    assert multimodality(mm, times=10, seed=2) == pytest.approx(direct)
    values = [0.5, 0.7, 0.6, 0.9]
    mean, interval = metric_statistics(values)
    assert mean == pytest.approx(0.675) and interval == pytest.approx(1.96 * np.std(values) / 2)


def test_unsorted_batches_embed_as_the_official_sorted_forward(t2m_root):
    """T2M sorts each batch by length for pack_padded_sequence; ours packs unsorted."""
    from torch.nn.utils.rnn import pack_padded_sequence

    evaluator = load_t2m_evaluator(t2m_root / "checkpoints")
    gen = torch.Generator().manual_seed(4)
    motions = torch.randn(5, 196, 263, generator=gen)
    lengths = torch.tensor([120, 196, 44, 160, 80])
    for row, n in enumerate(lengths):
        motions[row, n:] = 0
    ours = evaluator.embed_motions(motions, lengths)
    order = torch.argsort(lengths, descending=True)
    enc = evaluator.motion_encoder
    with torch.no_grad():
        moves = evaluator.movement_encoder(motions[order][..., :-4])
        packed = pack_padded_sequence(
            enc.input_emb(moves), (lengths[order] // 4).tolist(), batch_first=True
        )
        _, last = enc.gru(packed, enc.hidden.repeat(1, 5, 1))
        official = enc.output_net(torch.cat([last[0], last[1]], dim=-1))
    assert torch.allclose(ours[order], official, atol=1e-5)
