"""Rendering speed: mannequin meshes with pyrender (EGL) and matplotlib stick figures.

Run: python benchmarks/bench_render.py [--frames 30] [--size 512]
Prints frames per second for a moving mannequin (24k vertices) rendered offscreen at
SIZE x SIZE (per-frame mesh upload included, one reused OpenGL context), its split into
mesh preparation (normals + pyrender primitive) and drawing, stick figures at the same
size, and a 2048-point cloud picture. On a CPU-only machine EGL is Mesa's llvmpipe.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import torch

os.environ.setdefault("PYOPENGL_PLATFORM", "egl")

from vhdiff.viz.mesh_renderer import MeshRenderer
from vhdiff.viz.points import render_point_cloud
from vhdiff.viz.skeleton import render_skeleton

from vhdiff.body import load_body_model


def _motion(frames: int):
    model = load_body_model(kind="mannequin")
    phase = torch.linspace(0, 2 * torch.pi, frames)
    pose = torch.zeros(frames, 21, 3)
    pose[:, 0, 0] = 0.5 * torch.sin(phase)  # hips swing
    pose[:, 1, 0] = -0.5 * torch.sin(phase)
    pose[:, 15, 2] = 0.8 * torch.sin(phase)  # arms
    pose[:, 16, 2] = -0.8 * torch.sin(phase)
    transl = torch.zeros(frames, 3)
    transl[:, 2] = torch.linspace(0, 1.5, frames)
    with torch.no_grad():
        return model(torch.zeros(frames, 3), pose, transl=transl)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=30)
    parser.add_argument("--size", type=int, default=512)
    args = parser.parse_args()
    out = _motion(args.frames)
    vertices, faces = out.vertices.numpy(), out.faces.numpy()
    print(
        f"{args.frames} frames, {args.size}x{args.size}, PYOPENGL_PLATFORM="
        f"{os.environ['PYOPENGL_PLATFORM']}, {os.cpu_count()} CPUs"
    )

    start = time.perf_counter()
    renderer = MeshRenderer(width=args.size, height=args.size)
    setup = time.perf_counter() - start
    renderer.render(vertices[:1], faces)  # warm-up (shader compilation)
    from OpenGL.GL import GL_RENDERER, glGetString

    print(f"OpenGL renderer: {glGetString(GL_RENDERER).decode()} (context set-up {setup:.2f} s)")
    for name, kwargs in (("mannequin mesh, fixed camera", {}), ("+ shadows", {"shadows": True})):
        renderer.shadows = bool(kwargs.get("shadows"))
        start = time.perf_counter()
        renderer.render(vertices, faces)
        seconds = time.perf_counter() - start
        print(
            f"{name:<34}{args.frames / seconds:8.2f} frames/s  ({1000 * seconds / args.frames:.0f} ms/frame)"
        )
    renderer.shadows = False
    start = time.perf_counter()
    for t in range(args.frames):
        renderer._body_mesh(vertices[t], faces.astype(np.int32), None)
    prep = (time.perf_counter() - start) / args.frames
    print(f"{'  of which mesh preparation':<34}{'':8}  ({1000 * prep:.0f} ms/frame)")
    start = time.perf_counter()
    renderer.render([vertices, vertices], faces)
    seconds = time.perf_counter() - start
    print(f"{'two mannequins side by side':<34}{args.frames / seconds:8.2f} frames/s")
    renderer.close()

    joints = out.joints.numpy()
    start = time.perf_counter()
    render_skeleton(joints, size=args.size)
    seconds = time.perf_counter() - start
    print(
        f"{'stick figure (matplotlib Agg)':<34}{args.frames / seconds:8.2f} frames/s  ({1000 * seconds / args.frames:.0f} ms/frame)"
    )

    cloud = vertices[0][np.random.default_rng(0).choice(len(vertices[0]), 2048, replace=False)]
    render_point_cloud(cloud, size=256)
    start = time.perf_counter()
    for _ in range(10):
        render_point_cloud(cloud, size=256)
    seconds = (time.perf_counter() - start) / 10
    print(
        f"{'point cloud 2048 pts, 256x256':<34}{1 / seconds:8.2f} images/s  ({1000 * seconds:.0f} ms/image)"
    )


if __name__ == "__main__":
    main()
