"""Training engine: `Trainer`, EMA, atomic checkpoints, LR schedules, DDP helpers.

Depends on torch and `vhdiff.diffusion`'s interface only. Launching on many GPUs or
nodes: see `vhdiff.training.distributed`.
"""

from vhdiff.training.checkpoint import (
    CheckpointError,
    CheckpointInfo,
    latest_checkpoint,
    list_checkpoints,
    load_module_weights,
    load_training_state,
    save_checkpoint,
    verify_checkpoint,
)
from vhdiff.training.distributed import DistributedContext, cleanup_distributed, init_distributed
from vhdiff.training.ema import EMA
from vhdiff.training.init_weights import load_init_weights, resolve_init_weights
from vhdiff.training.lr_schedule import WarmupSchedule, build_lr_scheduler
from vhdiff.training.sampler import EpochChainSampler, GlobalBatchSampler
from vhdiff.training.seeding import seed_everything
from vhdiff.training.timesteps import (
    TIMESTEP_SAMPLINGS,
    LossSecondMomentTimesteps,
    TimestepSampling,
    UniformTimesteps,
    build_timestep_sampler,
)
from vhdiff.training.trainer import (
    LossContext,
    SampleContext,
    Trainer,
    TrainerConfig,
    TrainResult,
)

__all__ = [
    "EMA",
    "TIMESTEP_SAMPLINGS",
    "CheckpointError",
    "CheckpointInfo",
    "DistributedContext",
    "EpochChainSampler",
    "GlobalBatchSampler",
    "LossContext",
    "LossSecondMomentTimesteps",
    "SampleContext",
    "TimestepSampling",
    "TrainResult",
    "Trainer",
    "TrainerConfig",
    "UniformTimesteps",
    "WarmupSchedule",
    "build_lr_scheduler",
    "build_timestep_sampler",
    "cleanup_distributed",
    "init_distributed",
    "latest_checkpoint",
    "list_checkpoints",
    "load_init_weights",
    "load_module_weights",
    "load_training_state",
    "resolve_init_weights",
    "save_checkpoint",
    "seed_everything",
    "verify_checkpoint",
]
