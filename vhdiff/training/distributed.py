"""One process or many: device choice, process-group set-up and the few collectives we use.

Launch a multi-GPU (or multi-process CPU) run with torchrun; every process runs the same
command, and `init_distributed` reads torchrun's environment (RANK, WORLD_SIZE,
LOCAL_RANK, MASTER_ADDR, MASTER_PORT)::

    # one machine, 4 GPUs (NCCL); `--no-python` runs the console script itself
    torchrun --nproc_per_node 4 --no-python vhdiff train configs/motion.yaml

    # one machine, 2 CPU processes (gloo)
    torchrun --nproc_per_node 2 --no-python vhdiff train configs/toy2d.yaml --device cpu

    # two machines, 8 GPUs each: run on BOTH nodes (same command), with a rendezvous
    # endpoint reachable from every node (host:port of any one node) and a shared run id
    torchrun --nnodes 2 --nproc_per_node 8 \
        --rdzv_backend c10d --rdzv_endpoint node0.example:29500 --rdzv_id my_run \
        --no-python vhdiff train configs/motion.yaml

    # or the static form: give each node its rank explicitly
    torchrun --nnodes 2 --node_rank 0 --nproc_per_node 8 \
        --master_addr node0.example --master_port 29500 --no-python vhdiff train ...

`trainer.batch_size` in the config is the GLOBAL batch: it is split evenly across
ranks (and across gradient-accumulation micro-steps), so a run gives the same
optimisation on 1, 2 or 16 processes. Only rank 0 logs and writes checkpoints; the
output directory must be on a file system every node sees if you want to resume on
another node.
"""

from __future__ import annotations

import datetime
import os
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist

DEVICE_CHOICES = ("auto", "cpu", "cuda")


@dataclass(frozen=True)
class DistributedContext:
    """Where this process sits in the run.

    rank / world_size: global process index and count (0 / 1 without torchrun).
    local_rank: index on this machine (selects the GPU). device: this process's device.
    """

    rank: int
    world_size: int
    local_rank: int
    device: torch.device

    @property
    def is_main(self) -> bool:
        """True on the process that logs and saves (rank 0)."""
        return self.rank == 0

    @property
    def is_distributed(self) -> bool:
        return self.world_size > 1


def resolve_device(device: str, local_rank: int = 0) -> torch.device:
    """'auto' -> cuda:local_rank when CUDA is available, else cpu. 'cuda' without CUDA is an error."""
    if device not in DEVICE_CHOICES:
        raise ValueError(f"device must be one of {', '.join(DEVICE_CHOICES)}; got {device!r}")
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda":
        if not torch.cuda.is_available():
            raise ValueError("--device cuda was asked for but CUDA is not available; use --device cpu")
        return torch.device("cuda", local_rank)
    return torch.device("cpu")


def init_distributed(device: str = "auto", timeout_s: float = 1800.0) -> DistributedContext:
    """Read torchrun's environment and join the process group (NCCL on GPU, gloo on CPU).

    Without torchrun (no WORLD_SIZE, or WORLD_SIZE=1) this only picks the device.
    Calling it again in a process that already joined a group reuses that group.
    """
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    dev = resolve_device(device, local_rank)
    if world_size > 1 and not dist.is_initialized():
        if dev.type == "cuda":
            torch.cuda.set_device(dev)
        dist.init_process_group(
            backend="nccl" if dev.type == "cuda" else "gloo",
            timeout=datetime.timedelta(seconds=timeout_s),
            **({"device_id": dev} if dev.type == "cuda" else {}),
        )
    return DistributedContext(rank=rank, world_size=world_size, local_rank=local_rank, device=dev)


def cleanup_distributed() -> None:
    """Leave the process group (safe to call when none was joined)."""
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def barrier() -> None:
    if dist.is_available() and dist.is_initialized():
        dist.barrier()


def all_gather_tensor(x: torch.Tensor) -> torch.Tensor:
    """Concatenate equally-shaped tensors [n, ...] from every rank along dim 0 -> [world*n, ...]."""
    if not (dist.is_available() and dist.is_initialized()):
        return x
    parts = [torch.empty_like(x) for _ in range(dist.get_world_size())]
    dist.all_gather(parts, x.contiguous())
    return torch.cat(parts, dim=0)


def all_reduce_mean(x: torch.Tensor) -> torch.Tensor:
    """Mean of a tensor over ranks (returns a new tensor; identity without a group)."""
    if not (dist.is_available() and dist.is_initialized()):
        return x
    y = x.detach().clone()
    dist.all_reduce(y, op=dist.ReduceOp.SUM)
    return y / dist.get_world_size()


def gather_objects(obj: Any) -> list[Any]:
    """Every rank's `obj` as a list indexed by rank (one-element list without a group).

    Used only for small, trusted values produced by our own processes (RNG states).
    """
    if not (dist.is_available() and dist.is_initialized()):
        return [obj]
    out: list[Any] = [None] * dist.get_world_size()
    dist.all_gather_object(out, obj)
    return out


def broadcast_object(obj: Any, src: int = 0) -> Any:
    """Rank `src`'s value of `obj` on every rank."""
    if not (dist.is_available() and dist.is_initialized()):
        return obj
    box = [obj]
    dist.broadcast_object_list(box, src=src)
    return box[0]
