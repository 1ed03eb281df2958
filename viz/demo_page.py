"""The demo's report page: `index.html` that shows every output of `vhdiff demo`.

    from vhdiff.viz.demo_page import DemoItem, DemoSection, write_demo_page
    section = DemoSection(title="Motion", items=[DemoItem(title="walk", text="a person walks",
                          media=["walk.mp4"], downloads=["walk.npz"])], timings={"sample": 4.2})
    write_demo_page(out / "index.html", [section], title="vhdiff demo")

One self-contained HTML file (inline CSS, no script, no font or stylesheet from the network)
that opens from disk with no server: pictures and videos are referenced by paths relative to
the page, so the folder can be moved or zipped as a whole. Each section shows its items
(the media, the prompt or what the item shows, its settings, links to the other files) and
a table of what each step took.
"""

from __future__ import annotations

import html
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vhdiff.atomic_io import write_text_atomic

__all__ = ["IMAGE_SUFFIXES", "VIDEO_SUFFIXES", "DemoItem", "DemoSection", "render_demo_page", "write_demo_page"]

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".webp")
VIDEO_SUFFIXES = (".mp4", ".webm")

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1200px; color: #222; background: #fafafa; }
h1 { margin-bottom: 0.2em; } h2 { margin-top: 1.6em; border-bottom: 1px solid #ccc; }
.items { display: flex; flex-wrap: wrap; gap: 1.2em; }
.item { background: #fff; border: 1px solid #ddd; border-radius: 6px; padding: 0.8em; max-width: 100%; }
.item.wide { flex-basis: 100%; }
.item img, .item video { display: block; max-width: 100%; height: auto; image-rendering: auto; }
.item img.pixels { image-rendering: pixelated; }
.text { font-style: italic; margin: 0.4em 0; }
.settings { font-family: monospace; font-size: 0.8em; color: #555; white-space: pre-wrap; }
.files a { margin-right: 0.6em; font-size: 0.9em; }
table { border-collapse: collapse; margin: 0.6em 0; } td, th { border: 1px solid #ccc; padding: 0.2em 0.6em; text-align: left; }
"""


@dataclass
class DemoItem:
    """One thing the demo made.

    title: a short name ("walk"); text: the prompt, or what the item shows.
    media: files shown on the page (pictures and videos), paths relative to the page's folder.
    downloads: other files of the item, linked (e.g. .npz, .bvh, .ply).
    settings: how it was made (sampler, steps, guidance, seed, ...), shown as JSON.
    wide: take the full width of the page (a side-by-side video, a strip).
    pixelated: draw pictures with nearest-neighbour enlargement (tiny images).
    """

    title: str
    text: str = ""
    media: list[str] = field(default_factory=list)
    downloads: list[str] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)
    wide: bool = False
    pixelated: bool = False


@dataclass
class DemoSection:
    """One part of the demo (a modality): its items and what each step took, in seconds."""

    title: str
    intro: str = ""
    items: list[DemoItem] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def seconds(self) -> float:
        return float(sum(self.timings.values()))


def _relative(path: str | os.PathLike, root: Path) -> str:
    """`path` as a URL relative to the page's folder (forward slashes, percent-escaped)."""
    from urllib.parse import quote

    candidate = Path(path)
    if candidate.is_absolute():
        candidate = Path(os.path.relpath(candidate, root))
    return quote(candidate.as_posix())


def _media(path: str | os.PathLike, root: Path, *, alt: str, pixelated: bool) -> str:
    url, suffix = _relative(path, root), Path(path).suffix.lower()
    if suffix in VIDEO_SUFFIXES:
        return (f'<video src="{url}" controls loop muted autoplay playsinline preload="auto">'
                f'<a href="{url}">{html.escape(Path(path).name)}</a></video>')
    if suffix in IMAGE_SUFFIXES:
        css = ' class="pixels"' if pixelated else ""
        return f'<img src="{url}" alt="{html.escape(alt)}"{css}>'
    raise ValueError(f"cannot show {str(path)!r} on the page; media must be one of "
                     f"{', '.join(IMAGE_SUFFIXES + VIDEO_SUFFIXES)} (link other files as downloads)")


def _item(item: DemoItem, root: Path) -> str:
    parts = [f'<div class="item{" wide" if item.wide else ""}">', f"<h3>{html.escape(item.title)}</h3>"]
    if item.text:
        parts.append(f'<p class="text">{html.escape(item.text)}</p>')
    parts += [_media(m, root, alt=item.text or item.title, pixelated=item.pixelated) for m in item.media]
    if item.downloads:
        links = " ".join(f'<a href="{_relative(d, root)}">{html.escape(Path(d).name)}</a>' for d in item.downloads)
        parts.append(f'<p class="files">{links}</p>')
    if item.settings:
        parts.append(f'<p class="settings">{html.escape(json.dumps(item.settings, default=str))}</p>')
    parts.append("</div>")
    return "\n".join(parts)


def _timings(section: DemoSection) -> str:
    rows = "".join(f"<tr><td>{html.escape(k)}</td><td>{v:.1f} s</td></tr>" for k, v in section.timings.items())
    return f"<table><tr><th>step</th><th>time</th></tr>{rows}<tr><th>total</th><th>{section.seconds:.1f} s</th></tr></table>"


def render_demo_page(sections: Sequence[DemoSection], *, root: Path, title: str, intro: str = "") -> str:
    """The page's HTML; media paths are made relative to `root` (the page's folder)."""
    body = [f"<h1>{html.escape(title)}</h1>"]
    if intro:
        body.append(f"<p>{html.escape(intro)}</p>")
    for section in sections:
        body.append(f"<h2>{html.escape(section.title)}</h2>")
        if section.intro:
            body.append(f"<p>{html.escape(section.intro)}</p>")
        body.append('<div class="items">' + "\n".join(_item(i, root) for i in section.items) + "</div>")
        if section.timings:
            body.append(_timings(section))
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{html.escape(title)}</title><style>{STYLE}</style></head>\n<body>\n"
            + "\n".join(body) + "\n</body></html>\n")


def write_demo_page(path: str | os.PathLike, sections: Sequence[DemoSection], *, title: str, intro: str = "") -> Path:
    """Write the page atomically to `path`; every media and download file must exist."""
    path = Path(path)
    for section in sections:
        for item in section.items:
            for name in [*item.media, *item.downloads]:
                file = Path(name) if Path(name).is_absolute() else path.parent / name
                if not file.exists():
                    raise FileNotFoundError(f"the demo page links {str(file)!r}, which was not written")
    return write_text_atomic(path, render_demo_page(sections, root=path.parent, title=title, intro=intro))
