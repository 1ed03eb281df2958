"""Posing a motion on a body model: which body draws what, and the posed meshes per frame."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["BODIES", "CHUNK", "body_model_for", "pose_motion", "resample_indices"]

BODIES = ("mannequin", "smpl", "skeleton")  # what a command can draw a motion as
CHUNK = 64  # frames per body-model call


def resample_indices(num_frames: int, fps_in: float, fps_out: float) -> np.ndarray:
    """Indices of the input frames shown at `fps_out` (nearest frame, same duration)."""
    if fps_out <= 0 or not np.isfinite(fps_out):
        raise ValueError(f"the output frame rate (--fps) must be a positive number, got {fps_out}")
    count = max(1, round(num_frames * fps_out / fps_in))
    return np.minimum(np.round(np.arange(count) * fps_in / fps_out).astype(int), num_frames - 1)


def body_model_for(body: str, smpl_path: str | None, gender: str = "neutral") -> Any:
    """The body model that draws `body` (one of BODIES), called as ``model(**motion.to_torch())``.

    "mannequin", and "skeleton" without `smpl_path`: the license-free mannequin.
    "smpl", and "skeleton" with `smpl_path`: the SMPL / SMPL-H / SMPL-X file found in
    `smpl_path` (a file or folder; None: $VHDIFF_SMPL_DIR) for `gender`.
    Raises FileNotFoundError (saying where to get the licensed files) when none is found.
    """
    from vhdiff.body import load_body_model

    if body == "mannequin" or (body == "skeleton" and smpl_path is None):
        return load_body_model(kind="mannequin")
    from vhdiff.body.model_files import find_model_file

    file = find_model_file(smpl_path, "auto", gender)  # FileNotFoundError says how to get them
    return load_body_model(path=file, kind="auto", gender=gender)


def pose_motion(
    model: Any, motion: Any, frames: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pose `motion` (an SMPLMotion of T frames) with `model`, CHUNK frames per call.

    frames: int indices [N] into the motion's T frames (None: all of them, N = T).
    Returns numpy (vertices [N, V, 3] metres, joints [N, J, 3] with joints[:, :22] the
    SMPL body joints, faces [F, 3] vertex indices).
    """
    import torch

    if frames is None:
        frames = np.arange(motion.num_frames)
    params = motion.to_torch()
    vertices, joints, faces = [], [], None
    with torch.no_grad():
        for start in range(0, len(frames), CHUNK):
            index = torch.as_tensor(frames[start : start + CHUNK])
            out = model(**{name: value[index] for name, value in params.items()})
            vertices.append(out.vertices.cpu().numpy())
            joints.append(out.joints.cpu().numpy())
            faces = out.faces.cpu().numpy()
    return np.concatenate(vertices), np.concatenate(joints), faces
