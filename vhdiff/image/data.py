"""Image folders for training: any folder of PNG / JPEG / WebP images, or a prepared set.

Two layouts are read:

- a plain folder: every image below `root` (recursively; .png .jpg .jpeg .webp, any case),
  its caption in a same-name ``.txt`` beside it (``cats/a.png`` -> ``cats/a.txt``);
- the layout `vhdiff prep human-images` writes: ``root/images/ID.png``, captions in
  ``root/texts/ID.txt`` and the split files ``root/train.txt`` / ``val.txt`` / ``test.txt``
  (one ID a line). With ``split`` the IDs of that split file are read; without it, every
  image under ``root/images``.

Each item is ``{"x": float32 [3, size, size], "text": str}``: the image resized (its
shorter side to `size`, antialiased) and centre-cropped to `size` x `size`, as 8-bit RGB
scaled to [-1, 1] with ``x = 2 k / 255 - 1`` for the integer k in 0..255, so the VLB's
discretized decoder applies; ``text`` is the caption's first line ("" without one).

Every mode becomes 8-bit RGB (`to_rgb8`): L, 1, P, CMYK, YCbCr convert; alpha (LA, RGBA,
P with transparency) is laid over white; 16-bit images (grey I;16* / I, 16-bit RGB PNGs)
keep their top 8 bits (v >> 8).

Files that are not images (another extension; ``.txt`` captions are not counted) and image
files that cannot be decoded are skipped at construction and counted: `skipped` and
`skipped_by_reason` ({"not_image": n, "corrupt": n}), `skipped_paths` lists them.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import Dataset

__all__ = [
    "IMAGE_CONDITIONS",
    "IMAGE_EXTENSIONS",
    "SPLITS",
    "ImageFolder",
    "check_image_condition",
    "collate_fn",
    "from_unit",
    "held_out_images",
    "load_rgb8",
    "pil",
    "resize_center_crop",
    "to_rgb8",
    "to_unit",
]

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp")
SPLITS = ("train", "val", "test")
IMAGE_CONDITIONS = ("none", "text")  # what an image model is conditioned on
CAPTION_SUFFIX = ".txt"
SKIP_REASONS = ("not_image", "corrupt")
# what Pillow raises for a broken or truncated file (UnidentifiedImageError is an OSError)
BROKEN_IMAGE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, struct.error)
Scan = Literal["decode", "header"]


def pil(module: str = "Image") -> Any:
    """PIL's `module` (Image, ImageOps, ...), or a one-line error naming the extra to install."""
    from vhdiff.extras import require

    return require(f"PIL.{module}", needed_for="reading and writing images")


def to_rgb8(image: Any) -> Any:
    """A PIL image of any mode -> 8-bit "RGB" (module docstring: alpha over white, 16-bit
    values v -> v >> 8)."""
    Image = pil()

    mode = image.mode
    if (
        mode.startswith("I") or mode == "F"
    ):  # 16-bit grey (I;16*, and I as Pillow reads 16-bit PNGs)
        values = np.asarray(image, dtype=np.float64)
        if mode == "F":  # float grey: taken as 0..255
            grey = np.clip(np.rint(values), 0, 255)
        else:  # the top 8 bits, as Pillow reads 16-bit RGB PNGs
            grey = np.clip(values, 0, 65535).astype(np.int64) >> 8
        return Image.fromarray(grey.astype(np.uint8), mode="L").convert("RGB")
    if mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    elif mode in ("LA", "La", "PA", "RGBa"):
        image = image.convert("RGBA")
    if image.mode == "RGBA":
        white = Image.new("RGBA", image.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, image).convert("RGB")
    return image.convert("RGB") if image.mode != "RGB" else image


def load_rgb8(path: str | os.PathLike) -> Any:
    """Open an image file as an 8-bit "RGB" PIL image (EXIF orientation applied, `to_rgb8`).
    Raises OSError (PIL's UnidentifiedImageError is one) for a file that is not a decodable image."""
    Image, ImageOps = pil(), pil("ImageOps")

    with Image.open(path) as image:
        image.load()
        return to_rgb8(ImageOps.exif_transpose(image))


