"""BVH export (and a reader) for SMPL motions: the 22-joint SMPL body skeleton.

BVH (Biovision Hierarchy) is what Blender, MotionBuilder, Maya and game engines import.
:func:`write_bvh` writes a :class:`~vhdiff.body.smpl_motion.SMPLMotion` as:

- **HIERARCHY**: the 22 SMPL body joints (SMPL names, parents from
  ``vhdiff.body.skeleton.BODY_PARENTS``, listed depth-first as BVH nests them, so the
  file's joint order is not SMPL's: match joints by name); each joint's OFFSET is its rest position minus
  its parent's (``SMPL_NEUTRAL_REST_JOINTS`` unless other rest joints are given, e.g. a
  body model's joints at zero pose for the motion's betas). The ROOT (pelvis) OFFSET is
  0 0 0 and its position channels hold the pelvis's absolute world position
  ``rest_joints[0] + transl``, so readers that add the root OFFSET to the channels and
  readers that take the channels alone (Blender) agree. The five leaves (feet, head,
  wrists) get an End Site that extends their bone by half its length (display only;
  the 22-joint body has no joint there).
- **MOTION**: ``Frame Time = 1 / fps``; per frame, the root's Xposition Yposition
  Zposition and every joint's three rotation channels in ``order``, in degrees.
- **Which skeleton** (``skeleton="mannequin"``, ...): BVH has no comment syntax, and a
  ``#`` line or extra words around ``HIERARCHY`` break readers (Blender requires the first
  word to be HIERARCHY, assimp the next token to be ROOT). So the skeleton's name is a
  joint: ``JOINT vhdiff_skeleton_NAME`` first under the root, OFFSET 0 0 0, ``CHANNELS 0``
  and a zero End Site. It is plain BVH grammar (Blender, assimp, MotionBuilder and
  Python BVH readers load it as one more zero-length bone), it adds no MOTION column,
  and the 22 SMPL joint names stay as they are. :attr:`BVHMotion.skeleton` reads it back.

Coordinates are SMPL's: **Y up, metres** (``scale=100`` writes centimetres), the rest body
facing +Z with its left side at +X. Rotations follow the BVH convention: channels
``Zrotation Xrotation Yrotation`` (order "ZXY", the default) mean the joint's local
rotation ``R = Rz(z) @ Rx(x) @ Ry(y)`` acting on column vectors (intrinsic Euler angles),
which is SMPL's local joint rotation ``exp(pose_j)``. Near gimbal lock (middle angle
+-90 degrees) the Euler decomposition is not unique; roma's ``rotmat_to_euler`` then
picks one valid triple, so the written angles still reproduce the rotation exactly.

:func:`read_bvh` parses files in this layout (and general BVH files with rotation
channels on every joint and position channels on the root) into a :class:`BVHMotion`,
whose :meth:`BVHMotion.joint_positions` runs forward kinematics.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from vhdiff.atomic_io import write_text_atomic
from vhdiff.body.rotations import axis_angle_to_matrix
from vhdiff.body.skeleton import (
    BODY_JOINT_NAMES,
    BODY_PARENTS,
    NUM_BODY_JOINTS,
    SMPL_NEUTRAL_REST_JOINTS,
    forward_kinematics,
)
from vhdiff.body.smpl_motion import SMPLMotion
from vhdiff.extras import require

__all__ = ["EULER_ORDERS", "SKELETON_MARKER", "BVHMotion", "read_bvh", "write_bvh"]

EULER_ORDERS: tuple[str, ...] = ("ZXY", "ZYX", "XYZ", "XZY", "YXZ", "YZX")
POSITION_CHANNELS: tuple[str, ...] = ("Xposition", "Yposition", "Zposition")
SKELETON_MARKER = "vhdiff_skeleton_"  # + the skeleton's name: a joint without channels
END_SITE_FRACTION = 0.5  # End Site = leaf bone extended by this fraction of its length


@dataclass
class BVHMotion:
    """A parsed BVH file.

    joint_names: J names in file order (parents come before their children).
    parents: J parent indices (-1 for the root).
    offsets: [J, 3] OFFSET of each joint from its parent (the root's from the origin),
        in the file's units.
    channels: J tuples of channel names, e.g. ("Xposition", ..., "Zrotation", ...).
    end_sites: {joint index: [3] End Site offset} for the joints that have one.
    frame_time: seconds per frame.
    frames: [T, C] channel values, C = sum of the joints' channel counts, rotations in
        degrees.
    """

    joint_names: list[str]
    parents: list[int]
    offsets: np.ndarray
    channels: list[tuple[str, ...]]
    end_sites: dict[int, np.ndarray]
    frame_time: float
    frames: np.ndarray

    @property
    def num_frames(self) -> int:
        return int(self.frames.shape[0])

    @property
    def fps(self) -> float:
        return 1.0 / self.frame_time

    def _columns(self, joint: int) -> list[int]:
        start = sum(len(c) for c in self.channels[:joint])
        return list(range(start, start + len(self.channels[joint])))

    @property
    def skeleton(self) -> str | None:
        """The skeleton a vhdiff export states (its marker joint's name), else None."""
        marked = [n for n in self.joint_names if n.startswith(SKELETON_MARKER)]
        return marked[0][len(SKELETON_MARKER) :] if marked else None

    def rest_joints(self) -> np.ndarray:
        """[J, 3] joint positions in the rest pose (offsets accumulated down the tree)."""
        rest = np.zeros_like(self.offsets)
        for joint, parent in enumerate(self.parents):
            rest[joint] = self.offsets[joint] + (rest[parent] if parent >= 0 else 0.0)
        return rest

    def local_rotations(self) -> np.ndarray:
        """[T, J, 3, 3] each joint's rotation relative to its parent (float64)."""
        roma = require("roma", needed_for="BVH rotations")

        out = np.tile(np.eye(3), (self.num_frames, len(self.joint_names), 1, 1))
        for joint, names in enumerate(self.channels):
            rot = [(i, n[0]) for i, n in zip(self._columns(joint), names) if n.endswith("rotation")]
            if not rot:
                continue
            if len(rot) != 3:
                raise ValueError(
                    f"joint {self.joint_names[joint]!r} has {len(rot)} rotation channels; "
                    "only three (one per axis) are supported"
                )
            order = "".join(axis for _, axis in rot)
            if order not in EULER_ORDERS:
                raise ValueError(
                    f"joint {self.joint_names[joint]!r} has the rotation channel order {order}; "
                    f"supported: one channel per axis ({', '.join(EULER_ORDERS)}); re-export "
                    "the file with one of them"
                )
            angles = torch.as_tensor(self.frames[:, [i for i, _ in rot]], dtype=torch.float64)
            out[:, joint] = roma.euler_to_rotmat(order, angles, degrees=True).numpy()
        return out

    def root_positions(self) -> np.ndarray:
        """[T, 3] root channel positions (zeros when the root has no position channels)."""
        positions = np.zeros((self.num_frames, 3))
        for column, name in zip(self._columns(0), self.channels[0]):
            if name in POSITION_CHANNELS:
                positions[:, POSITION_CHANNELS.index(name)] = self.frames[:, column]
        return positions

    def joint_positions(self) -> np.ndarray:
        """[T, J, 3] world joint positions by forward kinematics (file units, float64).

        The root sits at its OFFSET plus its position channels; every other joint at
        parent + parent's world rotation @ OFFSET.
        """
        for joint, names in enumerate(self.channels[1:], start=1):
            if any(name in POSITION_CHANNELS for name in names):
                raise ValueError(
                    f"joint {self.joint_names[joint]!r} has position channels; only the root "
                    "may move freely in this reader"
                )
        kinematics = forward_kinematics(
            torch.as_tensor(self.local_rotations()),
            torch.as_tensor(self.rest_joints()),
            self.parents,
            transl=torch.as_tensor(self.root_positions()),
        )
        return kinematics.positions.numpy()


def _rest_joints(rest_joints: Any) -> np.ndarray:
    if rest_joints is None:
        return np.asarray(SMPL_NEUTRAL_REST_JOINTS, dtype=np.float64)
    if hasattr(rest_joints, "detach"):
        rest_joints = rest_joints.detach().cpu().numpy()
    rest = np.asarray(rest_joints, dtype=np.float64)
    if rest.ndim == 3 and rest.shape[0] == 1:
        rest = rest[0]
    if rest.ndim != 2 or rest.shape[1] != 3 or rest.shape[0] < NUM_BODY_JOINTS:
        raise ValueError(
            f"rest_joints must have shape [22, 3] (or [J >= 22, 3], SMPL order), got "
            f"{list(rest.shape)}; pass a body model's joints at zero pose, or None for the "
            "neutral SMPL skeleton"
        )
    if not np.all(np.isfinite(rest)):
        raise ValueError("rest_joints contains NaN or infinite values")
    return rest[:NUM_BODY_JOINTS]


def _check_order(order: str) -> str:
    upper = str(order).upper()
    if upper not in EULER_ORDERS:
        raise ValueError(
            f"order must be one of {EULER_ORDERS} (the rotation channel order), got {order!r}"
        )
    return upper


def _euler_degrees(motion: SMPLMotion, order: str) -> np.ndarray:
    """[T, 22, 3] Euler angles (degrees) in `order` of SMPL's local joint rotations."""
    roma = require("roma", needed_for="BVH rotations")

    pose = torch.as_tensor(motion.poses.reshape(-1, NUM_BODY_JOINTS, 3), dtype=torch.float64)
    return roma.rotmat_to_euler(order, axis_angle_to_matrix(pose), degrees=True).numpy()


def _hierarchy(
    names: Sequence[str], rest: np.ndarray, order: str, scale: float, fmt: str,
    skeleton: str | None = None,
) -> tuple[list[str], list[int]]:
    """The HIERARCHY section's lines, depth-first from the root, and the SMPL indices of
    the joints in that (file) order, which the MOTION rows follow. `skeleton`: the name
    of the marker joint (SKELETON_MARKER + skeleton) put first under the root."""
    children: dict[int, list[int]] = {j: [] for j in range(NUM_BODY_JOINTS)}
    for joint, parent in enumerate(BODY_PARENTS[1:], start=1):
        children[parent].append(joint)
    rotations = " ".join(f"{axis}rotation" for axis in order)

    def vector(v: np.ndarray) -> str:
        return " ".join(format(float(x), fmt) for x in v * scale)

    lines = ["HIERARCHY"]
    file_order: list[int] = []

    def visit(joint: int, depth: int) -> None:
        file_order.append(joint)
        pad = "\t" * depth
        parent = BODY_PARENTS[joint]
        offset = np.zeros(3) if parent < 0 else rest[joint] - rest[parent]
        lines.append(f"{pad}{'ROOT' if parent < 0 else 'JOINT'} {names[joint]}")
        lines.append(pad + "{")
        lines.append(f"{pad}\tOFFSET {vector(offset)}")
        if parent < 0:
            lines.append(f"{pad}\tCHANNELS 6 {' '.join(POSITION_CHANNELS)} {rotations}")
            if skeleton is not None:  # no channels: the MOTION rows are unchanged
                inner, zero = pad + "\t", vector(np.zeros(3))
                marker = [f"JOINT {SKELETON_MARKER}{skeleton}", "{", f"\tOFFSET {zero}"]
                marker += ["\tCHANNELS 0", "\tEnd Site", "\t{", f"\t\tOFFSET {zero}", "\t}", "}"]
                lines.extend(inner + line for line in marker)
        else:
            lines.append(f"{pad}\tCHANNELS 3 {rotations}")
        for child in children[joint]:
            visit(child, depth + 1)
        if not children[joint]:
            lines.extend(
                [
                    f"{pad}\tEnd Site",
                    f"{pad}\t" + "{",
                    f"{pad}\t\tOFFSET {vector(END_SITE_FRACTION * offset)}",
                    f"{pad}\t" + "}",
                ]
            )
        lines.append(pad + "}")

    visit(0, 0)
    return lines, file_order


def write_bvh(
    path: str | os.PathLike,
    motion: SMPLMotion,
    *,
    rest_joints: Any = None,
    joint_names: Sequence[str] = BODY_JOINT_NAMES,
    scale: float = 1.0,
    order: str = "ZXY",
    decimals: int = 6,
    skeleton: str | None = None,
) -> Path:
    """Write `motion` as a BVH file of the 22-joint SMPL body (atomic); returns the path.

    Args:
        path: destination ending in ``.bvh`` (folders are created).
        motion: T frames of SMPL parameters; betas only matter through `rest_joints`.
        rest_joints: [22, 3] (or [J >= 22, 3]) rest-pose joints in metres, SMPL order;
            None = ``SMPL_NEUTRAL_REST_JOINTS`` (the neutral body with betas = 0, the
            skeleton vhdiff's motion features use).
        joint_names: 22 names (default SMPL's: "pelvis", "left_hip", ...).
        scale: file units per metre: 1 = metres, 100 = centimetres.
        order: rotation channel order, one of ``EULER_ORDERS``; "ZXY" puts the gimbal
            lock at +-90 degrees of pitch (X) rather than of heading (Y, the up axis).
        decimals: digits after the point (6: 1e-6 m and 1e-6 degrees).
        skeleton: which skeleton `rest_joints` is (e.g. "smpl_mean", "mannequin"), stated
            in the HIERARCHY as a marker joint (module docstring); None: no marker.
    """
    path = Path(path)
    if path.suffix.lower() != ".bvh":
        raise ValueError(f"BVH files end in .bvh, got {str(path)!r}")
    if not isinstance(motion, SMPLMotion):
        raise ValueError(  # noqa: TRY004 - the project reports bad input as ValueError
            f"write_bvh takes a vhdiff.body.SMPLMotion, got {type(motion).__name__}"
        )
    order = _check_order(order)
    rest = _rest_joints(rest_joints)
    names = [str(name) for name in joint_names]
    if len(names) != NUM_BODY_JOINTS or len(set(names)) != NUM_BODY_JOINTS:
        raise ValueError(f"joint_names must be 22 distinct names, got {len(names)}")
    bad = [name for name in names if not name or any(c.isspace() or c in "{}" for c in name)]
    if skeleton is not None and (not skeleton or any(c.isspace() or c in "{}" for c in skeleton)):
        bad.append(f"{SKELETON_MARKER}{skeleton}")
    if bad:
        raise ValueError(f"joint names may not be empty or hold spaces or braces: {bad}")
    scale = float(scale)
    if not np.isfinite(scale) or scale <= 0:
        raise ValueError(f"scale must be a positive number (1 = metres, 100 = cm), got {scale}")
    fmt = f".{int(decimals)}f"

    lines, file_order = _hierarchy(names, rest, order, scale, fmt, skeleton)
    root = (rest[0] + np.asarray(motion.transl, dtype=np.float64)) * scale  # [T, 3]
    angles = _euler_degrees(motion, order)[:, file_order]  # [T, 22, 3], file order
    values = np.concatenate((root, angles.reshape(motion.num_frames, -1)), axis=1)
    values[np.abs(values) < 0.5 * 10.0**-decimals] = 0.0  # no "-0.000000"

    lines += ["MOTION", f"Frames: {motion.num_frames}", f"Frame Time: {1.0 / motion.fps:.8f}"]
    lines += [" ".join(format(v, fmt) for v in row) for row in values.tolist()]
    write_text_atomic(path, "\n".join(lines) + "\n")
    return path


class _Tokens:
    """Whitespace tokens of the HIERARCHY section with line numbers for error messages."""

    def __init__(self, lines: list[str], where: str) -> None:
        self.items = [(word, n + 1) for n, line in enumerate(lines) for word in line.split()]
        self.index = 0
        self.where = where

    def fail(self, problem: str) -> ValueError:
        line = self.items[min(self.index, len(self.items) - 1)][1] if self.items else 1
        return ValueError(f"{self.where}, line {line}: {problem}; is it a BVH file?")

    def next(self) -> str:
        if self.index >= len(self.items):
            raise self.fail("the file ends inside HIERARCHY")
        word = self.items[self.index][0]
        self.index += 1
        return word

    def expect(self, word: str) -> None:
        got = self.next()
        if got != word:
            self.index -= 1
            raise self.fail(f"expected {word!r}, found {got!r}")

    def numbers(self, count: int) -> np.ndarray:
        words = [self.next() for _ in range(count)]
        try:
            return np.array([float(w) for w in words])
        except ValueError:
            raise self.fail(f"expected {count} numbers, found {' '.join(words)!r}") from None


def read_bvh(path: str | os.PathLike) -> BVHMotion:
    """Parse a BVH file (this module's layout, or any with 3 rotation channels per joint)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"BVH file not found: {str(path)!r}")
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as exc:
        raise ValueError(f"{str(path)!r} is not a text (UTF-8) BVH file ({exc})") from None
    where = repr(str(path))
    try:
        motion_line = next(i for i, line in enumerate(lines) if line.strip() == "MOTION")
    except StopIteration:
        raise ValueError(f"{where}: no MOTION section; is it a BVH file?") from None
    tokens = _Tokens(lines[:motion_line], where)
    tokens.expect("HIERARCHY")

    names: list[str] = []
    parents: list[int] = []
    offsets: list[np.ndarray] = []
    channels: list[tuple[str, ...]] = []
    end_sites: dict[int, np.ndarray] = {}

    def joint(parent: int) -> None:
        index = len(names)
        names.append(tokens.next())
        parents.append(parent)
        tokens.expect("{")
        tokens.expect("OFFSET")
        offsets.append(tokens.numbers(3))
        tokens.expect("CHANNELS")
        count = tokens.next()
        if not count.isdigit():
            raise tokens.fail(f"expected a channel count, found {count!r}")
        channels.append(tuple(tokens.next() for _ in range(int(count))))
        known = POSITION_CHANNELS + ("Xrotation", "Yrotation", "Zrotation")
        unknown = [c for c in channels[-1] if c not in known]
        if unknown:
            raise tokens.fail(f"unknown channels {unknown}")
        while True:
            word = tokens.next()
            if word == "JOINT":
                joint(index)
            elif word == "End":
                tokens.expect("Site")
                tokens.expect("{")
                tokens.expect("OFFSET")
                end_sites[index] = tokens.numbers(3)
                tokens.expect("}")
            elif word == "}":
                return
            else:
                tokens.index -= 1
                raise tokens.fail(f"expected JOINT, End Site or '}}', found {word!r}")

    tokens.expect("ROOT")
    joint(-1)
    if tokens.index != len(tokens.items):
        raise tokens.fail("text after the ROOT joint's closing brace")

    header = [line.strip() for line in lines[motion_line + 1 : motion_line + 3]]
    try:
        if not (header[0].startswith("Frames:") and header[1].startswith("Frame Time:")):
            raise ValueError
        num_frames = int(header[0].split(":", 1)[1])
        frame_time = float(header[1].split(":", 1)[1])
    except (ValueError, IndexError):
        raise ValueError(
            f"{where}: MOTION must be followed by 'Frames: N' and 'Frame Time: SECONDS'"
        ) from None
    if not (np.isfinite(frame_time) and frame_time > 0):
        raise ValueError(f"{where}: Frame Time must be positive, got {frame_time}")
    rows = [line for line in lines[motion_line + 3 :] if line.strip()]
    # Lines beyond 'Frames: N' are ignored, as assimp and MotionBuilder do (some real
    # files, e.g. assimp's Boxing_Toes.bvh, hold one more frame than they announce).
    rows = rows[:num_frames] if num_frames >= 0 else rows
    width = sum(len(c) for c in channels)
    values = [row.split() for row in rows]
    short = next((n for n, row in enumerate(values) if len(row) != width), None)
    if len(rows) != num_frames or short is not None:
        found = f"; frame {short} has {len(values[short])}" if short is not None else ""
        raise ValueError(
            f"{where}: expected {num_frames} frames of {width} values (Frames / CHANNELS), "
            f"got {len(rows)} lines{found}"
        )
    try:
        frames = np.array(values, dtype=np.float64)
    except ValueError:
        raise ValueError(f"{where}: a frame line holds something other than numbers") from None
    return BVHMotion(
        joint_names=names,
        parents=parents,
        offsets=np.stack(offsets),
        channels=channels,
        end_sites=end_sites,
        frame_time=frame_time,
        frames=frames.reshape(num_frames, width),
    )
