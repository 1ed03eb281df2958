"""A real browser for the tests: Debian's Chromium driven by Playwright.

Playwright launches the system browser through `executable_path`; nothing here runs
`playwright install` (it downloads a browser). Tests that need the browser are skipped where
Chromium or playwright is missing. Screenshots go to `browser_artifacts`: the folder named by
VHDIFF_TEST_ARTIFACTS, else outputs/test-artifacts/browser under the checkout (git-ignored), so
they outlive pytest's temporary folders.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM_NAMES = ("chromium", "chromium-browser")
# no GPU, no sandbox (CI runs as root), and no calls home: the browser makes no network request
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]


def chromium_path() -> str | None:
    """The system Chromium's path (VHDIFF_CHROMIUM overrides), or None."""
    if os.environ.get("VHDIFF_CHROMIUM"):
        return os.environ["VHDIFF_CHROMIUM"]
    return next((path for name in CHROMIUM_NAMES if (path := shutil.which(name))), None)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """A headless Chromium (playwright.sync_api.Browser) for the whole session."""
    sync_api = pytest.importorskip("playwright.sync_api")
    path = chromium_path()
    if path is None:
        pytest.skip("no Chromium: apt-get install chromium")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, browser_artifacts: Path, request) -> Iterator[object]:
    """A fresh page; its screenshot is saved as TEST_NAME.png after the test, pass or fail."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    yield page
    try:
        page.screenshot(path=str(browser_artifacts / f"{request.node.name}.png"), full_page=True)
    finally:
        context.close()


@pytest.fixture(scope="session")
def browser_artifacts() -> Path:
    """Where the browser tests keep their screenshots."""
    root = Path(__file__).resolve().parents[2]
    folder = Path(os.environ.get("VHDIFF_TEST_ARTIFACTS", root / "outputs" / "test-artifacts")) / "browser"
    folder.mkdir(parents=True, exist_ok=True)
    return folder
