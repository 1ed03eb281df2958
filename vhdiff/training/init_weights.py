"""Starting weights for a new run (`trainer.init_from`): fine-tune instead of training from scratch.

`trainer.init_from` names where the weights come from; `resolve_init_weights` turns it into
one `model.safetensors` file:

- a `.safetensors` file;
- a model folder holding `model.safetensors` (a backbone's `save_pretrained` output, a
  checkpoint's `model/` or `ema/`);
- a pipeline folder with a `model/` sub-folder (`vhdiff motion-export` output, e.g. the bundled
  `vhdiff/assets/motion_default`);
- a checkpoint step folder (`.../checkpoints/step_00003000`): its EMA weights when it has them,
  since those are the ones a run exports, else its raw weights;
- a run folder (`--out` of an earlier run): its newest complete checkpoint, as above.

Only the weights are taken: the optimizer, learning-rate schedule, step count and EMA
statistics start fresh, so the new run's own `trainer:` settings (a lower `lr`, a short
`warmup_steps`, `max_steps` of the fine-tune alone) apply from step 0. A run that resumes
from its own checkpoint (`--resume`) ignores `init_from`: the checkpoint wins.
"""

from __future__ import annotations

from pathlib import Path

from torch import nn

from vhdiff.training import checkpoint as ckpt

__all__ = ["load_init_weights", "resolve_init_weights"]


def resolve_init_weights(source: str | Path) -> Path:
    """The `model.safetensors` file that `source` (see the module docstring) stands for."""
    path = Path(source).expanduser()
    if not path.exists():
        raise FileNotFoundError(
            f"trainer.init_from {str(source)!r} does not exist; give a .safetensors file, a model or "
            "pipeline folder, a checkpoint step folder or a run folder"
        )
    if path.is_file():
        if path.suffix != ".safetensors":
            raise ValueError(
                f"trainer.init_from {str(path)!r} is not a .safetensors file; other formats are not "
                "read (no pickles): convert the weights with safetensors.torch.save_file"
            )
        return path
    # a model folder; a checkpoint step folder (EMA first); a pipeline folder (no ema/)
    candidates = [path / ckpt.WEIGHTS, path / "ema" / ckpt.WEIGHTS, path / "model" / ckpt.WEIGHTS]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    latest = ckpt.latest_checkpoint(path / "checkpoints")  # a run folder
    if latest is not None:
        return resolve_init_weights(latest.path)
    raise FileNotFoundError(
        f"trainer.init_from {str(path)!r} holds no model.safetensors (nor model/, ema/ or a complete "
        "checkpoints/step_* folder); point it at a model, pipeline, checkpoint or run folder"
    )


def load_init_weights(module: nn.Module, source: str | Path) -> Path:
    """Copy the weights `source` stands for into `module` (cast to its dtypes); returns the file.

    Every tensor must match by name and shape; otherwise a ValueError (CheckpointError) lists
    what differs, which almost always means the run's `model:` section differs from the one
    the weights were trained with.
    """
    path = resolve_init_weights(source)
    ckpt.load_weights_file(
        module, path, hint="set the run's model: section to the config the weights were trained "
        "with (their config.json)",
    )
    return path
