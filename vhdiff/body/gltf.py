"""Binary glTF 2.0 (.glb) export of a motion: the skinned body mesh, its skeleton and the
motion as a skeletal animation (Blender, three.js, Godot, Unity and Unreal importers).

:func:`write_glb` writes a :class:`~vhdiff.body.rig.SkinnedRig` posed by a
:class:`~vhdiff.body.rig.RigPose`; :func:`write_motion_glb` builds both from a body model
and an SMPL motion. The file holds, in SMPL's frame (**Y up, metres**, the rest body facing
+Z, which is glTF's own convention: +Y up, +Z forward, metres):

- **mesh**: one triangle primitive in the bind pose (POSITION float32 with min/max, unit
  NORMAL, indices uint16 or uint32, JOINTS_0 uint8 or uint16 and WEIGHTS_0 float32: each
  vertex's four largest skinning weights, renormalised to sum to 1), a plain grey material;
- **skeleton**: one node per joint, named as the body names it, nested as its kinematic tree,
  with the bind pose as rest TRS (translation = offset from the parent joint, rotation =
  identity); a skin listing the joint nodes and their inverseBindMatrices
  (translate(-bind position), column-major float32 mat4);
- **animation**: per joint a rotation channel (unit quaternions x, y, z, w, each key's sign
  chosen so that consecutive keys have a non-negative dot product: LINEAR (slerp)
  interpolation takes the short way), and a translation channel on the root joint (its
  world position); keys at t = frame / fps seconds, LINEAR.

glTF skinning is linear blend skinning (jointWorld_j * inverseBind_j applied to the bind
mesh). SMPL's pose blend shapes (pose-dependent corrective offsets) cannot be expressed in
it, so an SMPL body is exported as its shaped template without them: posing the file gives
SMPL's joints exactly and its vertices up to those correctives (largest at strongly bent
elbows, knees and shoulders) and to the weights beyond each vertex's four largest. The
mannequin has neither (four influences, no correctives): the file reproduces it to float32.

Pure numpy, json and struct: no glTF library is needed to write (the tests read files back
with pygltflib).
"""

from __future__ import annotations

import json
import os
import struct
from pathlib import Path
from typing import Any

import numpy as np

from vhdiff.atomic_io import atomic_path
from vhdiff.body.rig import RigPose, SkinnedRig
from vhdiff.body.rotations_np import matrix_to_quaternion
from vhdiff.body.smpl_motion import SMPLMotion

__all__ = ["GENERATOR", "INFLUENCES", "glb_bytes", "write_glb", "write_motion_glb"]

GENERATOR = "vhdiff"
INFLUENCES = 4  # joints per vertex in JOINTS_0 / WEIGHTS_0

_FLOAT, _UBYTE, _USHORT, _UINT = 5126, 5121, 5123, 5125  # accessor componentTypes
_ARRAY_BUFFER, _ELEMENT_ARRAY_BUFFER = 34962, 34963  # bufferView targets
_TYPES = {1: "SCALAR", 3: "VEC3", 4: "VEC4", 16: "MAT4"}
_JSON_CHUNK, _BIN_CHUNK = 0x4E4F534A, 0x004E4942  # "JSON", "BIN\0" (little-endian)


