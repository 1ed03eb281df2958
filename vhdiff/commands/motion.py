"""`vhdiff motion`: text to SMPL motion, rendered to an MP4, with BVH / glTF / OBJ export.

    vhdiff motion "a person walks forward and waves"             # motion.mp4 + motion.npz
    vhdiff motion "a person jumps" --num 3 --out jump.mp4         # jump_000.mp4/.npz ... _002
    vhdiff motion --prompts prompts.txt --out out/clip.mp4 --bvh  # one clip per line, + .bvh
    vhdiff motion "a person waves" --edit walk.npz --keep lower   # keep the legs of walk.npz
    vhdiff motion "a person sits down" --edit walk.npz --keep first:20   # in-betweening

Outputs, for ``--out NAME.mp4`` (``.gif`` also works; ``NAME.npz`` or ``--no-video``
skips rendering):

- ``NAME.npz``: the motion in SMPL parameters (`vhdiff.body.SMPLMotion`; loads in SMPL /
  AMASS tools and in `vhdiff render`);
- ``NAME.mp4``: the rendered body (``--body mannequin`` by default, ``smpl`` for the
  licensed SMPL files from ``--smpl-dir`` / $VHDIFF_SMPL_DIR, ``skeleton`` for a stick
  figure that needs no OpenGL);
- ``NAME.bvh`` with ``--bvh``: the 22-joint skeleton for Blender / game engines (Y up,
  metres; `vhdiff.body.bvh`): by default the drawn body's (``--bvh-skeleton body``: its
  joints are the video's), or the neutral SMPL skeleton (``--bvh-skeleton smpl``); the
  file names it (a ``vhdiff_skeleton_NAME`` marker joint);
- ``NAME.glb`` with ``--glb``: binary glTF 2.0, the drawn body's skinned mesh, skeleton and
  the motion as a skeletal animation at its fps (Y up, metres; `vhdiff.body.gltf`);
- ``NAME_obj/`` with ``--obj``: one OBJ mesh per frame.

Several motions (``--num N``, several prompts in ``--prompts``, prompt-major order) are
numbered ``NAME_000.mp4``, ``NAME_000.npz``, ... Every output is first written under a
temporary name beside its destination and renamed only when ALL outputs are written, so a
failed run leaves no partial files (and no half-written old ones).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vhdiff.atomic_io import Staging, check_writable
from vhdiff.body.posing import BODIES
from vhdiff.body.smpl_motion import SMPLMotion
from vhdiff.commands.options import (
    MAX_BATCH,
    MAX_MOTIONS,
    as_flag_error,
    check_range,
    check_seed,
    check_settings,
    sampling_overrides,
)
from vhdiff.diffusion import SAMPLER_NAMES, SPACINGS
from vhdiff.motion.export import BVH_SKELETONS, VIDEO_SUFFIXES, MotionExporter

KEEP_CHOICES = "lower|upper|first:K|last:K"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "prompt", nargs="?", default=None, help='what the body does, e.g. "a person walks forward"'
    )
    parser.add_argument(
        "--prompts",
        default=None,
        metavar="FILE",
        help="UTF-8 text file, one prompt per line (blank and #-lines skipped)",
    )
    parser.add_argument(
        "--length",
        type=float,
        default=None,
        metavar="SECONDS",
        help="motion length in seconds (default 6; with --edit the edited file's length)",
    )
    parser.add_argument("--num", type=int, default=1, help="motions per prompt")
    parser.add_argument(
        "--steps", type=int, default=None,
        help="sampling steps (default: the model's setting; with --edit the RePaint steps)",
    )
    parser.add_argument(
        "--sampler",
        choices=SAMPLER_NAMES,
        default=None,
        help="sampler (default: the model's setting; --edit always samples DDPM, RePaint inpainting)",
    )
    parser.add_argument(
        "--timestep-spacing", choices=SPACINGS, default=None,
        help="the sampler's timestep grid (default: the model's setting, else the sampler's)",
    )
    parser.add_argument("--eta", type=float, default=None, help="DDIM noise, 0 (default) to 1")
    parser.add_argument(
        "--guidance",
        type=float,
        default=None,
        help="classifier-free guidance scale (1 = none, 0 = ignore the prompt; default: the model's setting)",
    )
    parser.add_argument(
        "--snap",
        type=float,
        default=None,
        metavar="STRENGTH",
        help="pull the prompt towards the model's training captions, 0 (off) to 1 "
        "(default: the model's setting, 0.5 for the bundled model)",
    )
    parser.add_argument(
        "--guidance-interval",
        default=None,
        metavar="T_MIN:T_MAX",
        help="timesteps (0-999) where guidance acts, the conditional model alone elsewhere, or "
        "all (default: the model's setting)",
    )
    parser.add_argument(
        "--smoothing",
        type=float,
        default=None,
        metavar="FRAMES",
        help="temporal smoothing against jitter, a Gaussian of this many frames (default: the "
        "model's setting, 0.7 for the bundled model; 0 = raw output; with --edit only the "
        "generated part)",
    )
    parser.add_argument(
        "--foot-lock",
        action="store_true",
        help="hold the feet the model marks as planted still (root correction, then leg "
        "IK): less foot sliding, but walks cover less ground (not with --edit)",
    )
    parser.add_argument("--seed", type=int, default=None, help="random seed (reproducible)")
    parser.add_argument(
        "--checkpoint",
        default=None,
        metavar="DIR",
        help="a motion pipeline folder (default: the model bundled with vhdiff)",
    )
    parser.add_argument(
        "--out",
        default="motion.mp4",
        help="NAME.mp4 (or .gif): writes NAME.mp4 and NAME.npz; NAME.npz: no video",
    )
    parser.add_argument("--body", choices=BODIES, default="mannequin", help="what to draw")
    parser.add_argument(
        "--smpl-dir",
        default=None,
        metavar="DIR",
        help="SMPL model file or folder for --body smpl (default: $VHDIFF_SMPL_DIR)",
    )
    parser.add_argument("--bvh", action="store_true", help="also write NAME.bvh (22 joints)")
    parser.add_argument(
        "--bvh-skeleton",
        choices=BVH_SKELETONS,
        default="body",
        help="the BVH's skeleton: body = the drawn body's (its joints match the video), smpl = "
        "the neutral SMPL skeleton (default body)",
    )
    parser.add_argument(
        "--glb",
        action="store_true",
        help="also write NAME.glb: the body's skinned mesh and skeleton animated by the motion "
        "(glTF 2.0 for Blender, three.js, game engines)",
    )
    parser.add_argument("--obj", action="store_true", help="also write NAME_obj/ (OBJ per frame)")
    parser.add_argument("--no-video", action="store_true", help="write no video")
    parser.add_argument("--size", type=int, default=512, help="video width and height (pixels)")
    parser.add_argument("--device", default="cpu", help='torch device, e.g. "cpu" or "cuda"')
    parser.add_argument(
        "--edit",
        default=None,
        metavar="IN.npz",
        help="edit this SMPL motion .npz instead of generating from scratch (needs --keep)",
    )
    parser.add_argument(
        "--keep",
        default=None,
        help="with --edit: what to keep of IN.npz: lower, upper (body half), "
        "first:K or last:K (frames; the rest is generated), or e.g. first:20,last:20",
    )


# ---- validation (before any model is loaded) -----------------------------------------------


def _read_prompts(args: argparse.Namespace) -> list[str]:
    if args.prompt is not None and args.prompts is not None:
        raise ValueError("give either a PROMPT or --prompts FILE, not both")
    if args.prompts is not None:
        path = Path(args.prompts)
        if path.is_dir():
            raise IsADirectoryError(
                f"--prompts {str(path)!r} is a folder; name a UTF-8 text file with one prompt per line"
            )
        if not path.exists():
            raise FileNotFoundError(f"--prompts file not found: {str(path)!r}")
        try:
            text = path.read_bytes().decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ValueError(
                f"--prompts file {str(path)!r} is not UTF-8 text (byte {exc.start}); "
                "save it as UTF-8"
            ) from None
        prompts = [line.strip() for line in text.lstrip("\ufeff").splitlines()]
        prompts = [p for p in prompts if p and not p.startswith("#")]
        if not prompts:
            raise ValueError(
                f"--prompts file {str(path)!r} holds no prompts ({'it is empty' if not text else 'only blank and #-lines'}); "
                "write one prompt per line"
            )
        return prompts
    if args.prompt is None:
        raise ValueError(
            'no prompt: say what the body does, e.g. vhdiff motion "a person walks forward", '
            "or pass --prompts FILE"
        )
    if not args.prompt.strip():
        raise ValueError('the prompt is empty; describe the motion, e.g. "a person walks forward"')
    return [args.prompt.strip()]


@dataclass
class _Plan:
    """Validated command-line choices."""

    prompts: list[str]
    stem: Path  # output name without suffix
    video_suffix: str | None  # ".mp4", ".gif" or None (no video)
    source: SMPLMotion | None  # the --edit motion
    keep: str | None

    def names(self, count: int) -> list[Path]:
        """Output stems: NAME for one motion, NAME_000, NAME_001, ... for several."""
        if count == 1:
            return [self.stem]
        digits = max(3, len(str(count - 1)))
        return [self.stem.with_name(f"{self.stem.name}_{i:0{digits}d}") for i in range(count)]


def _check_keep(keep: str | None, source: SMPLMotion | None, edit: str | None) -> str | None:
    """The --keep spec, checked against the --edit motion (vhdiff.motion.edit.parse_keep)."""
    if edit is None:
        if keep is not None:
            raise ValueError("--keep needs --edit IN.npz (the motion whose part is kept)")
        return None
    if keep is None:
        raise ValueError(f"--edit needs --keep {KEEP_CHOICES} (what to keep of IN.npz)")
    from vhdiff.motion.edit import parse_keep

    spec = parse_keep(keep)
    frames = source.num_frames if source is not None else 0
    if spec.part is None and spec.first + spec.last >= frames:
        raise ValueError(
            f"--keep {keep} keeps {spec.first + spec.last} frames but {edit!r} has only {frames}: "
            "nothing is left to generate; keep fewer frames"
        )
    return keep.strip()


def _load_edit_source(path: str) -> SMPLMotion:
    try:
        return SMPLMotion.load(path)
    except ValueError as exc:
        raise ValueError(
            f"--edit: {exc}; --edit takes an SMPL motion .npz (as vhdiff motion writes)"
        ) from None


def _check_device(name: str) -> None:
    import torch

    try:
        device = torch.device(name)
    except RuntimeError:
        raise ValueError(f"--device {name!r} is not a torch device; use cpu or cuda") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"--device {name}: no CUDA GPU is available here; use --device cpu")


def check_sizes(args: argparse.Namespace, prompts: int) -> None:
    """The options that size the work and its memory, each within its range (one message
    form, `vhdiff.commands.options`); --length is bounded by the model when it loads, and
    --smoothing with the other generation settings (`check_settings`)."""
    check_range("--num", args.num, 1, MAX_MOTIONS, unit="motions per prompt")
    if prompts * args.num > MAX_BATCH:
        raise ValueError(
            f"{prompts} prompts x --num {args.num} = {prompts * args.num} motions, more than "
            f"{MAX_BATCH} in one call; split the prompts over several calls"
        )
    check_range("--size", args.size, 16, 4096, unit="pixels")
    check_seed("--seed", args.seed, uses=prompts if args.edit is not None else 1)


def check_outputs(plan: _Plan, exporter: MotionExporter, count: int) -> None:
    """Before any motion is made: every output of `count` motions can be put in place
    (`MotionExporter.check_outputs`) and the output folder takes a real write."""
    for stem in plan.names(count):
        exporter.check_outputs(stem)
    check_writable(plan.stem.parent)


def validate(args: argparse.Namespace) -> _Plan:
    """Check every option that needs no model; raises ValueError / FileNotFoundError."""
    prompts = _read_prompts(args)
    check_sizes(args, len(prompts))
    if args.edit is not None and args.foot_lock:
        raise ValueError("--foot-lock applies to new motions, not to --edit (it would move the kept path); drop it")
    if args.length is not None and (not np.isfinite(args.length) or args.length <= 0):
        raise ValueError(f"--length must be a positive number of seconds, got {args.length}")
    from vhdiff.motion.pipeline import MotionGeneration

    check_settings(MotionGeneration, generation_overrides(args))  # before any model loads
    _check_device(args.device)
    out = Path(args.out)
    suffix = out.suffix.lower()
    if suffix not in VIDEO_SUFFIXES + (".npz",):
        raise ValueError(
            f"--out must end in .mp4 or .gif (video + .npz beside it) or .npz (no video), "
            f"got {args.out!r}"
        )
    if out.exists() and out.is_dir():
        raise IsADirectoryError(f"--out {args.out!r} is a folder; name a file, e.g. walk.mp4")
    video = None if args.no_video or suffix == ".npz" else suffix
    if args.body == "smpl" and (video is not None or args.obj or args.glb):
        from vhdiff.body.model_files import find_model_file

        find_model_file(args.smpl_dir, "auto", "neutral")  # FileNotFoundError says where to get it
    source = None
    if args.edit is not None:
        source = _load_edit_source(args.edit)
        if args.length is not None:
            raise ValueError(
                "--length cannot be used with --edit: the edit keeps IN.npz's length "
                f"({source.duration:g} s)"
            )
    keep = _check_keep(args.keep, source, args.edit)
    if source is not None and args.sampler not in (None, "ddpm"):
        raise ValueError(
            f"--edit samples with DDPM (RePaint inpainting), not {args.sampler}; drop --sampler"
        )
    return _Plan(
        prompts=prompts,
        stem=out.with_name(out.name[: -len(out.suffix)]),
        video_suffix=video,
        source=source,
        keep=keep,
    )


# ---- the command ---------------------------------------------------------------------------


def generation_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """The options that override the model's generation settings (None: the model's)."""
    if args.edit is not None:  # RePaint: DDPM over --steps respaced steps
        return {"edit_steps": args.steps, "guidance": args.guidance, "snap": args.snap,
                "smoothing": args.smoothing}
    return {
        **sampling_overrides(args), "snap": args.snap, "smoothing": args.smoothing,
        "foot_lock": True if args.foot_lock else None, "seconds": args.length,
    }


def generate(args: argparse.Namespace, plan: _Plan) -> list[Any]:
    """Load the pipeline and make the motions (prompt-major); -> list of pipeline Motions."""
    from vhdiff.motion.pipeline import MotionPipeline

    pipe = MotionPipeline.from_pretrained(args.checkpoint, device=args.device)
    pipe.representation.require_smpl("vhdiff motion (SMPL .npz, BVH and video output)")
    overrides = generation_overrides(args)
    try:
        pipe.settings(**overrides)  # the checks that need the model (steps and interval within its T)
    except ValueError as exc:
        raise as_flag_error(exc) from None
    if plan.source is None:
        motions = pipe(plan.prompts, num_per_prompt=args.num, seed=args.seed, **overrides)
        warn_far_prompts(motions)
        return motions
    motions = []
    for i, prompt in enumerate(plan.prompts):
        seed = None if args.seed is None else args.seed + i
        motions += pipe.edit(
            plan.source, prompt, keep=plan.keep, num=args.num, seed=seed,
            steps=overrides["edit_steps"], guidance=overrides["guidance"], snap=overrides["snap"],
            smoothing=overrides["smoothing"],
        )  # fmt: skip
    warn_far_prompts(motions)
    return motions


def warn_far_prompts(motions: list[Any]) -> None:
    """One stderr line per prompt far from everything the model was trained on."""
    seen = set()
    for motion in motions:
        match = motion.prompt_match
        if match is not None and match.far and motion.prompt not in seen:
            seen.add(motion.prompt)
            print(f"vhdiff motion: warning: {match.warning()}", file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    plan = validate(args)
    exporter = MotionExporter(
        body=args.body, smpl_dir=args.smpl_dir, video=plan.video_suffix, size=args.size,
        bvh=args.bvh, obj=args.obj, bvh_skeleton=args.bvh_skeleton, glb=args.glb,
    )
    check_outputs(plan, exporter, len(plan.prompts) * args.num)
    motions = generate(args, plan)
    stems = plan.names(len(motions))
    written: list[list[Path]] = []
    try:
        with Staging() as staging:  # all outputs appear together, or none (a failure discards)
            for motion, stem in zip(motions, stems):
                written.append(exporter.export(motion.smpl, motion.prompt, stem, staging))
    except Exception as exc:
        from vhdiff.viz.gl import GLUnavailableError

        if isinstance(exc, GLUnavailableError):  # one line, like the CLI's user errors
            print(f"vhdiff motion: error: {exc}", file=sys.stderr)
            return 2
        raise
    finally:
        exporter.close()
    for motion, files in zip(motions, written):
        names = ", ".join(str(f) + ("/" if f.suffix == "" else "") for f in files)
        print(
            f"{motion.smpl.num_frames} frames at {motion.smpl.fps:g} fps ({motion.prompt!r}): {names}"
        )
    return 0
