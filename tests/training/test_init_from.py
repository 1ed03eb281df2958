"""`trainer.init_from`: a new run starts from earlier weights (fine-tuning), nothing else carries over."""

import pytest
import torch
from safetensors.torch import save_file

from tests.training.helpers import (
    TOY_CONFIG,
    assert_same,
    checkpoint_weights,
    params,
    tiny_trainer,
)
from vhdiff.cli import main
from vhdiff.toy import ToyMLP
from vhdiff.training import latest_checkpoint
from vhdiff.training.init_weights import load_init_weights, resolve_init_weights


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    """A toy run with checkpoints at steps 6 and 12 (raw and EMA weights differ)."""
    out = tmp_path_factory.mktemp("first_run")
    tiny_trainer(out, save_every=6).fit()
    return out


def test_every_source_form_resolves_to_the_weights_a_run_exports(trained_run, tmp_path):
    step12 = trained_run / "checkpoints" / "step_00000012"
    assert resolve_init_weights(trained_run) == step12 / "ema" / "model.safetensors"  # newest, EMA
    step6 = trained_run / "checkpoints" / "step_00000006"
    assert resolve_init_weights(step6) == step6 / "ema" / "model.safetensors"
    assert resolve_init_weights(step6 / "model") == step6 / "model" / "model.safetensors"
    pipeline = tmp_path / "pipeline"  # an exported pipeline folder: weights under model/, no ema/
    (pipeline / "model").mkdir(parents=True)
    save_file(checkpoint_weights(step12), str(pipeline / "model" / "model.safetensors"))
    assert resolve_init_weights(pipeline) == pipeline / "model" / "model.safetensors"
    single = step12 / "model" / "model.safetensors"
    assert resolve_init_weights(single) == single


def test_a_new_run_starts_from_the_weights_with_fresh_optimizer_and_step(trained_run, tmp_path):
    exported = checkpoint_weights(trained_run / "checkpoints" / "step_00000012", "ema")
    scratch = tiny_trainer(tmp_path / "scratch")
    tuned = tiny_trainer(tmp_path / "tuned", init_from=str(trained_run), lr=1e-3)
    assert tuned.init_weights.parent.name == "ema"
    assert_same(params(tuned.raw_model), exported)
    assert_same(params(tuned.ema.module), exported)  # the EMA starts from them too
    assert not torch.equal(params(scratch.raw_model)["inp.weight"], exported["inp.weight"])
    assert tuned.step == 0 and not tuned.optimizer.state
    assert tuned.optimizer.param_groups[0]["lr"] < 1e-3  # the new run's own warmup from step 0

    result = tuned.fit()
    assert result.step == 12  # its own max_steps, counted from 0
    final = checkpoint_weights(latest_checkpoint(tmp_path / "tuned" / "checkpoints").path)
    assert not torch.equal(final["inp.weight"], exported["inp.weight"])  # and it trained


def test_fp16_weights_load_into_an_fp32_model(trained_run, tmp_path):
    half = {k: v.half() for k, v in checkpoint_weights(trained_run / "checkpoints" / "step_00000012").items()}
    save_file(half, str(tmp_path / "half.safetensors"))
    model = ToyMLP(dim=2, hidden=32, layers=2)
    load_init_weights(model, tmp_path / "half.safetensors")
    for name, tensor in model.state_dict().items():
        assert tensor.dtype == torch.float32 and torch.equal(tensor, half[name].float())


def test_resume_wins_over_init_from(trained_run, tmp_path):
    run = tmp_path / "run"
    tiny_trainer(run, save_every=6).fit(until_step=6)
    own = checkpoint_weights(run / "checkpoints" / "step_00000006")
    resumed = tiny_trainer(run, save_every=6, init_from=str(trained_run))
    resumed.resume_latest()
    assert resumed.step == 6
    assert_same(params(resumed.raw_model), own)


def test_weights_that_do_not_fit_name_what_differs(trained_run, tmp_path):
    wider = ToyMLP(dim=2, hidden=48, layers=2)
    before = params(wider)
    with pytest.raises(ValueError, match=r"do not fit this model \(shape \(file vs model\): inp\.weight "
                                         r"\(32, 2\) vs \(48, 2\).*model: section"):
        load_init_weights(wider, trained_run)
    assert_same(params(wider), before)  # checked before copying: nothing half-loaded
    deeper = ToyMLP(dim=2, hidden=32, layers=3)
    with pytest.raises(ValueError, match=r"missing: blocks\.1\.bias, blocks\.1\.weight"):
        load_init_weights(deeper, trained_run)


def test_bad_sources_fail_with_the_fix(tmp_path):
    model = ToyMLP(dim=2, hidden=32, layers=2)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_init_weights(model, tmp_path / "nowhere")
    (tmp_path / "weights.pt").write_bytes(b"\x80\x04K\x01.")  # a pickle is never read
    with pytest.raises(ValueError, match="not a .safetensors file.*no pickles"):
        load_init_weights(model, tmp_path / "weights.pt")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="holds no model.safetensors"):
        load_init_weights(model, tmp_path / "empty")
    (tmp_path / "cut.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{\"a\":")
    with pytest.raises(ValueError, match="truncated or corrupt"):
        load_init_weights(model, tmp_path / "cut.safetensors")


def test_train_command_fine_tunes_and_reports_bad_sources_in_one_line(trained_run, tmp_path, capsys):
    fast = ["--device", "cpu", "trainer.progress=false", "trainer.sample_hooks=[]", "trainer.log_every=2",
            "model.params.hidden=32", "model.params.layers=2", "data.params.n=256", "trainer.batch_size=16",
            "trainer.max_steps=2"]
    argv = ["train", str(TOY_CONFIG), "--out", str(tmp_path / "tuned"), *fast]
    assert main([*argv, f"trainer.init_from={trained_run}"]) == 0
    assert "trained to step 2" in capsys.readouterr().out
    config = (latest_checkpoint(tmp_path / "tuned" / "checkpoints").path / "config.yaml").read_text()
    assert f"init_from: {trained_run}" in config  # the run records where it started from

    bad = ["train", str(TOY_CONFIG), "--out", str(tmp_path / "bad"), *fast]
    assert main([*bad, f"trainer.init_from={tmp_path / 'nowhere'}"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "does not exist" in err and "Traceback" not in err
    assert main([*bad, "model.params.hidden=16", f"trainer.init_from={trained_run}"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "do not fit this model" in err


def test_the_bundled_motion_model_is_a_starting_point_for_the_shipped_config():
    import importlib

    from vhdiff.config import load_config
    from vhdiff.motion.pipeline import MotionPipeline, bundled_model_dir
    from vhdiff.registry import build_model

    cfg = load_config(TOY_CONFIG.parent / "motion_synthetic.yaml", [f"trainer.init_from={bundled_model_dir()}"])
    for module in cfg.imports:
        importlib.import_module(module)
    model = build_model(cfg.model.name, cfg.model.params)
    load_init_weights(model, cfg.trainer.init_from)
    shipped = MotionPipeline.from_pretrained().model.state_dict()
    own = model.state_dict()
    assert own.keys() == shipped.keys()
    for name, tensor in own.items():
        assert torch.equal(tensor, shipped[name].to(tensor.dtype)), name
