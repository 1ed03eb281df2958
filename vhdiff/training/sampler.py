"""Batch sampling with global-batch semantics and a resumable position."""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch.utils.data import Sampler


class GlobalBatchSampler(Sampler[list[int]]):
    """Yields this rank's share of each global micro-batch, from any position in an epoch.

    Epoch e shuffles the dataset with a generator seeded by (seed + e) (the same on every
    rank), cuts the permutation into global micro-batches of `global_batch` indices
    (incomplete tail dropped, so every rank gets equal work), and hands rank r the r-th
    contiguous slice of size global_batch / world_size. The union over ranks of batch b is
    exactly batch b of a one-process run, which is what makes a DDP run optimise the same
    objective as one process with the same global batch. `start_batch` skips the first
    batches of the epoch, for an exact resume mid-epoch.
    """

    def __init__(
        self, *, num_samples: int, global_batch: int, rank: int = 0, world_size: int = 1,
        seed: int = 0, epoch: int = 0, start_batch: int = 0, shuffle: bool = True,
    ) -> None:
        if global_batch < 1 or global_batch % world_size:
            raise ValueError(
                f"global micro-batch {global_batch} must be a positive multiple of the "
                f"{world_size} processes; change trainer.batch_size or trainer.grad_accum"
            )
        if num_samples < global_batch:
            raise ValueError(
                f"the dataset has {num_samples} samples, fewer than one micro-batch of "
                f"{global_batch}; lower trainer.batch_size or use more data"
            )
        self.num_samples = num_samples
        self.global_batch = global_batch
        self.local_batch = global_batch // world_size
        self.rank = rank
        self.seed = seed
        self.epoch = epoch
        self.start_batch = start_batch
        self.shuffle = shuffle

    @property
    def batches_per_epoch(self) -> int:
        return self.num_samples // self.global_batch

    def __len__(self) -> int:
        return max(self.batches_per_epoch - self.start_batch, 0)

    def __iter__(self) -> Iterator[list[int]]:
        if self.shuffle:
            g = torch.Generator().manual_seed(self.seed + self.epoch)
            order = torch.randperm(self.num_samples, generator=g)
        else:
            order = torch.arange(self.num_samples)
        lo = self.rank * self.local_batch
        for b in range(self.start_batch, self.batches_per_epoch):
            start = b * self.global_batch + lo
            yield order[start:start + self.local_batch].tolist()


class EpochChainSampler(Sampler[list[int]]):
    """GlobalBatchSampler's epochs one after another, from (`epoch`, `start_batch`), without end.

    One DataLoader over this sampler lives for a whole training run, so worker processes
    start once (not once per epoch, which costs seconds each time on small data sets with
    large batches) and keep prefetching across epoch boundaries. The batches are exactly
    those of GlobalBatchSampler for epoch e, e + 1, ... (arguments as there).
    """

    def __init__(
        self, *, num_samples: int, global_batch: int, rank: int = 0, world_size: int = 1,
        seed: int = 0, epoch: int = 0, start_batch: int = 0, shuffle: bool = True,
    ) -> None:
        self._args = {
            "num_samples": num_samples, "global_batch": global_batch, "rank": rank,
            "world_size": world_size, "seed": seed, "shuffle": shuffle,
        }
        self.epoch = epoch
        self.start_batch = start_batch
        self.batches_per_epoch = GlobalBatchSampler(**self._args).batches_per_epoch  # validates

    def __iter__(self) -> Iterator[list[int]]:
        epoch, start = self.epoch, self.start_batch
        while True:
            yield from GlobalBatchSampler(**self._args, epoch=epoch, start_batch=start)
            epoch, start = epoch + 1, 0
