"""A motion in SMPL parameters and its `.npz` file.

The file (written by :meth:`SMPLMotion.save`, numpy arrays only, loadable with
``np.load(path)`` without pickle) holds:

==================  ==============  ================================================
key                 shape           meaning
==================  ==============  ================================================
``global_orient``   [T, 3]          root (pelvis) rotation, axis-angle
``body_pose``       [T, 63]         21 body joints x axis-angle, SMPL joint order 1..21
                                    (flat, as ``smplx`` models take it)
``transl``          [T, 3]          root translation, metres, Y up
``betas``           [10]            shape coefficients
``fps``             []              frames per second
``gender``          []              "neutral", "male" or "female"
``poses``           [T, 72]         SMPL's full pose: global_orient, body_pose and two
                                    zero hand joints (the 24-joint SMPL layout)
``trans``           [T, 3]          = transl (AMASS name)
``mocap_framerate`` []              = fps (AMASS name)
==================  ==============  ================================================

So ``smplx.SMPL(...)(global_orient=..., body_pose=..., transl=..., betas=...)`` and
SMPL / AMASS readers (``poses``, ``trans``, ``betas``, ``mocap_framerate``) both read it.
:meth:`SMPLMotion.load` reads our files and AMASS-style files (``poses`` [T, >= 66],
``trans``, ``mocap_framerate`` or ``mocap_frame_rate``; betas beyond the first 10 are
dropped there, since SMPL-H's extra coefficients are small).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vhdiff.array_files import load_npz_file
from vhdiff.atomic_io import write_npz_atomic

__all__ = ["NUM_BETAS", "SMPLMotion"]

NUM_BETAS = 10
GENDERS = ("neutral", "male", "female")


def _float_array(value: Any, name: str) -> np.ndarray:
    if hasattr(value, "detach"):  # a torch tensor
        value = value.detach().cpu().numpy()
    array = np.asarray(value)
    if array.dtype.kind not in "fiu":
        raise ValueError(f"{name} must hold numbers, got dtype {array.dtype}")
    if array.dtype.kind != "f":
        array = array.astype(np.float32)
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return array


@dataclass
class SMPLMotion:
    """T frames of SMPL parameters (numpy arrays, float32 or float64).

    global_orient: [T, 3] axis-angle of the pelvis.
    body_pose: [T, 21, 3] axis-angle of SMPL joints 1..21 ([T, 63] is reshaped).
    transl: [T, 3] metres, Y up.
    betas: [10] shape coefficients (shorter vectors are zero-padded to 10).
    fps: frames per second (> 0).
    gender: "neutral" (default), "male" or "female": the body the parameters are meant for.
    """

    global_orient: np.ndarray
    body_pose: np.ndarray
    transl: np.ndarray
    betas: np.ndarray
    fps: float
    gender: str = "neutral"

    def __post_init__(self) -> None:
        self.global_orient = _float_array(self.global_orient, "global_orient")
        self.body_pose = _float_array(self.body_pose, "body_pose")
        self.transl = _float_array(self.transl, "transl")
        self.betas = _float_array(self.betas, "betas")
        if self.global_orient.ndim != 2 or self.global_orient.shape[1] != 3:
            raise ValueError(
                f"global_orient must have shape [T, 3], got {list(self.global_orient.shape)}"
            )
        frames = self.global_orient.shape[0]
        if self.body_pose.ndim == 2 and self.body_pose.shape[1] == 63:
            self.body_pose = self.body_pose.reshape(-1, 21, 3)
        if self.body_pose.shape != (frames, 21, 3):
            hint = (
                " (SMPL's 23-joint pose: keep body_pose[:, :21], the hands are not stored)"
                if self.body_pose.shape[1:] in ((23, 3), (69,))
                else ""
            )
            raise ValueError(
                f"body_pose must have shape [T, 21, 3] = [{frames}, 21, 3] (or [T, 63]), "
                f"got {list(self.body_pose.shape)}{hint}"
            )
        if self.transl.shape != (frames, 3):
            raise ValueError(
                f"transl must have shape [T, 3] = [{frames}, 3], got {list(self.transl.shape)}"
            )
        if self.betas.ndim == 2 and len(self.betas) > 0 and np.allclose(self.betas, self.betas[:1]):
            self.betas = self.betas[0]  # per-frame copies of one shape
        if self.betas.ndim != 1 or self.betas.shape[0] > NUM_BETAS:
            raise ValueError(
                f"betas must have shape [{NUM_BETAS}] (or fewer, zero-padded), got "
                f"{list(self.betas.shape)}; keep the first {NUM_BETAS} coefficients"
            )
        if self.betas.shape[0] < NUM_BETAS:
            self.betas = np.concatenate(
                (self.betas, np.zeros(NUM_BETAS - self.betas.shape[0], self.betas.dtype))
            )
        fps = float(np.asarray(self.fps))
        if not np.isfinite(fps) or fps <= 0:
            raise ValueError(f"fps must be a positive number, got {self.fps!r}")
        self.fps = fps
        if self.gender not in GENDERS:
            raise ValueError(f"gender must be one of {GENDERS}, got {self.gender!r}")
        if frames == 0:
            raise ValueError("a motion needs at least one frame, got T = 0")

    @property
    def num_frames(self) -> int:
        return self.global_orient.shape[0]

    @property
    def duration(self) -> float:
        """Length in seconds (num_frames / fps)."""
        return self.num_frames / self.fps

    @property
    def poses(self) -> np.ndarray:
        """[T, 66]: global_orient followed by the flattened body_pose."""
        return np.concatenate(
            (self.global_orient, self.body_pose.reshape(self.num_frames, 63)), axis=1
        )

    def to_torch(self, device: Any = "cpu", dtype: Any = None) -> dict[str, Any]:
        """Keyword arguments for a body model: global_orient [T, 3], body_pose [T, 21, 3],
        transl [T, 3], betas [T, 10] (tensors; dtype defaults to float32)."""
        import torch

        dtype = torch.float32 if dtype is None else dtype

        def tensor(array: np.ndarray) -> torch.Tensor:
            return torch.as_tensor(array, dtype=dtype, device=device)

        return {
            "global_orient": tensor(self.global_orient),
            "body_pose": tensor(self.body_pose),
            "transl": tensor(self.transl),
            "betas": tensor(np.tile(self.betas, (self.num_frames, 1))),
        }

    def save(self, path: str | os.PathLike) -> Path:
        """Write the `.npz` described in this module's docstring atomically; returns the path."""
        path = Path(path)
        if path.suffix != ".npz":
            raise ValueError(f"motion files end in .npz, got {str(path)!r}")
        path.parent.mkdir(parents=True, exist_ok=True)
        frames = self.num_frames
        poses72 = np.concatenate(
            (self.poses, np.zeros((frames, 6), dtype=self.body_pose.dtype)), axis=1
        )
        arrays = {
            "global_orient": self.global_orient,
            "body_pose": self.body_pose.reshape(frames, 63),
            "transl": self.transl,
            "betas": self.betas,
            "fps": np.asarray(self.fps, dtype=np.float64),
            "gender": np.asarray(self.gender),
            "poses": poses72,
            "trans": self.transl,
            "mocap_framerate": np.asarray(self.fps, dtype=np.float64),
        }
        write_npz_atomic(path, arrays)
        return path

    @classmethod
    def load(cls, path: str | os.PathLike) -> SMPLMotion:
        """Read a motion `.npz` (ours or AMASS-style); errors name the file and the problem."""
        path = Path(path)
        archive = load_npz_file(path, kind="motion file", fmt=".npz motion file")
        with archive:
            keys = set(archive.files)

            def read(key: str) -> np.ndarray:
                try:
                    return archive[key]
                except ValueError as exc:  # object arrays need pickle: refused
                    raise ValueError(
                        f"{str(path)!r}: key {key!r} holds Python objects (pickle), which are "
                        "not loaded; store plain numeric arrays"
                    ) from exc

            try:
                if {"global_orient", "body_pose", "transl"} <= keys:
                    fields = {
                        "global_orient": read("global_orient"),
                        "body_pose": read("body_pose"),
                        "transl": read("transl"),
                    }
                elif {"poses", "trans"} <= keys:
                    poses = read("poses")
                    if poses.ndim != 2 or poses.shape[1] < 66:
                        raise ValueError(
                            f"'poses' must have shape [T, >= 66], got {list(poses.shape)}"
                        )
                    fields = {
                        "global_orient": poses[:, :3],
                        "body_pose": poses[:, 3:66],
                        "transl": read("trans"),
                    }
                else:
                    raise ValueError(
                        "missing keys: need global_orient, body_pose, transl (or AMASS's poses, "
                        f"trans); the file has {sorted(keys)}"
                    )
                fps_key = next(
                    (k for k in ("fps", "mocap_framerate", "mocap_frame_rate") if k in keys), None
                )
                if fps_key is None:
                    raise ValueError(
                        f"missing key 'fps' (or 'mocap_framerate'); the file has {sorted(keys)}"
                    )
                if "betas" not in keys:
                    raise ValueError(f"missing key 'betas'; the file has {sorted(keys)}")
                betas = read("betas")
                if "global_orient" not in keys and betas.ndim == 1:
                    betas = betas[:NUM_BETAS]  # AMASS: 16 SMPL-H betas
                gender = read("gender").item() if "gender" in keys else "neutral"
                if isinstance(gender, bytes):
                    gender = gender.decode("latin1")
                return cls(**fields, betas=betas, fps=float(read(fps_key)), gender=gender)
            except ValueError as exc:
                if str(path) in str(exc):
                    raise
                raise ValueError(f"{str(path)!r}: {exc}") from exc