class _Binary:
    """The BIN chunk under construction: each array gets a 4-byte aligned bufferView and
    an accessor; returns accessor indices."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self.length = 0
        self.views: list[dict[str, Any]] = []
        self.accessors: list[dict[str, Any]] = []

    def add(
        self, array: np.ndarray, component: int, *, target: int | None = None,
        bounds: bool = False,
    ) -> int:  # fmt: skip
        """Append `array` [count] or [count, n] (already in its component dtype)."""
        data = np.ascontiguousarray(array).tobytes()
        view: dict[str, Any] = {"buffer": 0, "byteOffset": self.length, "byteLength": len(data)}
        if target is not None:
            view["target"] = target
        padding = -len(data) % 4
        self.chunks += [data, b"\0" * padding]
        self.length += len(data) + padding
        self.views.append(view)
        width = 1 if array.ndim == 1 else int(np.prod(array.shape[1:]))
        accessor: dict[str, Any] = {
            "bufferView": len(self.views) - 1, "componentType": component,
            "count": int(array.shape[0]), "type": _TYPES[width],
        }  # fmt: skip
        if bounds:  # the stored (float32) values, so readers' checks match exactly
            flat = array.reshape(array.shape[0], width)
            accessor["min"] = [float(x) for x in flat.min(axis=0)]
            accessor["max"] = [float(x) for x in flat.max(axis=0)]
        self.accessors.append(accessor)
        return len(self.accessors) - 1

    def data(self) -> bytes:
        return b"".join(self.chunks)


def _vertex_normals(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """[V, 3] unit area-weighted vertex normals; +Y for vertices in no face."""
    corners = vertices[faces]  # [F, 3, 3]
    face_normals = np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0])
    normals = np.zeros_like(vertices)
    for corner in range(3):
        np.add.at(normals, faces[:, corner], face_normals)
    length = np.linalg.norm(normals, axis=1, keepdims=True)
    up = np.broadcast_to(np.array([0.0, 1.0, 0.0]), normals.shape)
    return np.where(length > 1e-12, normals / np.maximum(length, 1e-12), up)


def _top_influences(weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Joint indices [V, 4] and float32 weights [V, 4] summing to 1: each vertex's four
    largest weights, renormalised (zero weights point at joint 0, as glTF asks)."""
    count, joints = weights.shape
    if joints < INFLUENCES:
        weights = np.concatenate((weights, np.zeros((count, INFLUENCES - joints))), axis=1)
    index = np.argsort(-weights, axis=1, kind="stable")[:, :INFLUENCES]
    top = np.take_along_axis(weights, index, axis=1)
    top = np.where(top > 0, top, 0.0)
    top[top.sum(axis=1) <= 0, 0] = 1.0  # a vertex without weights follows joint index[0]
    top32 = (top / top.sum(axis=1, keepdims=True)).astype(np.float32)
    # the largest takes the float32 rounding remainder: the stored sum is 1 to float32
    top32[:, 0] = np.float32(1.0) - top32[:, 1:].sum(axis=1, dtype=np.float32)
    index = np.where(top32 > 0, index, 0)
    return index, top32


def _quaternions(rotations: np.ndarray) -> np.ndarray:
    """[T, J, 3, 3] -> [T, J, 4] unit quaternions (x, y, z, w), each joint's sign chosen so
    that consecutive frames' dot products are >= 0."""
    wxyz = matrix_to_quaternion(rotations)
    xyzw = np.concatenate((wxyz[..., 1:], wxyz[..., :1]), axis=-1)
    dots = np.einsum("tjc,tjc->tj", xyzw[1:], xyzw[:-1])
    signs = np.cumprod(np.where(dots < 0, -1.0, 1.0), axis=0)
    xyzw[1:] *= signs[..., None]
    return xyzw / np.linalg.norm(xyzw, axis=-1, keepdims=True)


