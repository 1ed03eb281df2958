"""The Trainer in one process: exact resume, learning, hooks, logs and bad settings."""

import json

import pytest
import torch

from tests.training.helpers import assert_same, params, tiny_config, tiny_trainer
from vhdiff.diffusion import GaussianDiffusion, NoiseSchedule
from vhdiff.toy import Toy2D, ToyMLP
from vhdiff.training import Trainer, TrainerConfig, init_distributed


@pytest.mark.parametrize(
    "sampling, extra",
    [("uniform", {}), ("loss_second_moment", {"grad_accum": 2, "T": 10})],
)
def test_resume_is_exact(tmp_path, sampling, extra):
    """Stop after k steps, resume in a NEW trainer: same weights, EMA, optimizer as one run."""
    T = extra.pop("T", 50)
    full = tiny_trainer(tmp_path / "full", timestep_sampling=sampling, T=T, **extra)
    full.fit()
    assert full.step == 12

    first = tiny_trainer(tmp_path / "split", timestep_sampling=sampling, T=T, **extra)
    first.fit(until_step=5)  # writes a checkpoint at step 5, as a killed run's last save
    torch.manual_seed(1234)  # disturb the global RNG: resume must restore it
    second = tiny_trainer(tmp_path / "split", timestep_sampling=sampling, T=T, **extra)
    assert second.resume_latest().name == "step_00000005"
    assert second.step == 5
    second.fit()

    assert_same(params(second.raw_model), params(full.raw_model))
    assert_same(params(second.ema.module), params(full.ema.module))
    assert second.ema.num_updates == full.ema.num_updates == 12
    assert second.lr_scheduler.get_last_lr() == full.lr_scheduler.get_last_lr()
    if sampling == "loss_second_moment":
        assert torch.equal(
            second.timestep_sampler.loss_counts, full.timestep_sampler.loss_counts
        )
        assert full.timestep_sampler.loss_counts.sum() > 0
    # the metrics log of the resumed run has each step once
    steps = [json.loads(line)["step"] for line in (tmp_path / "split" / "metrics.jsonl").open()]
    assert steps == sorted(set(steps)) and steps[-1] == 12


@pytest.mark.parametrize("num_workers", [0, 2])
def test_data_position_counts_epochs_and_resumes_across_their_boundary(tmp_path, num_workers):
    """40 samples / batch 16 = 2 batches an epoch: 7 steps end in epoch 3 after 1 batch.

    One DataLoader spans all epochs (workers start once); a run stopped exactly at an
    epoch's end (step 4) and resumed sees the same batches as one run, with workers too.
    """
    kw = {"data_size": 40, "max_steps": 7, "num_workers": num_workers}
    full = tiny_trainer(tmp_path / "full", **kw)
    full.fit()
    assert (full.epoch, full.batch_in_epoch) == (3, 1)

    first = tiny_trainer(tmp_path / "split", save_every=4, **kw)
    first.fit(until_step=4)
    assert (first.epoch, first.batch_in_epoch) == (2, 0)
    second = tiny_trainer(tmp_path / "split", **kw)
    assert second.resume_latest().name == "step_00000004"
    second.fit()
    assert (second.epoch, second.batch_in_epoch) == (3, 1)
    assert_same(params(second.raw_model), params(full.raw_model))
    if num_workers:
        reference = tiny_trainer(tmp_path / "main_process", **{**kw, "num_workers": 0})
        reference.fit()
        assert_same(params(full.raw_model), params(reference.raw_model))


def test_toy_model_learns(tmp_path):
    trainer = tiny_trainer(tmp_path, max_steps=150, log_every=25, lr=5e-3, batch_size=64, ema_decay=0)
    trainer.fit()
    losses = [json.loads(line)["loss"] for line in (tmp_path / "metrics.jsonl").open()]
    assert len(losses) == 6
    assert losses[-1] < 0.75 * losses[0]
    assert trainer.ema is None


def test_checkpoints_pruned_and_best_kept(tmp_path):
    trainer = tiny_trainer(tmp_path, max_steps=12, save_every=3, keep_last=2)
    trainer.fit()
    ckdir = tmp_path / "checkpoints"
    names = sorted(p.name for p in ckdir.iterdir())
    best = json.loads((ckdir / "best.json").read_text())
    kept = {"step_00000009", "step_00000012", best["path"]}
    assert {n for n in names if n.startswith("step_")} == kept
    assert trainer.last_checkpoint == ckdir / "step_00000012"


