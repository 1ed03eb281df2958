"""A body in a canonical pose, placed as the point-cloud sets place it: pelvis above the
origin, lowest point on the floor y = 0 (vhdiff.data_prep.human_pointclouds)."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["placed_body"]


def placed_body(model: Any, pose: np.ndarray, betas: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(vertices [V, 3] float64 metres, faces [F, 3]) of `model` (a vhdiff.body model) in the
    canonical `pose` [22, 3] (vhdiff.pointcloud.pose) with `betas` [10] (None: the mean shape)."""
    import torch

    betas = np.zeros(model.num_betas, np.float32) if betas is None else np.asarray(betas, np.float32)
    pose = np.asarray(pose, dtype=np.float32)
    with torch.no_grad():
        out = model(
            global_orient=torch.as_tensor(pose[None, 0]), body_pose=torch.as_tensor(pose[None, 1:]),
            transl=torch.zeros(1, 3), betas=torch.as_tensor(betas[None, : model.num_betas]),
        )
    vertices = out.vertices[0].double().cpu().numpy()
    pelvis = out.joints[0, 0].double().cpu().numpy()
    return vertices - np.array([pelvis[0], vertices[:, 1].min(), pelvis[2]]), out.faces.cpu().numpy()