def _check(rig: SkinnedRig, pose: RigPose, fps: float) -> float:
    joints, vertices = len(rig.parents), rig.vertices.shape[0]
    if rig.weights.shape != (vertices, joints) or rig.joints.shape != (joints, 3):
        raise ValueError(
            f"the rig's weights {list(rig.weights.shape)} and joints {list(rig.joints.shape)} "
            f"must be [V, J] = [{vertices}, {joints}] and [J, 3] (J = len(parents))"
        )
    faces = np.asarray(rig.faces)
    if faces.ndim != 2 or faces.shape[1] != 3 or faces.min() < 0 or faces.max() >= vertices:
        raise ValueError(f"rig.faces must be [F, 3] indices below V = {vertices}")
    if rig.parents[0] != -1 or any(not 0 <= p < j for j, p in enumerate(rig.parents[1:], 1)):
        raise ValueError("rig.parents must have parents[0] = -1 and parents[j] < j")
    frames = pose.rotations.shape[0]
    if (
        frames == 0
        or pose.rotations.shape != (frames, joints, 3, 3)
        or pose.root.shape != (frames, 3)
    ):
        raise ValueError(
            f"the pose must have rotations [T, {joints}, 3, 3] and root [T, 3] with T >= 1, got "
            f"{list(pose.rotations.shape)} and {list(pose.root.shape)}"
        )
    if not (np.all(np.isfinite(pose.rotations)) and np.all(np.isfinite(pose.root))):
        raise ValueError("the pose holds NaN or infinite values; export a finite motion")
    fps = float(fps)
    if not np.isfinite(fps) or fps <= 0:
        raise ValueError(f"fps must be a positive number, got {fps}")
    return fps


def _add_mesh(binary: _Binary, rig: SkinnedRig) -> dict[str, Any]:
    """The bind-pose triangle primitive (attributes, indices, material 0)."""
    joints = len(rig.parents)
    faces = np.asarray(rig.faces)
    index, weight = _top_influences(rig.weights)
    small = rig.vertices.shape[0] <= 65535  # uint16 may not hold the value 65535
    joint_type = (np.uint8, _UBYTE) if joints <= 256 else (np.uint16, _USHORT)
    normals = _vertex_normals(rig.vertices, faces).astype(np.float32)
    attributes = {
        "POSITION": binary.add(
            rig.vertices.astype(np.float32), _FLOAT, target=_ARRAY_BUFFER, bounds=True
        ),
        "NORMAL": binary.add(normals, _FLOAT, target=_ARRAY_BUFFER),
        "JOINTS_0": binary.add(index.astype(joint_type[0]), joint_type[1], target=_ARRAY_BUFFER),
        "WEIGHTS_0": binary.add(weight, _FLOAT, target=_ARRAY_BUFFER),
    }
    indices = binary.add(
        faces.reshape(-1).astype(np.uint16 if small else np.uint32),
        _USHORT if small else _UINT,
        target=_ELEMENT_ARRAY_BUFFER,
    )
    return {"attributes": attributes, "indices": indices, "material": 0, "mode": 4}


def _add_animation(binary: _Binary, pose: RigPose, fps: float, name: str) -> dict[str, Any]:
    """Rotation channels for joint nodes 1..J and a translation channel for the root (1)."""
    frames, joints = pose.rotations.shape[:2]
    times = binary.add((np.arange(frames) / fps).astype(np.float32), _FLOAT, bounds=True)
    quaternions = _quaternions(pose.rotations).astype(np.float32)
    outputs = [binary.add(quaternions[:, joint], _FLOAT) for joint in range(joints)]
    outputs.append(binary.add(pose.root.astype(np.float32), _FLOAT))
    samplers = [{"input": times, "output": out, "interpolation": "LINEAR"} for out in outputs]
    channels = [
        {"sampler": joint, "target": {"node": joint + 1, "path": "rotation"}}
        for joint in range(joints)
    ]
    channels.append({"sampler": joints, "target": {"node": 1, "path": "translation"}})
    extras = {"fps": fps, "frames": int(frames)}
    return {"name": name, "samplers": samplers, "channels": channels, "extras": extras}


def _joint_nodes(rig: SkinnedRig) -> list[dict[str, Any]]:
    """One node per joint (node j + 1 is joint j): name, bind offset, children."""
    children: list[list[int]] = [[] for _ in rig.parents]
    for joint, parent in enumerate(rig.parents[1:], start=1):
        children[parent].append(joint + 1)
    nodes = []
    for name, offset, below in zip(rig.joint_names, rig.offsets.astype(np.float32), children):
        node: dict[str, Any] = {"name": name, "translation": [float(x) for x in offset]}
        if below:
            node["children"] = below
        nodes.append(node)
    return nodes