def test_sample_hooks_see_the_ema_model_and_leave_training_unchanged(tmp_path):
    seen = []

    def hook(ctx):
        seen.append((ctx.step, ctx.model.training))
        torch.rand(100)  # a hook may draw random numbers freely
        ctx.diffusion.sample(ctx.model, (4, 2), sampler="ddim", steps=3)

    plain = tiny_trainer(tmp_path / "a")
    plain.fit()
    hooked = tiny_trainer(tmp_path / "b", sample_every=4)
    hooked.add_sample_hook(hook)
    hooked.fit()
    assert seen == [(4, False), (8, False), (12, False)]
    assert_same(params(hooked.raw_model), params(plain.raw_model))
    assert hooked.raw_model.training


def test_toy_scatter_hook_writes_pictures(tmp_path):
    from vhdiff.toy import scatter_hook

    trainer = tiny_trainer(tmp_path, max_steps=2)
    trainer.add_sample_hook(scatter_hook(num_samples=16, steps=2), every=2)
    trainer.fit()
    assert (tmp_path / "samples" / "step_00000002.png").stat().st_size > 1000
    assert torch.load(tmp_path / "samples" / "step_00000002.pt").shape == (16, 2)


def test_bf16_autocast_on_cpu_trains(tmp_path):
    trainer = tiny_trainer(tmp_path, precision="bf16", max_steps=3)
    assert trainer.amp_dtype == torch.bfloat16
    trainer.fit()
    assert all(torch.isfinite(p).all() for p in trainer.raw_model.parameters())
    assert next(trainer.raw_model.parameters()).dtype == torch.float32  # master weights


def test_dict_batches_with_mask_and_conditioning(tmp_path):
    class Masked(torch.utils.data.Dataset):
        def __len__(self):
            return 32

        def __getitem__(self, i):
            return {"x": torch.randn(2), "mask": torch.tensor([1.0, 0.0]), "label": torch.tensor(i % 2)}

    got = {}

    class Spy(ToyMLP):
        def forward(self, x, t, **cond):
            got.update(cond)
            return super().forward(x, t)

    trainer = Trainer(
        model=Spy(hidden=8, layers=2), diffusion=GaussianDiffusion(NoiseSchedule.cosine(T=10)),
        dataset=Masked(), config=tiny_config(tmp_path, max_steps=1, batch_size=8, cond_drop_prob=0.5),
        context=init_distributed("cpu"), condition=lambda batch: {"extra": torch.ones(8, 3)},
    )
    trainer.fit()
    assert set(got) == {"mask", "label", "extra", "cond_drop"}
    assert got["cond_drop"].dtype == torch.bool and got["cond_drop"].shape == (8,)


def _bad_trainer(tmp_path, dataset=None, **cfg):
    return Trainer(
        model=ToyMLP(hidden=8, layers=2), diffusion=GaussianDiffusion(NoiseSchedule.cosine(T=10)),
        dataset=dataset if dataset is not None else Toy2D(64), config=tiny_config(tmp_path, **cfg),
        context=init_distributed("cpu"),
    )


def test_bad_settings_fail_early_with_the_fix(tmp_path):
    with pytest.raises(ValueError, match="not divisible by trainer.grad_accum"):
        TrainerConfig(batch_size=10, grad_accum=3)
    with pytest.raises(ValueError, match="trainer.precision must be one of"):
        TrainerConfig(precision="fp8")
    with pytest.raises(ValueError, match="fp16 needs a CUDA device"):
        _bad_trainer(tmp_path, precision="fp16")
    with pytest.raises(ValueError, match="fewer than one micro-batch"):
        _bad_trainer(tmp_path, dataset=Toy2D(8), batch_size=16)
    with pytest.raises(ValueError, match="set trainer.sample_every"):
        _bad_trainer(tmp_path).add_sample_hook(lambda ctx: None)
    with pytest.raises(ValueError, match="no CUDA|not available") if not torch.cuda.is_available() else _nothing():
        init_distributed("cuda")


def test_bad_batches_say_what_to_return(tmp_path):
    class Tuples(torch.utils.data.Dataset):
        def __len__(self):
            return 16

        def __getitem__(self, i):
            return (torch.zeros(2), 0)

    with pytest.raises(ValueError, match="a batch must be a tensor or a dict"):
        _bad_trainer(tmp_path, dataset=Tuples(), batch_size=4).fit()


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False