def resize_center_crop(image: Any, size: int, *, resample: str = "bicubic") -> Any:
    """Resize a PIL image so its shorter side is `size` (bicubic, antialiased when it
    shrinks; resample="nearest" for masks), then crop the centre `size` x `size` (the
    extra columns or rows split evenly, the odd one on the right / bottom)."""
    Image = pil()

    width, height = image.size
    scale = size / min(width, height)
    new = (max(size, round(width * scale)), max(size, round(height * scale)))
    if new != (width, height):
        method = Image.Resampling.NEAREST if resample == "nearest" else Image.Resampling.BICUBIC
        image = image.resize(new, method, reducing_gap=None)
    left, top = (new[0] - size) // 2, (new[1] - size) // 2
    return image.crop((left, top, left + size, top + size))


def _check_image(path: Path, scan: Scan) -> bool:
    """Whether `path` decodes (scan "decode") or has a valid image header ("header")."""
    Image = pil()

    try:
        if scan == "decode":
            load_rgb8(path)
        else:
            with Image.open(path) as image:
                image.verify()
    except BROKEN_IMAGE_ERRORS:
        return False
    return True


def _read_split(path: Path) -> list[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip()]


def check_image_condition(condition: str) -> str:
    """`condition` if it is one of IMAGE_CONDITIONS, else a ValueError listing them."""
    if condition not in IMAGE_CONDITIONS:
        raise ValueError(f"unknown image condition {condition!r}; choose one of {', '.join(IMAGE_CONDITIONS)}")
    return condition


def to_unit(images: np.ndarray) -> Tensor:
    """uint8 [B, H, W, 3] -> float32 [B, 3, H, W] in [-1, 1] (x = 2 k / 255 - 1)."""
    return torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float() * (2.0 / 255.0) - 1.0


def from_unit(x: Tensor) -> np.ndarray:
    """float [B, 3, H, W] in [-1, 1] -> uint8 [B, H, W, 3] (the nearest 8-bit level)."""
    levels = ((x.detach().float().cpu().clamp(-1.0, 1.0) + 1.0) * 127.5).round()
    return levels.to(torch.uint8).permute(0, 2, 3, 1).numpy()