def glb_bytes(rig: SkinnedRig, pose: RigPose, *, fps: float, name: str = "motion") -> bytes:
    """The .glb file (module docstring) of `rig` animated by `pose` at `fps` frames/s."""
    fps = _check(rig, pose, fps)
    joints = len(rig.parents)
    binary = _Binary()
    primitive = _add_mesh(binary, rig)
    inverse_bind = np.tile(np.eye(4), (joints, 1, 1))
    inverse_bind[:, :3, 3] = -rig.joints
    bind_accessor = binary.add(  # column-major: the rows of the transpose
        np.swapaxes(inverse_bind, 1, 2).reshape(joints, 16).astype(np.float32), _FLOAT
    )
    animation = _add_animation(binary, pose, fps, name)
    material = {"baseColorFactor": [0.8, 0.8, 0.8, 1.0], "metallicFactor": 0.0,
                "roughnessFactor": 0.8}  # fmt: skip
    skin = {"name": rig.name, "inverseBindMatrices": bind_accessor, "skeleton": 1,
            "joints": list(range(1, joints + 1))}  # fmt: skip
    nodes = [{"name": rig.name, "mesh": 0, "skin": 0}, *_joint_nodes(rig)]
    document = {
        "asset": {"version": "2.0", "generator": GENERATOR},
        "scene": 0,
        "scenes": [{"name": name, "nodes": [0, 1]}],
        "nodes": nodes,
        "meshes": [{"name": rig.name, "primitives": [primitive]}],
        "materials": [{"name": "body", "pbrMetallicRoughness": material}],
        "skins": [skin],
        "animations": [animation],
        "accessors": binary.accessors,
        "bufferViews": binary.views,
        "buffers": [{"byteLength": binary.length}],
    }
    text = json.dumps(document, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 4)
    data = binary.data()
    total = 12 + 8 + len(text) + 8 + len(data)
    return b"".join((
        struct.pack("<4sII", b"glTF", 2, total),
        struct.pack("<II", len(text), _JSON_CHUNK), text,
        struct.pack("<II", len(data), _BIN_CHUNK), data,
    ))  # fmt: skip


def write_glb(
    path: str | os.PathLike, rig: SkinnedRig, pose: RigPose, *, fps: float, name: str = "motion"
) -> Path:
    """Write :func:`glb_bytes` to `path` (ending in .glb; atomic); returns the path.

    Args:
        rig: the body in its bind pose (V vertices, J joints).
        pose: T frames: local rotations [T, J, 3, 3] and root positions [T, 3].
        fps: frames per second (key k at k / fps seconds).
        name: the scene's and the animation's name.
    """
    path = Path(path)
    if path.suffix.lower() != ".glb":
        raise ValueError(f"binary glTF files end in .glb, got {str(path)!r}")
    data = glb_bytes(rig, pose, fps=fps, name=name)
    with atomic_path(path) as temp:
        temp.write_bytes(data)
    return path


def write_motion_glb(
    path: str | os.PathLike, model: Any, motion: SMPLMotion, *, name: str | None = None
) -> Path:
    """Write `motion` on `model` (a `vhdiff.body.BodyModel`: the mannequin or an SMPL-family
    body) as a .glb: the body for the motion's betas, animated at the motion's fps.
    name: the animation's name (default: the file name without .glb)."""
    if not isinstance(motion, SMPLMotion):
        raise ValueError(  # noqa: TRY004 - the project reports bad input as ValueError
            f"write_motion_glb takes a vhdiff.body.SMPLMotion, got {type(motion).__name__}"
        )
    path = Path(path)
    rig = model.skinning_rig(motion.betas)
    pose = model.rig_pose(**motion.to_torch())
    return write_glb(path, rig, pose, fps=motion.fps, name=path.stem if name is None else name)
