"""LR schedule, EMA, global-batch sampler and RNG state: the trainer's small parts."""

import itertools
import math
import random

import numpy as np
import pytest
import torch
from torch import nn

from vhdiff.training import (
    EMA,
    EpochChainSampler,
    GlobalBatchSampler,
    WarmupSchedule,
    build_lr_scheduler,
)
from vhdiff.training.seeding import get_rng_state, seed_everything, set_rng_state


def test_warmup_then_cosine_reaches_min_ratio():
    s = WarmupSchedule(schedule="cosine", warmup_steps=4, max_steps=104, min_lr_ratio=0.1)
    assert [s(i) for i in range(4)] == pytest.approx([0.2, 0.4, 0.6, 0.8])
    assert s(4) == pytest.approx(1.0)
    assert s(54) == pytest.approx(0.1 + 0.9 * 0.5)  # halfway down the cosine
    assert s(104) == pytest.approx(0.1)
    assert s(500) == pytest.approx(0.1)  # clamped past max_steps
    values = [s(i) for i in range(4, 105)]
    assert all(a >= b for a, b in itertools.pairwise(values))


def test_constant_schedule_and_scheduler_state_is_weights_only_safe(tmp_path):
    s = WarmupSchedule(schedule="constant", warmup_steps=2, max_steps=10)
    assert [s(i) for i in range(5)] == pytest.approx([1 / 3, 2 / 3, 1, 1, 1])
    p = nn.Parameter(torch.zeros(1))
    opt = torch.optim.AdamW([p], lr=0.5)
    sched = build_lr_scheduler(opt, schedule="cosine", warmup_steps=1, max_steps=4)
    for _ in range(2):
        opt.step()
        sched.step()
    torch.save(sched.state_dict(), tmp_path / "s.pt")
    state = torch.load(tmp_path / "s.pt", weights_only=True)
    opt2 = torch.optim.AdamW([nn.Parameter(torch.zeros(1))], lr=0.5)
    sched2 = build_lr_scheduler(opt2, schedule="cosine", warmup_steps=1, max_steps=4)
    sched2.load_state_dict(state)
    assert sched2.get_last_lr() == pytest.approx(sched.get_last_lr())
    assert sched.get_last_lr()[0] == pytest.approx(0.5 * 0.5 * (1 + math.cos(math.pi / 3)))


@pytest.mark.parametrize("bad", [{"schedule": "step"}, {"warmup_steps": -1}, {"min_lr_ratio": 2.0}])
def test_bad_schedule_arguments(bad):
    with pytest.raises(ValueError, match="schedule|warmup|min_lr_ratio"):
        WarmupSchedule(**{"max_steps": 10, **bad})


def test_ema_follows_warmup_decay_and_copies_buffers():
    model = nn.BatchNorm1d(3)
    ema = EMA(model, decay=0.99)
    start = ema.module.weight.detach().clone()
    assert ema.current_decay() == pytest.approx(1 / 10)  # (1 + 0) / (10 + 0)
    with torch.no_grad():
        model.weight.add_(1.0)
        model.running_mean.fill_(7.0)
    ema.update(model)
    # theta_ema = d * theta_ema + (1 - d) * theta with d = 0.1
    torch.testing.assert_close(ema.module.weight, 0.1 * start + 0.9 * model.weight.detach())
    assert torch.equal(ema.module.running_mean, model.running_mean)
    assert ema.current_decay() == pytest.approx(2 / 11)
    ema.num_updates = 10_000
    assert ema.current_decay() == pytest.approx(0.99)
    assert not any(p.requires_grad for p in ema.module.parameters())


def test_ema_without_warmup_and_bad_decay():
    model = nn.Linear(2, 2)
    ema = EMA(model, decay=0.5, warmup=False)
    before = ema.module.weight.detach().clone()
    with torch.no_grad():
        model.weight.mul_(3)
    ema.update(model)
    torch.testing.assert_close(ema.module.weight, 0.5 * before + 0.5 * model.weight.detach())
    with pytest.raises(ValueError, match="decay"):
        EMA(model, decay=1.0)


def test_global_batches_split_across_ranks_equal_the_single_process_batches():
    one = list(GlobalBatchSampler(num_samples=50, global_batch=8, seed=4, epoch=2))
    ranks = [
        list(GlobalBatchSampler(num_samples=50, global_batch=8, rank=r, world_size=2, seed=4, epoch=2))
        for r in range(2)
    ]
    assert len(one) == 6 and all(len(b) == 8 for b in one)  # tail of 2 dropped
    for b, (r0, r1) in enumerate(zip(*ranks)):
        assert r0 + r1 == one[b]
    flat = [i for b in one for i in b]
    assert len(set(flat)) == 48
    other_epoch = list(GlobalBatchSampler(num_samples=50, global_batch=8, seed=4, epoch=3))
    assert other_epoch != one
    resumed = list(GlobalBatchSampler(num_samples=50, global_batch=8, seed=4, epoch=2, start_batch=4))
    assert resumed == one[4:]


def test_epoch_chain_continues_epoch_after_epoch_from_a_mid_epoch_position():
    chain = iter(EpochChainSampler(num_samples=50, global_batch=8, rank=1, world_size=2, seed=4, epoch=2, start_batch=4))
    got = [next(chain) for _ in range(2 + 6 + 6 + 1)]
    expected = []
    for epoch, start in ((2, 4), (3, 0), (4, 0), (5, 0)):
        expected += list(GlobalBatchSampler(
            num_samples=50, global_batch=8, rank=1, world_size=2, seed=4, epoch=epoch, start_batch=start,
        ))
    assert got == expected[:15]
    assert got[2] != got[8]  # epochs are shuffled differently
    with pytest.raises(ValueError, match="fewer than one micro-batch"):
        EpochChainSampler(num_samples=5, global_batch=8)


def test_global_batch_sampler_errors_say_what_to_change():
    with pytest.raises(ValueError, match="multiple of the 3 processes"):
        GlobalBatchSampler(num_samples=50, global_batch=8, world_size=3)
    with pytest.raises(ValueError, match="fewer than one micro-batch"):
        GlobalBatchSampler(num_samples=5, global_batch=8)


def test_rng_state_round_trip_covers_python_numpy_torch(tmp_path):
    seed_everything(11)
    state = get_rng_state()
    torch.save(state, tmp_path / "rng.pt")
    first = (random.random(), np.random.rand(), torch.rand(2))
    set_rng_state(torch.load(tmp_path / "rng.pt", weights_only=True))
    again = (random.random(), np.random.rand(), torch.rand(2))
    assert first[0] == again[0] and first[1] == again[1]
    assert torch.equal(first[2], again[2])
    with pytest.raises(ValueError, match="seed"):
        seed_everything(-1)
