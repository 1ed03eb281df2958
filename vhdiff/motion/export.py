"""Writing generated motions to files: SMPL `.npz`, a rendered MP4 / GIF, BVH, glTF, OBJ per frame.

    from vhdiff.atomic_io import FolderKind, Staging, check_replace_folder
    from vhdiff.motion.export import MotionExporter
    exporter = MotionExporter(body="mannequin", video=".mp4", bvh=True)
    with Staging() as staging:                    # all files appear together, or none
        files = exporter.export(motion.smpl, "a person walks", Path("out/walk"), staging)
    exporter.close()

One exporter poses every motion with one body model and draws it with one renderer (both
made on first use). `export` writes under temporary names of a `vhdiff.atomic_io.Staging`;
they become the final names only when the staging commits. Files of an earlier export
under the same names are replaced; a NAME_obj/ folder only when it holds nothing but the
NAME_NNNNN.obj files an export writes (`vhdiff.viz.writers.sequence_kind`), so a
folder with anything of the user's in it is refused, not replaced (`check_outputs` says so
before any motion is made).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from vhdiff.atomic_io import FolderKind, Staging, check_replace_folder
from vhdiff.body.posing import BODIES
from vhdiff.body.smpl_motion import SMPLMotion

__all__ = ["BVH_SKELETONS", "VIDEO_SUFFIXES", "MotionExporter", "with_suffix"]

VIDEO_SUFFIXES = (".mp4", ".gif")
# What a BVH export's skeleton is: "body", the rest joints of the body that is drawn (the
# mannequin, or the SMPL model, for the motion's betas: FK of the file = the video's joints);
# "smpl", the neutral SMPL skeleton the motion features are defined on.
BVH_SKELETONS = ("body", "smpl")
SMPL_MEAN_SKELETON = "smpl_mean"  # its name in the file (vhdiff.body.bvh.SKELETON_MARKER)


def with_suffix(stem: Path, suffix: str) -> Path:
    """stem + suffix (Path.with_suffix would replace a dot inside the name)."""
    return stem.with_name(stem.name + suffix)


class MotionExporter:
    """Poses, renders and exports motions with one body model and one renderer.

    Args (keyword-only):
        body: "mannequin" (license-free), "smpl" (the user's licensed files from
            `smpl_dir` / $VHDIFF_SMPL_DIR) or "skeleton" (a stick figure, no OpenGL).
        smpl_dir: SMPL model file or folder for body="smpl".
        video: ".mp4", ".gif" or None (no video).
        size: video width and height in pixels.
        bvh: also write NAME.bvh; obj: also write NAME_obj/ with one OBJ mesh per frame.
        bvh_skeleton: the BVH's skeleton, one of BVH_SKELETONS ("body": the drawn body's).
        glb: also write NAME.glb, the drawn body's skinned mesh animated by the motion
            (`vhdiff.body.gltf`; body="skeleton" gives the mannequin's, or the SMPL
            model's with `smpl_dir`).
    """

    def __init__(
        self, *, body: str = "mannequin", smpl_dir: str | None = None, video: str | None = ".mp4",
        size: int = 512, bvh: bool = False, obj: bool = False, bvh_skeleton: str = "body",
        glb: bool = False,
    ) -> None:
        if body not in BODIES:
            raise ValueError(f"unknown body {body!r}; choose one of {', '.join(BODIES)}")
        if video is not None and video not in VIDEO_SUFFIXES:
            raise ValueError(f"video must be one of {', '.join(VIDEO_SUFFIXES)} or None, got {video!r}")
        self.body, self.smpl_dir, self.video, self.size = body, smpl_dir, video, int(size)
        if bvh_skeleton not in BVH_SKELETONS:
            raise ValueError(
                f"unknown BVH skeleton {bvh_skeleton!r}; choose one of {', '.join(BVH_SKELETONS)}"
            )
        self.bvh, self.obj, self.bvh_skeleton = bool(bvh), bool(obj), bvh_skeleton
        self.glb = bool(glb)
        self._model: Any = None
        self._renderer: Any = None

    def model(self) -> Any:
        """The body model (loaded on first use)."""
        if self._model is None:
            from vhdiff.body.posing import body_model_for

            self._model = body_model_for(self.body, self.smpl_dir, "neutral")
        return self._model

    def skeleton_name(self) -> str:
        """The BVH skeleton's name in the file: "smpl_mean" or the body model's kind."""
        return SMPL_MEAN_SKELETON if self.bvh_skeleton == "smpl" else str(self.model().kind)

    def rest_joints(self, motion: SMPLMotion) -> np.ndarray | None:
        """The BVH skeleton's rest joints [22, 3]: for "body", the body model's joints at
        zero pose for the motion's betas (the mannequin's, or real SMPL's); for "smpl", None
        (the neutral SMPL skeleton the motion features are defined on)."""
        if self.bvh_skeleton == "smpl":
            return None
        import torch

        with torch.no_grad():
            out = self.model()(
                global_orient=torch.zeros(1, 3),
                body_pose=torch.zeros(1, 21, 3),
                betas=torch.as_tensor(motion.betas[None], dtype=torch.float32),
                transl=torch.zeros(1, 3),
            )
        return out.joints[0, :22].cpu().numpy()

    def frames(
        self, posed: tuple[np.ndarray, np.ndarray, np.ndarray], title: str
    ) -> np.ndarray | Iterator[np.ndarray]:
        """Pictures of a posed motion (pose_motion's vertices, joints, faces): uint8
        [T, size, size, 3] stick figures, or the mesh renderer's frames one by one (an
        iterator, so the MP4 writer encodes while the next frame is drawn)."""
        vertices, joints, faces = posed
        if self.body == "skeleton":
            from vhdiff.viz.skeleton import render_skeleton

            return render_skeleton(joints, size=self.size, title=title)
        if self._renderer is None:
            from vhdiff.viz.mesh_renderer import MeshRenderer

            self._renderer = MeshRenderer(width=self.size, height=self.size)
        return self._renderer.iter_frames(vertices, faces)

    def outputs(self, stem: Path) -> list[Path]:
        """The paths `export` writes for `stem`: NAME.npz, then the video, NAME.bvh, NAME.glb,
        NAME_obj/."""
        finals = [with_suffix(stem, ".npz")]
        if self.video is not None:
            finals.append(with_suffix(stem, self.video))
        if self.bvh:
            finals.append(with_suffix(stem, ".bvh"))
        if self.glb:
            finals.append(with_suffix(stem, ".glb"))
        if self.obj:
            finals.append(stem.with_name(f"{stem.name}_obj"))
        return finals

    @staticmethod
    def obj_kind(stem: Path) -> FolderKind:
        """What a NAME_obj/ folder that an export wrote holds: NAME_NNNNN.obj files only."""
        from vhdiff.viz.writers import sequence_kind

        return sequence_kind(prefix=f"{stem.name}_", fmt="obj")

    def check_outputs(self, stem: Path) -> None:
        """Raise now (IsADirectoryError, FileExistsError) if `export(..., stem, ...)` could not
        put its outputs in place: a file's name is taken by a folder, or NAME_obj/ holds
        something an export did not write. Nothing is changed on disk."""
        for final in self.outputs(stem):
            if final.suffix:
                if final.is_dir():
                    raise IsADirectoryError(
                        f"{str(final)!r} is a folder; remove it or choose another --out name"
                    )
            else:
                check_replace_folder(final, kind=self.obj_kind(stem), force=True)

    def export(self, motion: SMPLMotion, prompt: str, stem: Path, staging: Staging) -> list[Path]:
        """Write every requested output of one motion under temporary names of `staging`;
        returns the final paths (`outputs(stem)`)."""
        from vhdiff.body.posing import pose_motion
        from vhdiff.viz.writers import write_frames, write_mesh_sequence

        finals = self.outputs(stem)
        npz, rest = finals[0], iter(finals[1:])
        motion.save(staging.file(npz))
        posed = pose_motion(self.model(), motion) if self.video or self.obj else None
        if self.video is not None:
            write_frames(staging.file(next(rest)), self.frames(posed, prompt), motion.fps)
        if self.bvh:
            from vhdiff.body.bvh import write_bvh

            write_bvh(
                staging.file(next(rest)), motion, rest_joints=self.rest_joints(motion),
                skeleton=self.skeleton_name(),
            )  # fmt: skip
        if self.glb:
            from vhdiff.body.gltf import write_motion_glb

            write_motion_glb(staging.file(next(rest)), self.model(), motion, name=stem.name)
        if self.obj:
            vertices, _, faces = posed
            folder = staging.folder(next(rest), kind=self.obj_kind(stem))
            write_mesh_sequence(folder, vertices, faces, prefix=f"{stem.name}_")
        return finals

    def close(self) -> None:
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None
