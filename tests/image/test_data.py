"""ImageFolder: geometry of resize + centre crop, captions, the 8-bit grid, every mode
converted, broken and foreign files skipped and counted, both layouts."""

from __future__ import annotations

import struct
import zlib

import numpy as np
import pytest
import torch
from PIL import Image

from vhdiff.image.data import ImageFolder, collate_fn, resize_center_crop, to_rgb8

SIZE = 8


def _save(path, array, **options):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path, **options)
    return path


def _png_rgb16(path, values):
    """A real 16-bit-per-channel RGB PNG (Pillow writes none): values uint16 [H, W, 3]."""
    height, width, _ = values.shape
    rows = b"".join(b"\0" + values[r].astype(">u2").tobytes() for r in range(height))

    def chunk(kind, data):
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 16, 2, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )
    return path


def _bytes_of(x):
    """[3, H, W] in [-1, 1] -> the integers k of x = 2 k / 255 - 1, uint8 [H, W, 3]."""
    k = (x.numpy() + 1.0) * 127.5
    assert np.abs(k - np.rint(k)).max() < 1e-4  # on the 8-bit grid
    return np.rint(k).astype(np.uint8).transpose(1, 2, 0)


def test_resize_then_centre_crop_keeps_the_middle(tmp_path):
    bands = np.zeros((16, 64, 3), np.uint8)
    colours = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0)]  # four bands 16 wide
    for i, colour in enumerate(colours):
        bands[:, 16 * i : 16 * (i + 1)] = colour
    _save(tmp_path / "wide.png", bands)
    item = ImageFolder(root=tmp_path, size=SIZE)[0]
    assert item["x"].shape == (3, SIZE, SIZE) and item["x"].dtype == torch.float32
    pixels = _bytes_of(item["x"]).astype(int)
    # 64x16 -> 32x8, crop columns 12..20: the green band then the blue band, no red or yellow
    np.testing.assert_allclose(pixels[:, 1], np.tile((0, 255, 0), (SIZE, 1)), atol=40)
    np.testing.assert_allclose(pixels[:, -2], np.tile((0, 0, 255), (SIZE, 1)), atol=40)
    assert pixels[..., 0].max() < 60  # red only appears in the outer bands
    tall = resize_center_crop(Image.fromarray(bands.transpose(1, 0, 2).copy()), SIZE)
    assert tall.size == (SIZE, SIZE)


def test_items_are_on_the_8bit_grid_in_minus_one_to_one(tmp_path):
    values = np.arange(SIZE * SIZE * 3, dtype=np.uint8).reshape(SIZE, SIZE, 3) * 3
    _save(tmp_path / "ramp.png", values)
    x = ImageFolder(root=tmp_path, size=SIZE)[0]["x"]
    assert -1.0 <= float(x.min()) and float(x.max()) <= 1.0
    np.testing.assert_array_equal(_bytes_of(x), values)  # no resize: exactly the file's bytes
    np.testing.assert_allclose(x.numpy(), values.transpose(2, 0, 1) * (2 / 255) - 1, atol=1e-6)


def test_captions_beside_the_images_and_off(tmp_path):
    _save(tmp_path / "a.png", np.zeros((SIZE, SIZE, 3), np.uint8))
    _save(tmp_path / "b.jpg", np.zeros((SIZE, SIZE, 3), np.uint8))
    (tmp_path / "a.txt").write_text("\n  a red shirt  \nsecond line\n")
    data = ImageFolder(root=tmp_path, size=SIZE)
    assert [item["text"] for item in data] == ["a red shirt", ""]
    assert [item["text"] for item in ImageFolder(root=tmp_path, size=SIZE, captions=False)] == [
        "",
        "",
    ]
    assert data.skipped == 0  # a caption file is not a skipped file


MODES = {
    "L": lambda: (np.full((SIZE, SIZE), 100, np.uint8), "L", (100, 100, 100)),
    "LA": lambda: (
        np.dstack([np.full((SIZE, SIZE), 0, np.uint8), np.full((SIZE, SIZE), 0, np.uint8)]),
        "LA",
        (255, 255, 255),
    ),
    "RGBA opaque": lambda: (
        np.full((SIZE, SIZE, 4), (10, 20, 30, 255), np.uint8),
        "RGBA",
        (10, 20, 30),
    ),
    "RGBA half": lambda: (
        np.full((SIZE, SIZE, 4), (0, 0, 0, 128), np.uint8),
        "RGBA",
        (127, 127, 127),
    ),
    "I;16": lambda: (np.full((SIZE, SIZE), 51400, np.uint16), "I;16", (200, 200, 200)),
}


