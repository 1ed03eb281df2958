"""Stick figures with matplotlib (Agg, no OpenGL), in the style of MDM / HumanML3D videos.

    from vhdiff.viz.skeleton import render_skeleton
    frames = render_skeleton(joints)          # joints [T, J, 3] -> uint8 [T, H, W, 3]

Joints follow vhdiff.body: SMPL order (the first 22 joints are used), Y up, metres. Each
kinematic chain (right leg, left leg, spine, right arm, left arm: HumanML3D's
`t2m_kinematic_chain`) has its own colour, legs and spine drawn thicker; a grey ground
plane lies at the lowest joint of the whole motion and the root's past trajectory is
drawn on it. The view is fixed for the whole motion, so the figure travels across it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from vhdiff.extras import require

__all__ = ["CHAIN_COLORS", "render_skeleton", "skeleton_chains"]

# MDM's palette: right side red, left side blue, spine black; darker for the arms.
CHAIN_COLORS: tuple[str, ...] = ("#DD5A37", "#4063B6", "#333333", "#B32F1C", "#2D4A8F")


def skeleton_chains(num_joints: int) -> tuple[tuple[int, ...], ...]:
    """The kinematic chains for a skeleton of `num_joints` (>= 22) SMPL-ordered joints."""
    from vhdiff.body.skeleton import KINEMATIC_CHAINS, NUM_BODY_JOINTS

    if num_joints < NUM_BODY_JOINTS:
        raise ValueError(
            f"stick figures need the {NUM_BODY_JOINTS} SMPL body joints, got {num_joints}; "
            "pass joints [T, >=22, 3] in SMPL order (BodyOutput.joints)"
        )
    return KINEMATIC_CHAINS


def _to_plot(points: np.ndarray) -> np.ndarray:
    """Body frame (Y up, faces +Z) -> matplotlib's (x, y, z-up): a rotation about X, so
    left and right are not mirrored: (x, y, z) -> (x, -z, y)."""
    return np.stack([points[..., 0], -points[..., 2], points[..., 1]], axis=-1)


def render_skeleton(
    joints: Any,
    *,
    size: int = 512,
    height: int | None = None,
    title: str | None = None,
    elevation: float = 20.0,
    azimuth: float = 30.0,
    colors: Sequence[str] = CHAIN_COLORS,
    trajectory: bool = True,
    dpi: int = 100,
) -> np.ndarray:
    """Draw each frame of `joints` [T, J, 3] (or [J, 3]) as a stick figure.

    Args:
        joints: numpy array or tensor, J >= 22 SMPL-ordered joints, Y up, metres.
        size: image width in pixels (and height unless `height` is given).
        title: text drawn at the top (e.g. the prompt), wrapped.
        elevation, azimuth: view in degrees; azimuth 0 looks at the front of a body facing
            +Z, positive values move the viewer towards the body's left (as MeshRenderer).
        colors: one matplotlib colour per kinematic chain.
        trajectory: draw the root's path on the ground so far.

    Returns:
        uint8 [T, H, W, 3] frames.
    """
    if hasattr(joints, "detach"):
        joints = joints.detach().cpu().numpy()
    joints = np.asarray(joints, dtype=np.float64)
    if joints.ndim == 2:
        joints = joints[None]
    if joints.ndim != 3 or joints.shape[-1] != 3 or joints.shape[0] == 0:
        raise ValueError(f"joints must have shape [T, J, 3] (or [J, 3]), got {list(joints.shape)}")
    if not np.all(np.isfinite(joints)):
        raise ValueError("joints contain NaN or infinite values")
    chains = skeleton_chains(joints.shape[1])
    if len(colors) < len(chains):
        raise ValueError(f"need {len(chains)} chain colours, got {len(colors)}")
    width, height = int(size), int(height or size)
    if width < 16 or height < 16:
        raise ValueError(f"image size must be at least 16 x 16 pixels, got {width} x {height}")

    require("matplotlib", needed_for="stick figures")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from mpl_toolkits.mplot3d.art3d import Poly3DCollection

    body = joints[:, :22]
    floor = body[..., 1].min()
    points = _to_plot(body)
    low, high = points.reshape(-1, 3).min(0), points.reshape(-1, 3).max(0)
    centre = (low + high) / 2
    half = max(float((high - low).max()) / 2, 0.5) * 1.05

    figure = Figure(figsize=(width / dpi, height / dpi), dpi=dpi)
    canvas = FigureCanvasAgg(figure)
    axes = figure.add_axes((0, 0, 1, 0.92 if title else 1), projection="3d")
    axes.set_xlim(centre[0] - half, centre[0] + half)
    axes.set_ylim(centre[1] - half, centre[1] + half)
    axes.set_zlim(floor, floor + 2 * half)
    axes.set_box_aspect((1, 1, 1), zoom=1.3)
    # matplotlib's azimuth is measured from +x_plot; the body's front (+Z) is -y_plot
    axes.view_init(elev=elevation, azim=-90.0 + azimuth)
    axes.set_axis_off()
    if title:
        import textwrap

        figure.suptitle("\n".join(textwrap.wrap(title, 60)), fontsize=10, y=0.99)

    ground = [
        [
            (centre[0] - half, centre[1] - half, floor),
            (centre[0] - half, centre[1] + half, floor),
            (centre[0] + half, centre[1] + half, floor),
            (centre[0] + half, centre[1] - half, floor),
        ]
    ]
    plane = Poly3DCollection(ground, facecolors=(0.5, 0.5, 0.5, 0.35), edgecolors="none")
    axes.add_collection3d(plane)
    root_path = points[:, 0].copy()
    root_path[:, 2] = floor
    (path_line,) = axes.plot([], [], [], color="#3050F8", linewidth=1.0)
    lines = [
        axes.plot(
            [], [], [], color=colors[i], linewidth=4.0 if i < 3 else 2.5, solid_capstyle="round"
        )[0]
        for i in range(len(chains))
    ]

    frames = np.empty((len(points), height, width, 3), dtype=np.uint8)
    for t, pose in enumerate(points):
        for line, chain in zip(lines, chains):
            segment = pose[list(chain)]
            line.set_data_3d(segment[:, 0], segment[:, 1], segment[:, 2])
        if trajectory:
            path_line.set_data_3d(
                root_path[: t + 1, 0], root_path[: t + 1, 1], root_path[: t + 1, 2]
            )
        canvas.draw()
        rgba = np.asarray(canvas.buffer_rgba())
        frames[t] = rgba[:height, :width, :3]
    return frames
