"""Finding and reading SMPL / SMPL-H / SMPL-X model files (`.npz`, no pickle).

The official files are licensed: vhdiff never ships or downloads them. Users register at
the MPI sites, convert the SMPL / SMPL-H pickles once with
``vhdiff prep smpl-model IN.pkl OUT.npz`` and point vhdiff at the folder with
``VHDIFF_SMPL_DIR`` (or pass the file/folder to ``load_body_model``). Layout searched in
a folder (GENDER = NEUTRAL, MALE or FEMALE)::

    SMPL_GENDER.npz   SMPLH_GENDER.npz   SMPLX_GENDER.npz
    smpl/SMPL_GENDER.npz  smplh/SMPLH_GENDER.npz  smplx/SMPLX_GENDER.npz
    smplh/gender/model.npz     (the AMASS / MANO-site SMPL+H layout)
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from vhdiff.array_files import load_npz_file

__all__ = [
    "BODY_KINDS",
    "ENV_VAR",
    "find_model_file",
    "missing_model_message",
    "model_kind",
    "read_model_arrays",
]

ENV_VAR = "VHDIFF_SMPL_DIR"
BODY_KINDS = ("smpl", "smplh", "smplx")
# Number of kinematic-tree joints of each model -> its kind.
JOINTS_TO_KIND = {24: "smpl", 52: "smplh", 55: "smplx"}
REQUIRED_KEYS = (
    "v_template",
    "shapedirs",
    "posedirs",
    "J_regressor",
    "weights",
    "kintree_table",
    "f",
)
GENDERS = ("neutral", "male", "female")


def missing_model_message(problem: str, kind: str = "smpl") -> str:
    """The one message for a missing or unusable SMPL-family file: what, where, how."""
    site = "https://smpl-x.is.tue.mpg.de" if kind == "smplx" else "https://smpl.is.tue.mpg.de"
    return (
        f"{problem}. SMPL / SMPL-H / SMPL-X model files are licensed and not shipped with "
        f"vhdiff: register and download them from {site} (SMPL, and SMPL+H via "
        "https://mano.is.tue.mpg.de) or https://smpl-x.is.tue.mpg.de (SMPL-X). Convert an "
        "official SMPL/SMPL-H pickle once with `vhdiff prep smpl-model "
        "basicmodel_neutral_lbs_10_207_0_v1.1.0.pkl SMPL_DIR/SMPL_NEUTRAL.npz` (SMPL-X "
        "ships .npz files, use them as they are), then put the files in one folder as "
        "SMPL_NEUTRAL.npz / SMPLH_NEUTRAL.npz / SMPLX_NEUTRAL.npz and set "
        f"{ENV_VAR}=that/folder or pass the folder or file to load_body_model(path=...). "
        "Without them, load_body_model() uses the license-free mannequin (kind='mannequin')."
    )


def _candidates(folder: Path, kind: str, gender: str) -> list[Path]:
    upper = {"smpl": "SMPL", "smplh": "SMPLH", "smplx": "SMPLX"}[kind]
    name = f"{upper}_{gender.upper()}.npz"
    found = [folder / name, folder / kind / name]
    if kind == "smplh":
        found.append(folder / "smplh" / gender / "model.npz")
    return found


def find_model_file(path: str | os.PathLike | None, kind: str, gender: str = "neutral") -> Path:
    """Resolve a model file from a file, a folder or ``$VHDIFF_SMPL_DIR``.

    kind is "auto" or one of BODY_KINDS; with "auto" a folder is searched for SMPL,
    then SMPL-H, then SMPL-X. Raises FileNotFoundError (with how to get the files) or
    ValueError (a pickle that needs converting, an unknown gender).
    """
    if gender not in GENDERS:
        raise ValueError(f"gender must be one of {GENDERS}, got {gender!r}")
    label = "smpl" if kind == "auto" else kind
    if path is None:
        env = os.environ.get(ENV_VAR)
        if not env:
            raise FileNotFoundError(
                missing_model_message(f"no model path given and {ENV_VAR} is not set", label)
            )
        path, origin = Path(env), f"{ENV_VAR}={env!r}"
    else:
        path, origin = Path(path), repr(str(path))
    if path.is_file():
        if path.suffix == ".pkl":
            raise ValueError(
                f"{str(path)!r} is a pickle: vhdiff does not unpickle model files at load time. "
                f"Convert it once with `vhdiff prep smpl-model {path} {path.with_suffix('.npz')}` "
                "and load the .npz"
            )
        return path
    if not path.exists():
        raise FileNotFoundError(
            missing_model_message(f"SMPL model path {origin} does not exist", label)
        )
    if not path.is_dir():
        raise FileNotFoundError(
            missing_model_message(f"{origin} is neither a file nor a folder", label)
        )
    kinds = BODY_KINDS if kind == "auto" else (kind,)
    searched: list[Path] = []
    for each in kinds:
        for candidate in _candidates(path, each, gender):
            searched.append(candidate)
            if candidate.is_file():
                return candidate
    pickles = [c.with_suffix(".pkl") for c in searched if c.with_suffix(".pkl").is_file()]
    pickles += sorted(path.glob("*.pkl"))
    if pickles:
        raise FileNotFoundError(
            missing_model_message(
                f"folder {origin} has pickles ({', '.join(p.name for p in pickles[:3])}) but no "
                f"converted .npz; run `vhdiff prep smpl-model {pickles[0]} "
                f"{path / ('SMPL_' + gender.upper() + '.npz')}`",
                label,
            )
        )
    names = ", ".join(str(c.relative_to(path)) for c in searched)
    raise FileNotFoundError(missing_model_message(f"folder {origin} has none of: {names}", label))


def read_model_arrays(path: str | os.PathLike) -> tuple[dict[str, np.ndarray], list[str]]:
    """Read every numeric array of a model `.npz` without unpickling anything.

    Returns (arrays, skipped) where skipped names the keys that hold Python objects
    (official SMPL-X files carry a few such bookkeeping entries; none is needed).
    Raises ValueError naming the file when it is not an .npz or lacks a required key.
    """
    path = Path(path)
    archive = load_npz_file(path, kind="body model file", fmt=".npz model file")
    arrays: dict[str, np.ndarray] = {}
    skipped: list[str] = []
    with archive:
        for key in archive.files:
            try:
                arrays[key] = archive[key]
            except ValueError:  # object array: would need pickle
                skipped.append(key)
    missing = [key for key in REQUIRED_KEYS if key not in arrays]
    if missing:
        raise ValueError(
            f"{str(path)!r} is not an SMPL-family model: missing {missing} (it has "
            f"{sorted(arrays)}). Official pickles must be converted with `vhdiff prep smpl-model`"
        )
    return arrays, skipped


def model_kind(arrays: dict[str, np.ndarray], path: str | os.PathLike = "<arrays>") -> str:
    """Tell SMPL (24 joints), SMPL-H (52) and SMPL-X (55) apart by the kinematic tree."""
    num_joints = int(np.asarray(arrays["kintree_table"]).shape[-1])
    kind = JOINTS_TO_KIND.get(num_joints)
    if kind is None:
        raise ValueError(
            f"{str(path)!r} has a kinematic tree of {num_joints} joints; expected 24 (SMPL), "
            "52 (SMPL-H) or 55 (SMPL-X)"
        )
    return kind
