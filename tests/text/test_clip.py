"""CLIPTextEncoder on a randomly initialised ViT-B-32 saved to a file and loaded through
open_clip's real `pretrained=<path>` route (no weights can be downloaded here)."""

from __future__ import annotations

import time
import warnings

import pytest
import torch

open_clip = pytest.importorskip("open_clip")

from vhdiff.text import load_text_encoder
from vhdiff.text.clip import CLIPTextEncoder, resolve_clip_weights

PROMPTS = ["a person walks forward", "someone jumps twice", "a man waves his left hand"]


@pytest.fixture(scope="module")
def random_clip(tmp_path_factory):
    """(reference open_clip model, checkpoint path): random ViT-B-32 weights as safetensors."""
    from safetensors.torch import save_file

    torch.manual_seed(1234)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = open_clip.create_model("ViT-B-32", pretrained=None).eval()
    path = tmp_path_factory.mktemp("clip") / "open_clip_model.safetensors"
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(path))
    return model, path


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("embedding-cache")


@pytest.fixture(scope="module")
def encoder(random_clip, cache_dir):
    return CLIPTextEncoder(pretrained=random_clip[1], cache_dir=cache_dir)


def test_loads_the_checkpoint_through_the_path_route(random_clip, encoder):
    reference, path = random_clip
    assert encoder.checkpoint == path
    ids = open_clip.get_tokenizer("ViT-B-32")(PROMPTS)
    with torch.no_grad():
        expected = reference.encode_text(ids)
    pooled = encoder.encode(PROMPTS)
    assert pooled.shape == (3, 512) and encoder.dim == 512
    # equal to the saved random model's outputs: the weights really came from the file
    torch.testing.assert_close(pooled, expected, atol=1e-4, rtol=1e-4)


def test_tokens_and_mask_follow_the_tokenizer(encoder):
    tokens, mask = encoder.encode_tokens(PROMPTS)
    lengths = [len(encoder.tokenizer.encode(p)) + 2 for p in PROMPTS]
    assert tokens.shape == (3, max(lengths), 512)
    assert mask.sum(1).tolist() == lengths
    # the pooled embedding is the projected end-of-text token feature
    pooled = encoder.encode(PROMPTS)
    eot = torch.tensor(lengths) - 1
    projected = tokens[torch.arange(3), eot] @ encoder.model.text_projection
    torch.testing.assert_close(projected, pooled, atol=1e-4, rtol=1e-4)


def test_frozen(encoder):
    assert not encoder.model.training
    assert not any(p.requires_grad for p in encoder.model.parameters())
    assert encoder.model.visual is None


def test_caches_return_identical_tensors(encoder, cache_dir):
    prompts = ["a person crawls", "a person kicks"]
    first = encoder.encode(prompts)
    encoder.clear_memory_cache()
    from_disk = encoder.encode(prompts)
    from_memory = encoder.encode(prompts)
    assert torch.equal(first, from_disk) and torch.equal(first, from_memory)
    folder = cache_dir / encoder.encoder_id
    assert len(list(folder.glob("*.safetensors"))) >= 2


def test_null_prompt_is_zero(encoder):
    pooled = encoder.encode(["", PROMPTS[0]])
    assert torch.equal(pooled[0], torch.zeros(512)) and pooled[1].abs().sum() > 0


def test_long_prompt_truncated_at_77_tokens_with_warning(encoder):
    long_prompt = " ".join(["walk"] * 120)
    with pytest.warns(UserWarning, match="truncated") as record:
        tokens, mask = encoder.encode_tokens([long_prompt, "run"])
    assert tokens.shape[1] == 77 and mask[0].all() and mask[1].sum() == 3
    assert record[0].filename == __file__  # the warning points at the caller of encode_tokens
    with pytest.warns(UserWarning, match="truncated") as record:
        encoder.encode([" ".join(["run"] * 100)])
    assert record[0].filename == __file__  # ... and of encode
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        encoder.encode(["a short prompt"])


