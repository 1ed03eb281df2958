"""The demo page: one self-contained HTML file whose pictures, videos and links are relative
to it, escaped, and only for files that exist."""

import re

import pytest
from vhdiff.viz.demo_page import DemoItem, DemoSection, write_demo_page


def test_page_links_every_file_relative_to_itself_and_escapes_text(tmp_path):
    (tmp_path / "clips").mkdir()
    for name in ("clips/walk.mp4", "clips/walk.npz", "grid one.png"):
        (tmp_path / name).write_bytes(b"x")
    section = DemoSection(
        title="Motion <1>", intro="a & b",
        items=[DemoItem(title="walk", text='a person "walks" <forward>', media=[str(tmp_path / "clips/walk.mp4")],
                        downloads=["clips/walk.npz"], settings={"steps": 20}),
               DemoItem(title="grid", media=["grid one.png"], pixelated=True, wide=True)],
        timings={"sample": 1.25, "render": 2.0},
    )
    page = write_demo_page(tmp_path / "index.html", [section], title="demo").read_text()
    links = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert links == ["clips/walk.mp4", "clips/walk.mp4", "clips/walk.npz", "grid%20one.png"]
    assert "&lt;forward&gt;" in page and "<forward>" not in page and "Motion &lt;1&gt;" in page
    assert "<video" in page and 'class="pixels"' in page and "3.2 s" in page  # the total of the timings
    assert "http" not in page and "<script" not in page


def test_page_refuses_missing_files_and_unknown_media(tmp_path):
    missing = DemoSection(title="s", items=[DemoItem(title="a", media=["nowhere.png"])])
    with pytest.raises(FileNotFoundError, match="nowhere.png"):
        write_demo_page(tmp_path / "index.html", [missing], title="demo")
    (tmp_path / "cloud.ply").write_bytes(b"ply")
    odd = DemoSection(title="s", items=[DemoItem(title="a", media=["cloud.ply"])])
    with pytest.raises(ValueError, match="downloads"):
        write_demo_page(tmp_path / "index.html", [odd], title="demo")
    assert not (tmp_path / "index.html").exists()
