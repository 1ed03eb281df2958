"""The TextEncoder interface: input checks, null prompt, memory and disk caches.

Uses a tiny deterministic encoder (a real subclass: hashed bag-of-characters through a
fixed random matrix) so that the cache logic is tested without loading a network.
"""

from __future__ import annotations

import pytest
import torch

from vhdiff.text.base import TextEncoder, validate_prompts


class CharEncoder(TextEncoder):
    """Per-character embeddings (C = 8) from a fixed matrix; pooled = their mean. Counts calls."""

    def __init__(self, *, seed: int = 0, cache_size: int = 16, cache_dir=None) -> None:
        self.device = torch.device("cpu")
        self.table = torch.randn(128, 8, generator=torch.Generator().manual_seed(seed))
        self.seed = seed
        self.calls: list[list[str]] = []
        self._init_caches(cache_size=cache_size, cache_dir=cache_dir)

    @property
    def dim(self) -> int:
        return 8

    def _identity(self) -> str:
        return f"char|{self.seed}"

    def _encode_batch(self, texts):
        self.calls.append(list(texts))
        length = max(len(t) for t in texts)
        tokens = torch.zeros(len(texts), length, 8)
        mask = torch.zeros(len(texts), length, dtype=torch.bool)
        for i, text in enumerate(texts):
            ids = torch.tensor([ord(c) % 128 for c in text])
            tokens[i, : len(text)] = self.table[ids]
            mask[i, : len(text)] = True
        pooled = tokens.sum(1) / mask.sum(1, keepdim=True)
        return pooled, tokens, mask


@pytest.mark.parametrize(
    "bad, words",
    [
        ([], "empty list"),
        ("a person walks", "wrap it in a list"),
        (["ok", 3], "prompt 1 is a int"),
        (["ok", None], "prompt 1 is a NoneType"),
        (("a", b"bytes"), "not a string"),
        ({"a": 1}, "list of strings"),
    ],
)
def test_bad_prompts_name_the_problem_and_fix(bad, words):
    encoder = CharEncoder()
    with pytest.raises(ValueError, match=words):
        encoder.encode(bad)
    with pytest.raises(ValueError, match=words):
        encoder.encode_tokens(bad)
    assert encoder.calls == []


def test_validate_accepts_tuples():
    assert validate_prompts(("a", "b")) == ["a", "b"]


def test_shapes_and_padding():
    encoder = CharEncoder()
    pooled = encoder.encode(["ab", "abcd"])
    assert pooled.shape == (2, 8)
    tokens, mask = encoder.encode_tokens(["ab", "abcd"])
    assert tokens.shape == (2, 4, 8) and mask.tolist() == [[1, 1, 0, 0], [1, 1, 1, 1]]
    assert torch.all(tokens[0, 2:] == 0)
    torch.testing.assert_close(tokens[0, :2], encoder.table[[ord("a"), ord("b")]])
    padded = encoder.encode_tokens(["ab"], pad_to=6)
    assert padded.tokens.shape == (1, 6, 8) and padded.mask.sum() == 2
    with pytest.raises(ValueError, match="pad_to=3 is shorter"):
        encoder.encode_tokens(["abcd"], pad_to=3)


def test_memory_cache_returns_identical_tensors_without_recomputing():
    encoder = CharEncoder()
    first = encoder.encode(["walk", "run"])
    second = encoder.encode(["run", "walk", "walk"])
    assert encoder.calls == [["walk", "run"]]
    assert torch.equal(second[0], first[1]) and torch.equal(second[1], first[0])
    assert torch.equal(second[2], first[0])
    tokens_a, _ = encoder.encode_tokens(["walk"])
    tokens_b, _ = encoder.encode_tokens(["walk"])
    assert torch.equal(tokens_a, tokens_b) and len(encoder.calls) == 1


def test_only_missing_prompts_are_computed_and_duplicates_once():
    encoder = CharEncoder()
    encoder.encode(["a"])
    encoder.encode(["a", "b", "b", "c"])
    assert encoder.calls == [["a"], ["b", "c"]]


def test_lru_evicts_least_recently_used():
    encoder = CharEncoder(cache_size=2)
    encoder.encode(["a"])
    encoder.encode(["b"])
    encoder.encode(["a"])  # a is now most recent
    encoder.encode(["c"])  # evicts b
    encoder.encode(["a"])
    assert encoder.calls == [["a"], ["b"], ["c"]]
    encoder.encode(["b"])
    assert encoder.calls[-1] == ["b"]


def test_cache_size_zero_disables_memory_cache():
    encoder = CharEncoder(cache_size=0)
    encoder.encode(["a"])
    encoder.encode(["a"])
    assert encoder.calls == [["a"], ["a"]]
    with pytest.raises(ValueError, match="cache_size"):
        CharEncoder(cache_size=-1)


def test_disk_cache_round_trip_is_exact(tmp_path):
    first = CharEncoder(cache_dir=tmp_path)
    pooled = first.encode(["a person waves", "jump"])
    tokens = first.encode_tokens(["a person waves", "jump"])
    files = sorted(tmp_path.rglob("*"))
    assert len([f for f in files if f.suffix == ".safetensors"]) == 2
    assert not [f for f in files if f.name.startswith(".")]  # no temporary left
    second = CharEncoder(cache_dir=tmp_path)  # fresh process-like instance, same identity
    assert torch.equal(second.encode(["jump", "a person waves"]), pooled.flip(0))
    again = second.encode_tokens(["a person waves", "jump"])
    assert torch.equal(again.tokens, tokens.tokens) and torch.equal(again.mask, tokens.mask)
    assert second.calls == []


def test_disk_cache_is_keyed_by_encoder_identity(tmp_path):
    CharEncoder(seed=0, cache_dir=tmp_path).encode(["walk"])
    other = CharEncoder(seed=1, cache_dir=tmp_path)
    other.encode(["walk"])
    assert other.calls == [["walk"]]
    assert len([d for d in tmp_path.iterdir() if d.is_dir()]) == 2


def test_corrupt_disk_entry_is_recomputed(tmp_path):
    CharEncoder(cache_dir=tmp_path).encode(["walk"])
    (entry,) = tmp_path.rglob("*.safetensors")
    entry.write_bytes(b"not a safetensors file")
    fresh = CharEncoder(cache_dir=tmp_path)
    value = fresh.encode(["walk"])
    assert fresh.calls == [["walk"]]
    torch.testing.assert_close(value[0], CharEncoder().encode(["walk"])[0])


def test_null_prompt_is_fixed_zero_and_never_encoded(tmp_path):
    encoder = CharEncoder(cache_dir=tmp_path)
    pooled = encoder.encode(["", "   ", "walk"])
    assert torch.equal(pooled[0], torch.zeros(8)) and torch.equal(pooled[1], torch.zeros(8))
    assert encoder.calls == [["walk"]]
    tokens, mask = encoder.encode_tokens(["", "walk"])
    assert mask[0].tolist() == [True, False, False, False]
    assert torch.all(tokens[0] == 0)
    assert len(list(tmp_path.rglob("*.safetensors"))) == 1  # the null prompt is not cached
    assert torch.equal(CharEncoder(seed=5).encode([""]), pooled[:1])


def test_outputs_do_not_require_grad():
    encoder = CharEncoder()
    assert not encoder.encode(["a"]).requires_grad


def test_importing_text_loads_no_encoder_package():
    import subprocess
    import sys

    code = (
        "import sys, vhdiff.text, vhdiff.text.base; "
        "print([m for m in ('open_clip', 'tokenizers', 'transformers', 'huggingface_hub') "
        "if m in sys.modules])"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