class ImageFolder(Dataset):
    """Images of a folder as training items (module docstring).

    Args:
        root: a folder of images (recursive), or a prepared set (``root/images``).
        size: output side in pixels (square).
        split: "train", "val", "test" (the prepared layout's split files) or a path to a
            split file of IDs (relative paths under ``root/images`` without suffix, or under
            root for a plain folder); None: every image.
        captions: read captions (False: every "text" is "").
        scan: "decode" decodes every file once at construction (broken files are found
            and skipped there); "header" only checks headers (faster on large folders; a
            file that fails to decode later raises ValueError naming it).

    Attributes: files (the images, sorted), ids (their names relative to the image folder,
    without suffix), skipped, skipped_by_reason, skipped_paths.
    """

    def __init__(
        self,
        *,
        root: str | os.PathLike,
        size: int,
        split: str | os.PathLike | None = None,
        captions: bool = True,
        scan: Scan = "decode",
    ) -> None:
        if not isinstance(size, int) or isinstance(size, bool) or size < 1:
            raise ValueError(f"size must be a positive number of pixels, got {size!r}")
        if scan not in ("decode", "header"):
            raise ValueError(f"scan must be 'decode' or 'header', got {scan!r}")
        self.root = Path(root)
        if not self.root.is_dir():
            raise FileNotFoundError(
                f"image folder {str(self.root)!r} does not exist; check the path, or build the "
                f"built-in set there with `vhdiff prep human-images {self.root}` (or data.params.build=true)"
            )
        self.size, self.captions, self.scan = size, captions, scan
        prepared = (self.root / "images").is_dir()
        self.image_root = self.root / "images" if prepared else self.root
        self.caption_root = self.root / "texts" if prepared else None
        self.skipped_paths: dict[str, list[Path]] = {reason: [] for reason in SKIP_REASONS}
        candidates = self._listing() if split is None else self._split_files(split)
        self.files: list[Path] = []
        for path in candidates:
            if _check_image(path, scan):
                self.files.append(path)
            else:
                self.skipped_paths["corrupt"].append(path)
        if not self.files:
            raise ValueError(
                f"no readable images in {str(self.image_root)!r} ({self._skipped_text()}); "
                f"add {' / '.join(IMAGE_EXTENSIONS)} files or check the folder"
            )
        self.ids = [str(p.relative_to(self.image_root).with_suffix("")) for p in self.files]

    def _listing(self) -> list[Path]:
        """Every image file below the image folder, sorted; other files counted as skipped."""
        files = []
        for path in sorted(self.image_root.rglob("*")):
            if not path.is_file() or any(
                part.startswith(".") for part in path.relative_to(self.root).parts
            ):
                continue  # hidden files and folders (a partial write, .DS_Store) are not data
            suffix = path.suffix.lower()
            if suffix in IMAGE_EXTENSIONS:
                files.append(path)
            elif suffix != CAPTION_SUFFIX:
                self.skipped_paths["not_image"].append(path)
        return files

    def _split_files(self, split: str | os.PathLike) -> list[Path]:
        """The image files of a split file's IDs (each ID's first existing extension)."""
        name = str(split)
        file = self.root / f"{name}.txt" if name in SPLITS else Path(split)
        if not file.is_file():
            raise FileNotFoundError(
                f"split file {str(file)!r} does not exist; pass split=None (every image), one "
                f"of {', '.join(SPLITS)} for a prepared set, or the path of a file of IDs"
            )
        files = []
        for image_id in _read_split(file):
            found = [self.image_root / f"{image_id}{ext}" for ext in IMAGE_EXTENSIONS]
            found = [path for path in found if path.is_file()]
            if not found:
                raise FileNotFoundError(
                    f"split file {str(file)!r} lists {image_id!r}, but there is no image "
                    f"{image_id}.png (or .jpg / .webp) in {str(self.image_root)!r}; rebuild the set"
                )
            files.append(found[0])
        return files

    # ---- what was skipped -------------------------------------------------------------------

    @property
    def skipped_by_reason(self) -> dict[str, int]:
        return {reason: len(paths) for reason, paths in self.skipped_paths.items()}

    @property
    def skipped(self) -> int:
        return sum(self.skipped_by_reason.values())

    def _skipped_text(self) -> str:
        counts = ", ".join(
            f"{n} {reason.replace('_', '-')}" for reason, n in self.skipped_by_reason.items()
        )
        return f"skipped {self.skipped}: {counts}"

    # ---- items ----------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.files)

    def caption(self, index: int) -> str:
        """The first non-empty line of image `index`'s caption file ("" without one)."""
        if not self.captions:
            return ""
        path = self.files[index]
        places = [path.with_suffix(CAPTION_SUFFIX)]
        if self.caption_root is not None:
            places.insert(0, self.caption_root / f"{self.ids[index]}{CAPTION_SUFFIX}")
        for place in places:
            if place.is_file():
                lines = [line.strip() for line in place.read_text(encoding="utf-8").splitlines()]
                return next((line for line in lines if line), "")
        return ""

    def pixels(self, index: int) -> np.ndarray:
        """Image `index` resized and cropped: uint8 [size, size, 3]."""
        path = self.files[index]
        try:
            image = load_rgb8(path)
        except BROKEN_IMAGE_ERRORS as exc:
            raise ValueError(
                f"image {str(path)!r} cannot be decoded ({exc}); remove it or use scan='decode', "
                "which skips broken files"
            ) from exc
        return np.asarray(resize_center_crop(image, self.size), dtype=np.uint8)

    def __getitem__(self, index: int) -> dict[str, Any]:
        return {"x": to_unit(self.pixels(index)[None])[0], "text": self.caption(index)}


def collate_fn(items: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """A batch of ImageFolder items: {"x": float32 [B, 3, H, W], "text": list of B strings}."""
    if not items:
        raise ValueError("cannot collate an empty batch; use a batch size of at least 1")
    return {
        "x": torch.stack([item["x"] for item in items]),
        "text": [item["text"] for item in items],
    }


def held_out_images(root: str | os.PathLike, split: str, num: int, *, seed: int) -> tuple[list[str], np.ndarray, list[str]]:
    """(ids, uint8 [n, S, S, 3], captions) of `num` images of `split` (n = min(num, split
    size)), a seeded random subset in a fixed order."""
    import json

    root = Path(root)
    info_path = root / "dataset.json"
    if not info_path.is_file():
        raise FileNotFoundError(f"{str(root)!r} is not an image set (no dataset.json); make one with `vhdiff prep human-images`")
    size = int(json.loads(info_path.read_text(encoding="utf-8"))["size"])
    folder = ImageFolder(root=root, size=size, split=split, scan="header")
    rng = np.random.default_rng(seed)
    rows = np.sort(rng.permutation(len(folder))[: min(num, len(folder))])
    pixels = np.stack([folder.pixels(int(i)) for i in rows])
    return [folder.ids[int(i)] for i in rows], pixels, [folder.caption(int(i)) for i in rows]