def test_missing_tag_weights_fail_fast_naming_places_and_fix(tmp_path):
    start = time.perf_counter()
    with pytest.raises(FileNotFoundError) as info:
        resolve_clip_weights("ViT-B-32", "laion2b_s34b_b79k", weights_cache_dir=tmp_path)
    message = str(info.value)
    assert str(tmp_path) in message and "laion/CLIP-ViT-B-32-laion2B-s34B-b79K" in message
    assert "pretrained='/path/to/open_clip_model.safetensors'" in message
    with pytest.raises(FileNotFoundError, match="openai"):
        CLIPTextEncoder(pretrained="openai", weights_cache_dir=tmp_path)
    assert time.perf_counter() - start < 10  # no network attempt, no hang


def test_tag_found_in_a_hub_cache_layout(random_clip, tmp_path):
    """A tag resolves to the file in a Hugging Face cache folder (how `openai` is found)."""
    repo = tmp_path / "models--timm--vit_base_patch32_clip_224.openai"
    snapshot = repo / "snapshots" / ("0" * 40)
    snapshot.mkdir(parents=True)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("0" * 40)
    (snapshot / "open_clip_model.safetensors").symlink_to(random_clip[1])
    path, quick_gelu = resolve_clip_weights("ViT-B-32", "openai", weights_cache_dir=tmp_path)
    assert path.resolve() == random_clip[1].resolve() and quick_gelu is True


def test_bad_names_and_paths(tmp_path):
    with pytest.raises(ValueError, match="known tags: .*openai"):
        resolve_clip_weights("ViT-B-32", "no_such_tag")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        resolve_clip_weights("ViT-B-32", str(tmp_path / "missing.safetensors"))
    with pytest.raises(FileNotFoundError, match="no CLIP checkpoint in folder"):
        resolve_clip_weights("ViT-B-32", str(tmp_path))
    with pytest.raises(ValueError, match="unknown open_clip model"):
        CLIPTextEncoder(model_name="ViT-Q-99", pretrained=None)
    with pytest.raises(ValueError, match="unknown text encoder 'bert'"):
        load_text_encoder("bert")


def test_bad_prompts(encoder):
    with pytest.raises(ValueError, match="empty list"):
        encoder.encode([])
    with pytest.raises(ValueError, match="not a string"):
        encoder.encode(["walk", 7])


@pytest.fixture()
def openai_style_archive(tmp_path):
    """(reference model, path): a tiny CLIP as a TorchScript archive named like OpenAI's
    ViT-B-32.pt (weights rounded to float16, as OpenAI's files store them)."""
    from open_clip.model import CLIP

    torch.manual_seed(5)
    model = CLIP(
        embed_dim=32,
        vision_cfg={"image_size": 64, "layers": 1, "width": 64, "head_width": 64, "patch_size": 32},
        text_cfg={"context_length": 77, "vocab_size": 49408, "width": 64, "heads": 1, "layers": 2},
        quick_gelu=True,
    )
    model = model.half().float().eval()
    path = tmp_path / "ViT-B-32.pt"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # torch.jit is deprecated
        torch.jit.script(model).save(str(path))
    return model, path


def test_official_openai_torchscript_file_is_loaded(openai_style_archive, monkeypatch):
    import vhdiff.text.clip as clip_module

    reference, path = openai_style_archive
    assert clip_module.is_torchscript_archive(path)
    digest = clip_module._file_sha256(path)
    monkeypatch.setattr(clip_module, "official_torchscript_sha256", lambda name: {digest})
    # found through the "openai" tag in the clip download folder, as MDM users have it
    encoder = CLIPTextEncoder(pretrained="openai", weights_cache_dir=path.parent)
    assert encoder.checkpoint == path
    ids = open_clip.get_tokenizer("ViT-B-32")(PROMPTS)
    with torch.no_grad():
        expected = reference.encode_text(ids)
    torch.testing.assert_close(encoder.encode(PROMPTS), expected, atol=1e-4, rtol=1e-4)


def test_other_torchscript_archives_are_refused(openai_style_archive):
    _, path = openai_style_archive
    with pytest.raises(ValueError, match="not OpenAI's official ViT-B-32 file"):
        CLIPTextEncoder(pretrained=path)
