"""The image part of the main job (`vhdiff demo`): samples, an SDEdit edit, an inpainting, the strip.

    from vhdiff.image.demo import run_image_demo
    section = run_image_demo(Path("outputs/demo/images"))   # bundled 32x32 model, CPU: ~10 s

Writes into `out`: image_000.png ... (DEMO_IMAGES samples, DEMO_PROMPTS in turn, at the
model's size) and grid.png (all of them, enlarged); edit_source.png / edit_sdedit.png (the
first sample noised to EDIT_STRENGTH and denoised with EDIT_PROMPT: the layout stays, the
pose follows the prompt); inpaint_mask.png / inpaint.png (the first sample's upper half
repainted, the lower half kept exactly); intermediates.png (x_T, x_750, x_500, x_250, x_0
with the x_0 estimates below, as `vhdiff image --intermediates`). Pictures shown on the
demo page are enlarged PAGE_SCALE times (nearest), the files at the model's size are linked.
Returns the demo page's section (vhdiff.viz.demo_page.DemoSection).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["DEMO_IMAGES", "DEMO_PROMPTS", "EDIT_PROMPT", "EDIT_STRENGTH", "run_image_demo"]

DEMO_PROMPTS = (
    "a person raising both arms, seen from the front, red shirt, blue trousers, black shoes",
    "a person squatting, seen from the front, green shirt, black trousers, white shoes",
    "a person sitting, seen from the left, yellow shirt, blue trousers, black shoes",
    "a person walking, seen from the right, blue shirt, grey trousers, brown shoes",
)
DEMO_IMAGES = 16  # DEMO_PROMPTS in turn: image k has prompt k % len(DEMO_PROMPTS)
EDIT_PROMPT = "a person squatting, seen from the front, red shirt, blue trousers, black shoes"
EDIT_STRENGTH = 0.5
PAGE_SCALE = 4  # pixels per model pixel in the pictures on the page


def upper_half_mask(height: int, width: int) -> np.ndarray:
    """uint8 [H, W]: white (repaint) over the upper half, black (keep) below."""
    mask = np.zeros((height, width), dtype=np.uint8)
    mask[: height // 2] = 255
    return mask


def run_image_demo(out: Path, *, seed: int = 0, checkpoint: str | None = None) -> Any:
    """Sample, edit and inpaint into `out` (see the module docstring); the page's section."""
    from vhdiff.image.pictures import enlarged, intermediate_strip
    from vhdiff.image.pipeline import ImagePipeline
    from vhdiff.pipelines.generation import STRIP_TIMESTEPS
    from vhdiff.viz.demo_page import DemoItem, DemoSection
    from vhdiff.viz.grid import image_grid
    from vhdiff.viz.writers import write_image

    timings: dict[str, float] = {}
    last = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal last
        now = time.perf_counter()
        timings[name], last = now - last, now

    out = Path(out).resolve()
    pipe = ImagePipeline.from_pretrained(checkpoint)
    lap("load the model")
    prompts = [DEMO_PROMPTS[k % len(DEMO_PROMPTS)] for k in range(DEMO_IMAGES)]
    result = pipe(DEMO_IMAGES, prompt=prompts, seed=seed, intermediates=STRIP_TIMESTEPS)
    lap(f"sample {DEMO_IMAGES} images (one batch, with the strip's x_t)")
    names = [write_image(out / f"image_{k:03d}.png", image).name for k, image in enumerate(result.images)]
    write_image(out / "grid.png", enlarged(image_grid(result.images, ncols=len(DEMO_PROMPTS)), PAGE_SCALE))
    write_image(out / "intermediates.png", intermediate_strip(result))
    source = result.images[0]
    edit = pipe.edit(source, prompt=EDIT_PROMPT, strength=EDIT_STRENGTH, seed=seed)
    lap("SDEdit edit")
    mask = upper_half_mask(*source.shape[:2])
    fill = pipe.inpaint(source, mask, prompt=DEMO_PROMPTS[0], seed=seed)
    lap("inpainting")
    write_image(out / "edit_source.png", source)
    write_image(out / "edit_sdedit.png", edit.image)
    write_image(out / "inpaint_mask.png", mask)
    write_image(out / "inpaint.png", fill.image)
    pair = image_grid([source, edit.image, np.repeat(mask[..., None], 3, axis=2), fill.image], ncols=4)
    write_image(out / "edits.png", enlarged(pair, PAGE_SCALE))
    lap("write the pictures")
    settings = {**pipe.settings().to_dict(), "seed": seed, "size": int(source.shape[0])}
    items = [
        DemoItem(title=f"{DEMO_IMAGES} samples", text=" / ".join(f"column {k + 1}: {p}" for k, p in enumerate(DEMO_PROMPTS)),
                 media=[f"{out}/grid.png"], downloads=[f"{out}/{n}" for n in names], settings=settings, pixelated=True),
        DemoItem(title="SDEdit, inpainting",
                 text=f"left to right: sample 1; SDEdit at strength {EDIT_STRENGTH} with '{EDIT_PROMPT}' "
                      f"(mean change {edit.distance:.3f}); the mask (white = repaint); the upper half repainted, "
                      f"the lower half kept (largest change of a kept pixel: {_kept_change(source, fill.image, mask)})",
                 media=[f"{out}/edits.png"],
                 downloads=[f"{out}/{n}" for n in ("edit_source.png", "edit_sdedit.png", "inpaint_mask.png", "inpaint.png")],
                 pixelated=True),
        DemoItem(title="x_T to x_0", text="x_T, x_750, x_500, x_250, x_0 of the first samples (below each row: the "
                 "model's x_0 estimate at that step)", media=[f"{out}/intermediates.png"], wide=True, pixelated=True),
    ]
    return DemoSection(title="Human images", intro="The bundled text-to-image model (rendered humans, "
                       f"{source.shape[0]}x{source.shape[1]}), drawn {PAGE_SCALE} times larger.",
                       items=items, timings=timings)


def _kept_change(source: np.ndarray, image: np.ndarray, mask: np.ndarray) -> int:
    """The largest change (8-bit levels) of any pixel the mask keeps (black)."""
    kept = mask < 128
    return int(np.abs(image.astype(int) - source.astype(int))[kept].max())
