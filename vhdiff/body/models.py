"""`load_body_model`: one entry point for every body vhdiff can pose."""

from __future__ import annotations

import os

import torch

from vhdiff.body.body_model import BodyModel
from vhdiff.body.model_files import BODY_KINDS, ENV_VAR, find_model_file

__all__ = ["KINDS", "load_body_model"]

KINDS = ("auto", "mannequin") + BODY_KINDS


def load_body_model(
    path: str | os.PathLike | None = None,
    kind: str = "auto",
    device: str | torch.device = "cpu",
    dtype: torch.dtype = torch.float32,
    gender: str = "neutral",
) -> BodyModel:
    """Return a body model called as ``model(global_orient, body_pose, betas, transl)``.

    Args:
        path: an SMPL / SMPL-H / SMPL-X `.npz` file or a folder holding them
            (see vhdiff.body.model_files for the names searched). None: use
            ``$VHDIFF_SMPL_DIR`` if set, else (kind "auto") the license-free mannequin.
        kind: "auto" (the file decides; mannequin when no path and no VHDIFF_SMPL_DIR),
            "mannequin", "smpl", "smplh" or "smplx".
        device, dtype: where the model computes (float32 or float64).
        gender: "neutral", "male" or "female": which file a folder lookup picks.

    Raises:
        FileNotFoundError: a path, folder or VHDIFF_SMPL_DIR without a usable model file;
            the message says where to get the licensed files and how to convert them.
        ValueError: an unknown kind or dtype, a pickle that needs converting, a file that
            is not an SMPL-family model, or a file of another kind than the one asked for.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    if dtype not in (torch.float32, torch.float64):
        raise ValueError(f"dtype must be torch.float32 or torch.float64, got {dtype}")
    if kind == "mannequin" or (kind == "auto" and path is None and not os.environ.get(ENV_VAR)):
        from vhdiff.body.mannequin_body import MannequinBody

        return MannequinBody(dtype=dtype, device=device)

    from vhdiff.body.smplx_body import SMPLFamilyBody

    file = find_model_file(path, kind, gender)
    model = SMPLFamilyBody.from_file(file, dtype=dtype, device=device)
    if kind != "auto" and model.kind != kind:
        raise ValueError(
            f"{str(file)!r} is an {model.kind.upper()} model but kind={kind!r} was asked for; "
            f"pass kind='auto' or kind={model.kind!r}"
        )
    return model