@pytest.mark.parametrize("name", list(MODES))
def test_every_mode_becomes_rgb8(tmp_path, name):
    array, mode, expected = MODES[name]()
    path = _save(tmp_path / "image.png", array)
    assert Image.open(path).mode.startswith(mode[0])  # the file holds that mode, not RGB
    x = ImageFolder(root=tmp_path, size=SIZE)[0]["x"]
    np.testing.assert_allclose(
        _bytes_of(x).reshape(-1, 3), np.tile(expected, (SIZE * SIZE, 1)), atol=1
    )


def test_palette_and_16bit_rgb_pngs(tmp_path):
    colours = np.full((SIZE, SIZE, 3), (200, 30, 60), np.uint8)
    colours[0, 1] = (0, 0, 0)
    palette = Image.fromarray(colours).convert("P", palette=Image.Palette.ADAPTIVE, colors=4)
    black = palette.getpixel((1, 0))
    palette.save(tmp_path / "p.png", transparency=black)  # the black pixel is transparent
    _png_rgb16(tmp_path / "deep.png", np.full((SIZE, SIZE, 3), (65535, 32896, 256), np.uint16))
    data = ImageFolder(root=tmp_path, size=SIZE)
    assert [Image.open(f).mode for f in data.files] == [
        "RGB",
        "P",
    ]  # Pillow reads 16-bit RGB as RGB
    deep, pal = (_bytes_of(item["x"]) for item in data)  # sorted: deep.png, p.png
    np.testing.assert_array_equal(deep[0, 0], (255, 128, 1))  # the top 8 bits
    np.testing.assert_array_equal(pal[0, 0], (200, 30, 60))
    np.testing.assert_array_equal(pal[0, 1], (255, 255, 255))  # transparent: white
    assert to_rgb8(Image.new("I", (2, 2), 65535)).getpixel((0, 0)) == (255, 255, 255)


def test_broken_and_foreign_files_are_skipped_and_counted(tmp_path):
    _save(tmp_path / "good.png", np.zeros((SIZE, SIZE, 3), np.uint8))
    _save(tmp_path / "sub" / "good.webp", np.zeros((SIZE, SIZE, 3), np.uint8), lossless=True)
    (tmp_path / "junk.png").write_bytes(b"not an image at all")
    whole = (tmp_path / "good.png").read_bytes()
    (tmp_path / "cut.png").write_bytes(whole[: len(whole) // 2])  # truncated
    (tmp_path / "notes.json").write_text("{}")
    (tmp_path / "model.bin").write_bytes(b"\0" * 10)
    data = ImageFolder(root=tmp_path, size=SIZE)
    assert len(data) == 2 and data.ids == ["good", "sub/good"]  # recursive, sorted
    assert data.skipped_by_reason == {"not_image": 2, "corrupt": 2}
    assert data.skipped == 4
    assert sorted(p.name for p in data.skipped_paths["corrupt"]) == ["cut.png", "junk.png"]
    header_only = ImageFolder(root=tmp_path, size=SIZE, scan="header")
    assert header_only.skipped_by_reason["corrupt"] >= 1  # the junk file has no image header


def test_prepared_layout_splits_and_texts(tmp_path):
    for i in range(4):
        _save(tmp_path / "images" / f"{i:06d}.png", np.full((SIZE, SIZE, 3), 40 * i, np.uint8))
        (tmp_path / "texts").mkdir(exist_ok=True)
        (tmp_path / "texts" / f"{i:06d}.txt").write_text(f"caption {i}\n")
    (tmp_path / "train.txt").write_text("000000\n000002\n")
    (tmp_path / "val.txt").write_text("000003\n")
    train = ImageFolder(root=tmp_path, size=SIZE, split="train")
    assert train.ids == ["000000", "000002"]
    assert [item["text"] for item in train] == ["caption 0", "caption 2"]
    assert len(ImageFolder(root=tmp_path, size=SIZE)) == 4
    batch = collate_fn([train[0], train[1]])
    assert batch["x"].shape == (2, 3, SIZE, SIZE) and batch["text"] == ["caption 0", "caption 2"]
    with pytest.raises(FileNotFoundError, match="test.txt"):
        ImageFolder(root=tmp_path, size=SIZE, split="test")
    (tmp_path / "val.txt").write_text("000009\n")
    with pytest.raises(FileNotFoundError, match="000009"):
        ImageFolder(root=tmp_path, size=SIZE, split="val")


def test_bad_arguments_are_one_line_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist.*vhdiff prep human-images"):
        ImageFolder(root=tmp_path / "missing", size=SIZE)
    with pytest.raises(ValueError, match="size must be a positive"):
        ImageFolder(root=tmp_path, size=0)
    (tmp_path / "x.json").write_text("{}")
    with pytest.raises(ValueError, match="no readable images.*skipped 1"):
        ImageFolder(root=tmp_path, size=SIZE)
