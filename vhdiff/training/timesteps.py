"""How training draws timesteps: uniformly, or by importance on the VLB's second moment.

Training-side state (improved-diffusion keeps it apart from the diffusion too): the
`Trainer` owns the sampler named by `trainer.timestep_sampling`, draws (t, weights) from
it, applies the importance weights to the per-sample losses once, feeds the losses back
(from every rank) and saves its state in checkpoints.
"""

from __future__ import annotations

from typing import Literal, get_args

import torch
from torch import Tensor

TimestepSampling = Literal["uniform", "loss_second_moment"]
TIMESTEP_SAMPLINGS: tuple[str, ...] = get_args(TimestepSampling)


class UniformTimesteps:
    """t ~ U{0, ..., T-1}; every importance weight is 1."""

    learns_from_losses = False  # True: the trainer must feed it losses (`update`)

    def __init__(self, *, num_timesteps: int) -> None:
        self.num_timesteps = num_timesteps

    def probabilities(self) -> Tensor:
        return torch.full((self.num_timesteps,), 1.0 / self.num_timesteps, dtype=torch.float64)

    def sample(
        self, batch: int, device: torch.device, generator: torch.Generator | None = None
    ) -> tuple[Tensor, Tensor]:
        """Returns (t long [B], weights float32 [B]) with E[weight * loss_t] = mean_t loss_t."""
        t = torch.randint(0, self.num_timesteps, (batch,), generator=_cpu(generator))
        return t.to(device), torch.ones(batch, device=device)

    def update(self, t: Tensor, losses: Tensor) -> None:
        """Record per-sample losses (used by loss-aware samplers; a no-op here)."""

    def state_dict(self) -> dict[str, Tensor] | None:
        """What a checkpoint keeps (None: nothing to keep)."""
        return None

    def load_state_dict(self, state: dict[str, Tensor]) -> None:
        """Restore `state_dict()`'s result (nothing for uniform sampling)."""


class LossSecondMomentTimesteps(UniformTimesteps):
    """p(t) proportional to sqrt(E[L_t^2]) (improved DDPM, eq. 17), once every t has history.

    Keeps the last `history` losses of each t; mixes in `uniform_prob` of the uniform
    distribution so that no t starves. Until every t has a full history it samples uniformly.
    """

    learns_from_losses = True

    def __init__(self, *, num_timesteps: int, history: int = 10, uniform_prob: float = 1e-3) -> None:
        super().__init__(num_timesteps=num_timesteps)
        self.history = history
        self.uniform_prob = uniform_prob
        self.loss_history = torch.zeros(num_timesteps, history, dtype=torch.float64)
        self.loss_counts = torch.zeros(num_timesteps, dtype=torch.long)

    def sample(
        self, batch: int, device: torch.device, generator: torch.Generator | None = None
    ) -> tuple[Tensor, Tensor]:
        """t ~ p(t); weights 1 / (T p(t)) keep the loss estimate unbiased."""
        p = self.probabilities()
        t = torch.multinomial(p, batch, replacement=True, generator=_cpu(generator)).to(device)
        weights = (1.0 / (self.num_timesteps * p[t.cpu()])).to(device=device, dtype=torch.float32)
        return t, weights

    @property
    def warmed_up(self) -> bool:
        return bool((self.loss_counts == self.history).all())

    def probabilities(self) -> Tensor:
        if not self.warmed_up:
            return super().probabilities()
        w = self.loss_history.pow(2).mean(dim=1).sqrt()
        w = w / w.sum()
        return w * (1 - self.uniform_prob) + self.uniform_prob / self.num_timesteps

    def update(self, t: Tensor, losses: Tensor) -> None:
        for ti, li in zip(t.detach().cpu().tolist(), losses.detach().double().cpu().tolist()):
            n = int(self.loss_counts[ti])
            if n == self.history:  # shift out the oldest
                self.loss_history[ti, :-1] = self.loss_history[ti, 1:].clone()
                self.loss_history[ti, -1] = li
            else:
                self.loss_history[ti, n] = li
                self.loss_counts[ti] = n + 1

    def state_dict(self) -> dict[str, Tensor]:
        return {"loss_history": self.loss_history.clone(), "loss_counts": self.loss_counts.clone()}

    def load_state_dict(self, state: dict[str, Tensor]) -> None:
        self.loss_history.copy_(state["loss_history"])
        self.loss_counts.copy_(state["loss_counts"])


TIMESTEP_SAMPLERS: dict[str, type[UniformTimesteps]] = {
    "uniform": UniformTimesteps,
    "loss_second_moment": LossSecondMomentTimesteps,
}
assert tuple(TIMESTEP_SAMPLERS) == TIMESTEP_SAMPLINGS


def build_timestep_sampler(kind: TimestepSampling, *, num_timesteps: int) -> UniformTimesteps:
    """The sampler `trainer.timestep_sampling` names (TrainerConfig has validated the name)."""
    return TIMESTEP_SAMPLERS[kind](num_timesteps=num_timesteps)


def _cpu(generator: torch.Generator | None) -> torch.Generator | None:
    """multinomial on a CPU tensor needs a CPU generator; a CUDA one is reseeded from itself."""
    if generator is None or generator.device.type == "cpu":
        return generator
    seed = int(torch.randint(0, 2**62, (1,), generator=generator, device=generator.device).item())
    return torch.Generator().manual_seed(seed)
