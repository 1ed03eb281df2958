"""Tiny AMASS / HumanML3D files in their real formats, from known Y-up motions."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from vhdiff.body import rotations_np as nr
from vhdiff.body.skeleton import SMPL_NEUTRAL_REST_JOINTS

C = np.array([[-1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, 1.0, 0.0]])  # Z-up -> Y-up
PELVIS = np.asarray(SMPL_NEUTRAL_REST_JOINTS[0])


def yup_motion(seconds: float, fps: float, *, seed: int = 0) -> dict[str, np.ndarray]:
    """A smooth Y-up motion sampled at `fps`: root turning about +Y while walking, limbs
    swinging. Returns poses [N, 22, 3] and transl [N, 3]."""
    rng = np.random.default_rng(seed)
    t = np.arange(round(seconds * fps) + 1) / fps
    amp = rng.uniform(0.1, 0.4, size=(21, 3))
    phase = rng.uniform(0, 6, size=(21, 3))
    body = amp * np.sin(2.0 * t[:, None, None] + phase)
    root = nr.matrix_to_axis_angle(
        nr.yaw_matrix(0.5 * t) @ nr.axis_angle_to_matrix(np.array([0.1, 0, 0]))
    )
    transl = np.stack((0.5 * t, 0.95 + 0.02 * np.sin(4 * t), 0.8 * t), axis=1)
    return {"poses": np.concatenate((root[:, None], body), axis=1), "transl": transl}


def write_amass_npz(
    path: Path, motion: dict[str, np.ndarray], fps: float, *, seed: int = 0
) -> Path:
    """Save a Y-up motion as an AMASS SMPL-H file (Z-up, poses [N, 156], betas [16])."""
    rng = np.random.default_rng(seed)
    frames = motion["poses"].shape[0]
    root_z = C.T @ nr.axis_angle_to_matrix(motion["poses"][:, 0])
    poses = np.concatenate(
        (nr.matrix_to_axis_angle(root_z), motion["poses"][:, 1:].reshape(frames, 63),
         rng.normal(size=(frames, 90)) * 0.1),
        axis=1,
    )  # fmt: skip
    trans = (motion["transl"] - (C - np.eye(3)) @ PELVIS) @ C  # t_z = C^T (t_y - (C - I) J0)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(
        path, poses=poses, trans=trans, betas=rng.normal(size=16) * 0.5,
        mocap_framerate=np.float64(fps), gender=np.array(b"female"), dmpls=np.zeros((frames, 8)),
    )  # fmt: skip
    return path
