"""The image tab: sample images, and edit an uploaded one (SDEdit, or inpainting with a mask).

    tab = ImageTab(state=state)
    gallery, files, status = tab.generate("a person walking, seen from the front", 4, 0)
    picture, files, status = tab.edit("me.png", "a person squatting", 0.5)          # SDEdit
    picture, files, status = tab.edit("me.png", "", 0.5, "mask.png")                # inpainting

Each answer is one request folder: image_1.png ... at the model's size (the downloads) and
view_image_1.png ... enlarged `vhdiff.image.demo.PAGE_SCALE` times (nearest) for the page;
an edit writes edited.png (and view_edited.png), source.png (the input as the model took
it: resized when its sides do not suit the model) and, with a mask, mask.png. Uploads are
checked before the request waits for the worker (an image that cannot be read, a mask that
is not black and white or not of the image's size: a message).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vhdiff.app.common import (
    Answer,
    AppState,
    BatchRequest,
    Timings,
    check_prompt,
    check_seed,
    optional,
    optional_count,
    optional_number,
    report,
    sample,
    uploaded_file,
)

__all__ = ["DEFAULT_IMAGES", "EXAMPLE", "IMAGE_SUFFIXES", "MAX_IMAGES", "MAX_STEPS", "ImageTab"]

DEFAULT_IMAGES = 4
MAX_IMAGES = 16  # images per request
MAX_STEPS = 1000
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif", ".tif", ".tiff")
EXAMPLE = "a person walking, seen from the front, blue shirt, grey trousers"


def _write(folder: Path, name: str, image: Any) -> tuple[Path, Path]:
    """NAME.png at the model's size and view_NAME.png enlarged for the page."""
    from vhdiff.image.demo import PAGE_SCALE
    from vhdiff.image.pictures import enlarged
    from vhdiff.viz.writers import write_image

    small = write_image(folder / f"{name}.png", image)
    return small, write_image(folder / f"view_{name}.png", enlarged(image, PAGE_SCALE))


class ImageTab:
    """The image tab's handlers. Args (keyword-only): state: the app's AppState."""

    def __init__(self, *, state: AppState) -> None:
        self.state = state

    def generate(
        self,
        prompt: str | None = None,
        num: int = DEFAULT_IMAGES,
        seed: int | None = None,
        steps: int | None = None,
        guidance: float | None = None,
        progress: Any = None,
    ) -> tuple[Any, ...]:
        """`num` images of the prompt (blank: unconditional) -> (gallery, files, status)."""
        from vhdiff.image.pipeline import ImageGeneration

        timings = Timings()
        overrides = {
            "steps": optional_count("steps", steps, 1, MAX_STEPS),
            "guidance": optional_number(guidance),
        }
        ImageGeneration().replace(**overrides)  # a bad guidance: named, with its range
        request = BatchRequest.checked(
            prompt, num, seed, overrides, noun="images", most=MAX_IMAGES, example=EXAMPLE
        )
        report(progress, 0.0, "waiting for the model")
        return self.state.worker.run(self._generate, request, timings, progress).outputs()

    def edit(
        self,
        image: Any,
        prompt: str | None = None,
        strength: float = 0.5,
        mask: Any = None,
        seed: int | None = None,
        progress: Any = None,
    ) -> tuple[Any, ...]:
        """Edit an uploaded image -> (picture, files, status): with a mask (white = repaint,
        black = keep; the image's size) inpainting, else SDEdit at `strength` in (0, 1]."""
        from vhdiff.image.pipeline import open_image, read_mask
        from vhdiff.pipelines.generation import check_number

        timings = Timings()
        source = uploaded_file(image, what="image", suffixes=IMAGE_SUFFIXES)
        width, height = open_image(source).size  # a file that is not an image: the message says so
        repaint = None
        if optional(getattr(mask, "path", mask)) is not None:
            repaint = uploaded_file(mask, what="mask image", suffixes=IMAGE_SUFFIXES)
            read_mask(repaint, like=(height, width))  # black and white, the image's size
        prompt = check_prompt(prompt, example=EXAMPLE, required=False)
        strength = check_number(
            "strength", strength, lo=0.01, hi=1.0, hint="0.3 keeps the layout, 1 is a new image"
        )
        seed = check_seed(seed)
        report(progress, 0.0, "waiting for the model")
        answer = self.state.worker.run(
            self._edit, source, repaint, prompt, strength, seed, timings, progress
        )
        return answer.outputs()

    # ---- on the worker ---------------------------------------------------------------------

    def _generate(self, request: BatchRequest, timings: Timings, progress: Any) -> Answer:
        from vhdiff.image.demo import PAGE_SCALE

        done = request.sample(self.state, "image", timings, progress)
        images, config = done.result.images, done.config
        folder = self.state.workspace.request_folder("image")
        written = [_write(folder, f"image_{k + 1}", image) for k, image in enumerate(images)]
        timings.lap("PNG")
        status = (
            f"{request.title}: {len(images)} images of {images.shape[2]}x{images.shape[1]} (shown {PAGE_SCALE} "
            f"times larger), seed {done.result.seed}, {config.sampler} {config.resolved_steps} steps, guidance "
            f"{config.guidance:g}  \n{timings.summary()}"
        )
        views, pngs = [str(view) for _, view in written], [str(png) for png, _ in written]
        return Answer(shown=views, model3d=None, files=pngs, status=status)

    def _edit(
        self,
        source: Path,
        mask: Path | None,
        prompt: str | None,
        strength: float,
        seed: int | None,
        timings: Timings,
        progress: Any,
    ) -> Answer:
        from vhdiff.viz.writers import write_image

        if mask is not None:
            done = sample(
                self.state,
                "image",
                lambda pipe: pipe.inpaint(source, mask, prompt=prompt, seed=seed),
                overrides={},
                timings=timings,
                progress=progress,
                describe=lambda _: "inpainting the white part of the mask",
            )
            how = f"inpainted {int(done.result.mask.sum())} masked pixels"
        else:
            done = sample(
                self.state,
                "image",
                lambda pipe: pipe.edit(source, prompt=prompt, strength=strength, seed=seed),
                overrides={},
                timings=timings,
                progress=progress,
                describe=lambda _: f"SDEdit at strength {strength:g}",
            )
            how = f"SDEdit at strength {strength:g} (mean change {done.result.distance:.3f})"
        result = done.result
        folder = self.state.workspace.request_folder("image-edit")
        edited, view = _write(folder, "edited", result.image)
        files = [edited, write_image(folder / "source.png", result.source)]
        if result.mask is not None:
            files.append(write_image(folder / "mask.png", result.mask.astype("uint8") * 255))
        timings.lap("PNG")
        what = f"**{prompt}**" if prompt else "**no prompt**"
        notes = "".join(f"  \nnote: {note}" for note in result.notes)
        status = f"{what}: {how}, seed {result.seed}{notes}  \n{timings.summary()}"
        return Answer(shown=str(view), model3d=None, files=[str(f) for f in files], status=status)
