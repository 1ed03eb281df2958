"""Synthetic SMPL-family model files in the real layout, for tests and benchmarks.

The licensed SMPL files can never be required by a test, so the smplx code path is
exercised with a file that has the official arrays, shapes and dtypes (v_template
[V, 3], shapedirs [V, 3, B], posedirs [V, 3, 9(J-1)], J_regressor [J, V], weights [V, J],
kintree_table [2, J], f [F, 3]) but a made-up mesh: a tube per bone and a small
octahedron around each joint. The J_regressor averages each joint's octahedron, so the
regressed rest joints are exactly the ones asked for: SMPL's neutral rest joints
(vhdiff.body.skeleton.SMPL_NEUTRAL_REST_JOINTS) for the body, made-up hands, jaw and eyes.
Shape blend shapes are linear fields of the position (beta 0 scales the body about the
origin), so shaped joints stay consistent; pose blend shapes are small seeded noise.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from vhdiff.body.skeleton import SMPL_NEUTRAL_REST_JOINTS, SMPL_PARENTS

__all__ = ["NUM_VERTICES", "synthetic_model_arrays", "write_synthetic_model"]

NUM_VERTICES = {"smpl": 6890, "smplh": 6890, "smplx": 10475}
_TUBE_SIDES = 8


def _hand_joints(wrist: np.ndarray, side: float) -> tuple[np.ndarray, list[int]]:
    """15 finger joints (index, middle, pinky, ring, thumb x 3) and their parent offsets."""
    positions, local_parents = [], []
    z_of = {"index": 0.02, "middle": 0.0, "pinky": -0.04, "ring": -0.02}
    for finger_index, finger in enumerate(("index", "middle", "pinky", "ring", "thumb")):
        if finger == "thumb":
            base = wrist + np.array([side * 0.03, -0.01, 0.035])
            step = np.array([side * 0.02, 0.0, 0.015])
        else:
            base = wrist + np.array([side * 0.09, 0.0, z_of[finger]])
            step = np.array([side * 0.025, 0.0, 0.0])
        for segment in range(3):
            positions.append(base + segment * step)
            local_parents.append(-1 if segment == 0 else 3 * finger_index + segment - 1)
    return np.array(positions), local_parents


def _skeleton(kind: str) -> tuple[np.ndarray, list[int]]:
    body = np.asarray(SMPL_NEUTRAL_REST_JOINTS, dtype=np.float64)
    joints, parents = list(body), list(SMPL_PARENTS[:22])
    if kind == "smpl":
        for wrist, side in ((20, 1.0), (21, -1.0)):
            joints.append(body[wrist] + np.array([side * 0.085, -0.005, 0.0]))
            parents.append(wrist)
        return np.array(joints), parents
    if kind == "smplx":
        head = body[15]
        joints += [head + np.array([0.0, -0.03, 0.05]), head + np.array([0.03, 0.05, 0.08]),
                   head + np.array([-0.03, 0.05, 0.08])]  # fmt: skip
        parents += [15, 15, 15]
    for wrist, side in ((20, 1.0), (21, -1.0)):
        start = len(joints)
        fingers, local = _hand_joints(body[wrist], side)
        joints += list(fingers)
        parents += [wrist if p < 0 else start + p for p in local]
    return np.array(joints), parents


def synthetic_model_arrays(kind: str = "smpl", *, seed: int = 0) -> dict[str, np.ndarray]:
    """Arrays of a synthetic SMPL ("smpl", 24 joints), SMPL-H (52) or SMPL-X (55) model."""
    if kind not in NUM_VERTICES:
        raise ValueError(f"kind must be one of {tuple(NUM_VERTICES)}, got {kind!r}")
    rng = np.random.default_rng(seed)
    joints, parents = _skeleton(kind)
    num_joints, num_vertices = len(joints), NUM_VERTICES[kind]

    vertices: list[np.ndarray] = []
    weights: list[np.ndarray] = []
    faces: list[np.ndarray] = []
    regressor = np.zeros((num_joints, num_vertices))
    octahedron = np.concatenate((np.eye(3), -np.eye(3)))
    octahedron_faces = np.array([[a, b, c] for a in (0, 3) for b in (1, 4) for c in (2, 5)])
    for joint in range(num_joints):
        radius = 0.008 if joint >= 22 else 0.02
        start = 6 * joint
        vertices.append(joints[joint] + radius * octahedron)
        weights.append(np.tile(np.eye(num_joints)[joint], (6, 1)))
        faces.append(octahedron_faces + start)
        regressor[joint, start : start + 6] = 1.0 / 6.0

    bones = [(parents[j], j) for j in range(1, num_joints)]
    spare = num_vertices - 6 * num_joints
    rings = max(2, spare // (_TUBE_SIDES * len(bones)))
    angles = 2 * np.pi * np.arange(_TUBE_SIDES) / _TUBE_SIDES
    count = 6 * num_joints
    for parent, child in bones:
        if count + rings * _TUBE_SIDES > num_vertices:
            break
        axis = joints[child] - joints[parent]
        helper = (
            np.array([0.0, 0.0, 1.0]) if abs(axis[2]) < 0.9 * np.linalg.norm(axis) else np.eye(3)[0]
        )
        u = np.cross(axis, helper)
        u /= np.linalg.norm(u)
        w = np.cross(axis / np.linalg.norm(axis), u)
        radius = 0.006 if child >= 22 else 0.035
        t = np.linspace(0.0, 1.0, rings)
        circle = radius * (np.cos(angles)[:, None] * u + np.sin(angles)[:, None] * w)
        tube = joints[parent] + t[:, None, None] * axis + circle[None]
        vertices.append(tube.reshape(-1, 3))
        blend = np.zeros((rings, num_joints))
        blend[:, parent] = 1.0 - 0.5 * t**2
        blend[:, child] = 0.5 * t**2
        weights.append(np.repeat(blend, _TUBE_SIDES, axis=0))
        ring = np.arange(rings - 1)[:, None] * _TUBE_SIDES
        side = np.arange(_TUBE_SIDES)[None]
        a, b = ring + side, ring + (side + 1) % _TUBE_SIDES
        quads = np.stack((a, b, a + _TUBE_SIDES, b, b + _TUBE_SIDES, a + _TUBE_SIDES), -1)
        faces.append(quads.reshape(-1, 3) + count)
        count += rings * _TUBE_SIDES
    # Pad to the official vertex count with unreferenced points at the pelvis.
    pad = num_vertices - count
    vertices.append(np.repeat(joints[:1], pad, axis=0))
    weights.append(np.tile(np.eye(num_joints)[0], (pad, 1)))

    v_template = np.concatenate(vertices)
    num_shape = 20 if kind == "smplx" else 10  # SMPL-X: 10 shape + 10 expression
    fields = [0.05 * np.eye(3)] + [0.01 * rng.standard_normal((3, 3)) for _ in range(num_shape - 1)]
    shapedirs = np.stack([v_template @ field.T for field in fields], axis=-1)
    posedirs = 1e-3 * rng.standard_normal((num_vertices, 3, 9 * (num_joints - 1)))
    kintree = np.array(
        [[np.iinfo(np.uint32).max] + parents[1:], list(range(num_joints))], dtype=np.uint32
    )
    arrays = {
        "v_template": v_template,
        "shapedirs": shapedirs,
        "posedirs": posedirs.astype(np.float32),
        "J_regressor": regressor,
        "weights": np.concatenate(weights),
        "kintree_table": kintree,
        "f": np.concatenate(faces).astype(np.uint32),
        "J": joints,
    }
    if kind in ("smplh", "smplx"):
        for side in ("l", "r"):
            arrays[f"hands_components{side}"] = np.eye(45)
            arrays[f"hands_mean{side}"] = 0.05 * rng.standard_normal(45)
    if kind == "smplx":
        arrays["lmk_faces_idx"] = np.arange(51, dtype=np.int64)
        arrays["lmk_bary_coords"] = np.full((51, 3), 1.0 / 3.0)
    return arrays


def write_synthetic_model(path: str | os.PathLike, kind: str = "smpl", *, seed: int = 0) -> Path:
    """Write :func:`synthetic_model_arrays` to an `.npz` (the layout load_body_model reads)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, **synthetic_model_arrays(kind, seed=seed))
    return path
