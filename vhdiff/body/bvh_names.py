"""Which BVH joint is which SMPL joint: the name tables of the common conventions.

One table per convention, keyed by the *normalised* BVH name (:func:`normalize_name`:
namespace before ``:`` dropped, lower case, letters and digits only, so
``mixamorig:LeftUpLeg``, ``LeftUpLeg`` and ``left_up_leg`` are one name). A table maps
onto the 22 SMPL body joints (``vhdiff.body.skeleton.BODY_JOINT_NAMES``); joints it does
not list are not retargeted (their local rotation stays the identity, their parent's
frame carries them). The same name can mean different joints in two conventions (CMU's
and Mixamo's ``LeftShoulder`` is the collar bone, Biovision's is the shoulder), so a file
is matched against each whole table and the table that names the most SMPL joints wins.

A user mapping (:func:`load_mapping`: a JSON object ``{"bvh joint name": "smpl joint
name"}``) takes precedence over the table for the joints it names.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from vhdiff.body.skeleton import BODY_JOINT_NAMES

__all__ = [
    "CONVENTIONS",
    "REQUIRED_JOINTS",
    "JointMatch",
    "load_mapping",
    "match_joints",
    "normalize_name",
]


def normalize_name(name: str) -> str:
    """'mixamorig:LeftUpLeg' -> 'leftupleg' (namespace dropped, lower case, [a-z0-9] only)."""
    return re.sub(r"[^a-z0-9]", "", str(name).rsplit(":", 1)[-1].lower())


def _table(pairs: Mapping[str, str]) -> dict[str, str]:
    return {normalize_name(bvh): smpl for bvh, smpl in pairs.items()}


def _sided(pairs: Mapping[str, str]) -> dict[str, str]:
    """{'Left{}UpLeg'-style pattern: 'hip'} -> both sides ('LeftUpLeg': 'left_hip', ...)."""
    out = {}
    for pattern, joint in pairs.items():
        for side in ("left", "right"):
            out[pattern.format(side.capitalize(), side[0].upper())] = f"{side}_{joint}"
    return out


# SMPL's own names (vhdiff's BVH export), and SMPL-X / mannequin-x style (Pelvis, L_Hip).
_SMPL = {name: name for name in BODY_JOINT_NAMES} | {
    "Pelvis": "pelvis", "Spine1": "spine1", "Spine2": "spine2", "Spine3": "spine3",
    "Neck": "neck", "Head": "head",
    **_sided({"{1}_Hip": "hip", "{1}_Knee": "knee", "{1}_Ankle": "ankle", "{1}_Foot": "foot",
              "{1}_Collar": "collar", "{1}_Shoulder": "shoulder", "{1}_Elbow": "elbow",
              "{1}_Wrist": "wrist"}),
}  # fmt: skip
# Limb names shared by CMU (cgspeed's BVH conversion) and Mixamo.
_CMU_MIXAMO_LIMBS = _sided({
    "{0}UpLeg": "hip", "{0}Leg": "knee", "{0}Foot": "ankle", "{0}ToeBase": "foot",
    "{0}Shoulder": "collar", "{0}Arm": "shoulder", "{0}ForeArm": "elbow", "{0}Hand": "wrist",
})  # fmt: skip

# name -> {normalised BVH joint name: SMPL joint name}; the order breaks ties.
CONVENTIONS: dict[str, dict[str, str]] = {
    "smpl": _table(_SMPL),
    # CMU mocap as BVH (cgspeed): Hips, LHipJoint (unmapped), LowerBack, Spine, Spine1,
    # Neck, Neck1 (unmapped), Head; fingers and thumbs unmapped.
    "cmu": _table({
        "Hips": "pelvis", "LowerBack": "spine1", "Spine": "spine2", "Spine1": "spine3",
        "Neck": "neck", "Head": "head", **_CMU_MIXAMO_LIMBS,
    }),
    # Mixamo (names usually prefixed "mixamorig:"): Spine, Spine1, Spine2.
    "mixamo": _table({
        "Hips": "pelvis", "Spine": "spine1", "Spine1": "spine2", "Spine2": "spine3",
        "Neck": "neck", "Head": "head", **_CMU_MIXAMO_LIMBS,
    }),
    # Biovision / MotionBuilder style (e.g. assimp's Boxing_Toes.bvh): Ab and Chest (the
    # chest carries the neck and collars, so it is SMPL's spine3; spine2 stays unmapped).
    "biovision": _table({
        "Hips": "pelvis", "Ab": "spine1", "Chest": "spine3", "Neck": "neck", "Head": "head",
        **_sided({"{0}Hip": "hip", "{0}Knee": "knee", "{0}Ankle": "ankle", "{0}Toes": "foot",
                  "{0}Collar": "collar", "{0}Shoulder": "shoulder", "{0}Elbow": "elbow",
                  "{0}Wrist": "wrist"}),
    }),
}  # fmt: skip

# Without these the body cannot be posed: the root, the legs and the upper arms.
REQUIRED_JOINTS: tuple[str, ...] = (
    "pelvis", "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle",
    "right_ankle", "left_shoulder", "right_shoulder", "left_elbow", "right_elbow",
)  # fmt: skip


@dataclass(frozen=True)
class JointMatch:
    """How a file's joints map onto SMPL's.

    convention: the winning table's name; "TABLE+user" when a mapping file named some
        joints too, "user" when it named all that matched.
    bvh_of: {SMPL joint index (0..21): BVH joint index (file order)} for the matched joints.
    unmatched: BVH joint names that map to no SMPL joint (file order).
    """

    convention: str
    bvh_of: dict[int, int]
    unmatched: tuple[str, ...]


def load_mapping(path: str | os.PathLike) -> dict[str, str]:
    """Read a user mapping file: a JSON object {"bvh joint name": "smpl joint name"}."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"joint mapping file not found: {str(path)!r}")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{str(path)!r} is not a JSON file ({exc})") from None
    if not isinstance(data, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in data.items()
    ):
        raise ValueError(
            f"{str(path)!r}: a joint mapping is a JSON object of strings, "
            '{"BVH joint name": "SMPL joint name", ...}'
        )
    bad = sorted(v for v in data.values() if v not in BODY_JOINT_NAMES)
    if bad:
        raise ValueError(
            f"{str(path)!r}: unknown SMPL joint names {bad}; use SMPL's: "
            + ", ".join(BODY_JOINT_NAMES)
        )
    targets = list(data.values())
    twice = sorted({v for v in targets if targets.count(v) > 1})
    if twice:
        raise ValueError(f"{str(path)!r}: each SMPL joint may be named once, got twice: {twice}")
    return dict(data)


