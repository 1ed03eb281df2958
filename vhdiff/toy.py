"""A 2-D toy problem that trains in seconds: point datasets and a small MLP denoiser.

Used by `configs/toy2d.yaml`, the trainer's tests and benchmark, and the demo. The
distributions are known in closed form, so a trained model's samples can be checked by eye
(`scatter_hook`) or against the mixture's means.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn
from torch.utils.data import Dataset

from vhdiff.atomic_io import atomic_path
from vhdiff.backbones.embeddings import sinusoidal_embedding
from vhdiff.backbones.pretrained import PretrainedMixin, register_config
from vhdiff.extras import require

TOY_KINDS = ("ring8", "moons")


def ring_centers(radius: float = 2.0, modes: int = 8) -> Tensor:
    """Means [modes, 2] of the ring-of-Gaussians mixture, evenly spaced on a circle."""
    angle = torch.arange(modes, dtype=torch.float32) * (2 * math.pi / modes)
    return radius * torch.stack([angle.cos(), angle.sin()], dim=1)


class Toy2D(Dataset):
    """n points [2] drawn once from a fixed seed.

    kind "ring8": mixture of 8 Gaussians (std `std`) on a circle of radius 2;
    kind "moons": two interleaved half circles with Gaussian jitter `std`, centred.
    Indexing gives a float32 [2] tensor; `__getitems__` + `collate_fn` make a batch
    [B, 2] with one gather, so the data loader costs almost nothing.
    """

    def __init__(self, n: int = 4096, seed: int = 0, *, kind: str = "ring8", std: float = 0.1) -> None:
        if kind not in TOY_KINDS:
            raise ValueError(f"Toy2D kind must be one of {', '.join(TOY_KINDS)}; got {kind!r}")
        if n < 1:
            raise ValueError(f"Toy2D needs n >= 1 points; got {n}")
        if std < 0:
            raise ValueError(f"Toy2D std must be >= 0; got {std}")
        g = torch.Generator().manual_seed(seed)
        if kind == "ring8":
            centers = ring_centers()
            which = torch.randint(0, len(centers), (n,), generator=g)
            points = centers[which] + std * torch.randn(n, 2, generator=g)
        else:
            u = torch.rand(n, generator=g) * math.pi
            upper = torch.rand(n, generator=g) < 0.5
            x = torch.where(upper, u.cos(), 1 - u.cos())
            y = torch.where(upper, u.sin(), 0.5 - u.sin())
            points = torch.stack([x - 0.5, y - 0.25], dim=1) + std * torch.randn(n, 2, generator=g)
        self.kind = kind
        self.points = points.float()

    def __len__(self) -> int:
        return self.points.shape[0]

    def __getitem__(self, i: int) -> Tensor:
        return self.points[i]

    def __getitems__(self, indices: list[int]) -> Tensor:
        return self.points[torch.as_tensor(indices, dtype=torch.long)]

    @staticmethod
    def collate_fn(batch: Tensor | list[Tensor]) -> Tensor:
        """[B, 2] from a gathered batch (or a list of [2] points)."""
        return batch if isinstance(batch, Tensor) else torch.stack(batch)


class ToyMLP(PretrainedMixin, nn.Module):
    """An MLP denoiser obeying the model contract: model(x [B, dim], t [B]) -> [B, dim].

    The timestep enters as a sinusoidal embedding added to the first hidden layer.
    """

    @register_config
    def __init__(self, *, dim: int = 2, hidden: int = 128, layers: int = 3) -> None:
        super().__init__()
        if dim < 1 or hidden < 1 or layers < 1:
            raise ValueError(f"ToyMLP needs dim, hidden, layers >= 1; got {dim}, {hidden}, {layers}")
        self.dim = dim
        self.hidden = hidden
        self.inp = nn.Linear(dim, hidden)
        self.time = nn.Sequential(nn.Linear(hidden, hidden), nn.SiLU(), nn.Linear(hidden, hidden))
        self.blocks = nn.ModuleList(nn.Linear(hidden, hidden) for _ in range(layers - 1))
        self.out = nn.Linear(hidden, dim)
        self.act = nn.SiLU()

    def forward(self, x: Tensor, t: Tensor, **cond: Any) -> Tensor:
        if x.ndim != 2 or x.shape[1] != self.dim:
            raise ValueError(f"ToyMLP expects x of shape [B, {self.dim}]; got {tuple(x.shape)}")
        h = self.inp(x) + self.time(sinusoidal_embedding(t, self.hidden).to(x.dtype))
        h = self.act(h)
        for block in self.blocks:
            h = self.act(block(h))
        return self.out(h)


def scatter_hook(*, num_samples: int = 512, steps: int = 50, sampler: str = "ddim"):
    """A trainer sample hook: sample `num_samples` points and save a scatter PNG + .pt tensor.

    Files (each written atomically): <out_dir>/samples/step_XXXXXXXX.png and .pt.
    matplotlib is imported lazily.
    """

    def hook(ctx) -> None:
        g = torch.Generator(device=ctx.device).manual_seed(0)
        dim = getattr(ctx.model, "dim", 2)
        out = ctx.diffusion.sample(
            ctx.model, (num_samples, dim), sampler=sampler, steps=steps, generator=g,
            device=ctx.device,
        )
        pts = out.sample.float().cpu()
        folder = Path(ctx.out_dir)
        folder.mkdir(parents=True, exist_ok=True)
        stem = folder / f"step_{ctx.step:08d}"
        with atomic_path(stem.with_suffix(".pt")) as temp:
            torch.save(pts, temp)
        with atomic_path(stem.with_suffix(".png")) as temp:
            _save_scatter(pts, temp, title=f"step {ctx.step}")

    return hook


def _save_scatter(points: Tensor, path: Path, *, title: str) -> None:
    require("matplotlib", needed_for="plots")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(4, 4), dpi=80)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.scatter(points[:, 0], points[:, 1], s=2)
    ax.set_xlim(-3.5, 3.5)
    ax.set_ylim(-3.5, 3.5)
    ax.set_aspect("equal")
    ax.set_title(title)
    fig.savefig(path, format="png")


@dataclass
class ToyDemoResult:
    """What `train_toy_demo` returns: the data [N, 2], samples per sampler [M, 2], the final
    training loss and the training time in seconds."""

    data: Tensor
    samples: dict[str, Tensor]
    loss: float
    seconds: float


def train_toy_demo(*, steps: int = 1500, seed: int = 0, num_samples: int = 2000) -> ToyDemoResult:
    """Train a small x0-predicting MLP on the ring of Gaussians for `steps` steps (CPU,
    seconds) and sample it with DDPM (all 100 steps), DDIM 50 and DPM-Solver++ 20."""
    import time

    from vhdiff.diffusion import GaussianDiffusion, NoiseSchedule

    if not isinstance(steps, int) or steps < 1:
        raise ValueError(f"--steps must be >= 1, got {steps}")
    torch.manual_seed(seed)
    data = torch.stack([torch.as_tensor(Toy2D(4096, seed)[i]) for i in range(4096)]).float()
    model = ToyMLP(dim=2, hidden=256, layers=4)
    diffusion = GaussianDiffusion(NoiseSchedule.cosine(T=100), prediction="x0")
    opt = torch.optim.AdamW(model.parameters(), lr=2e-3)
    g = torch.Generator().manual_seed(seed)
    start = time.time()
    loss = torch.zeros(())
    for _ in range(steps):
        batch = data[torch.randint(0, len(data), (256,), generator=g)]
        loss = diffusion.training_losses(model, batch, generator=g).loss.mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    seconds = time.time() - start
    model.eval()
    samples = {}
    for sampler, n in (("ddpm", None), ("ddim", 50), ("dpm++", 20)):
        samples[sampler] = diffusion.sample(
            model, (num_samples, 2), sampler=sampler, steps=n, generator=torch.Generator().manual_seed(1),
        ).sample
    return ToyDemoResult(data=data[:num_samples], samples=samples, loss=float(loss), seconds=seconds)


def plot_toy_samples(result: ToyDemoResult, path: str | Path) -> Path:
    """Scatter plots of the data and each sampler's samples, side by side, as a PNG."""
    matplotlib = require("matplotlib", needed_for="plots")

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 1 + len(result.samples), figsize=(16, 4))
    for ax, (name, pts) in zip(axes, [("data", result.data), *result.samples.items()]):
        ax.scatter(pts[:, 0], pts[:, 1], s=2)
        ax.set_title(name)
        ax.set_aspect("equal")
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=80)
    plt.close(fig)
    return path