def match_joints(
    names: Sequence[str], *, mapping: Mapping[str, str] | None = None, where: str = "BVH file"
) -> JointMatch:
    """Map a file's joint `names` onto SMPL's 22 body joints (module docstring).

    Raises ValueError naming the unmatched joints and how to give a mapping when a
    REQUIRED_JOINTS joint has no match.
    """
    mapping = dict(mapping or {})
    smpl_index = {name: i for i, name in enumerate(BODY_JOINT_NAMES)}
    user = {
        i: smpl_index[mapping[name]] for i, name in enumerate(names) if name in mapping
    }  # BVH index -> SMPL index, exact names
    taken = set(user.values())
    best: tuple[str, dict[int, int]] = ("user", {})
    for convention, table in CONVENTIONS.items():
        found: dict[int, int] = {}
        for i, name in enumerate(names):
            joint = table.get(normalize_name(name))
            if i in user or joint is None or smpl_index[joint] in taken:
                continue
            found.setdefault(smpl_index[joint], i)  # the first (outermost) of equal names
        if len(found) > len(best[1]):
            best = (convention, found)
    bvh_of = {smpl: bvh for bvh, smpl in user.items()} | best[1]
    convention = best[0] if not user else f"{best[0]}+user" if best[1] else "user"
    mapped = set(bvh_of.values())
    unmatched = tuple(name for i, name in enumerate(names) if i not in mapped)
    missing = [name for name in REQUIRED_JOINTS if smpl_index[name] not in bvh_of]
    if missing:
        raise ValueError(
            f"{where}: no joint for SMPL's {', '.join(missing)} (closest naming: {best[0]}); "
            f"unmatched BVH joints: {', '.join(unmatched) or 'none'}; give a JSON mapping with "
            '--mapping FILE, e.g. {"' + (unmatched[0] if unmatched else "Hips") + '": "pelvis"}'
        )
    return JointMatch(
        convention=convention, bvh_of=dict(sorted(bvh_of.items())), unmatched=unmatched
    )
