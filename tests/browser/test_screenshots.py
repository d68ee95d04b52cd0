"""Every page fits a phone and a desktop window, with screenshots of it for review.

What is asserted is what a reader would notice first on a phone: the page must not scroll
sideways (wide tables and long DOIs have to wrap or scroll inside themselves). Each saved
screenshot must also be exactly one window (viewport width and height), so a screenshot that
is cut or stretched sideways fails too.

The screenshots land in ``test-artifacts/screenshots/`` (gitignored; CI can upload the folder)
so that a reviewer can look at every page at both widths without building the site (the
accessibility sweep covers the dark scheme; sideways scrolling does not depend on it). They
are named ``<page>-<viewport>-<NN>.png``, e.g. ``mechanism-phone-01.png``: ``<page>`` is the
test id (``index``, ``404``, ``esketamine-vs-ketamine``), ``<viewport>`` is ``desktop``
(1280×800) or ``phone`` (390×844), and ``NN`` counts screens from the top of the page, from
``01`` (the top screen) to the last (the bottom screen). A page of up to ``MAX_SLICES``
screens is captured whole, in slices that overlap evenly; a longer one as ``MAX_SLICES``
evenly spaced screens from top to bottom. Each run first deletes the page's older
screenshots, so the folder never mixes runs.

Why window-sized slices and not one full-page screenshot: Chromium renders a full-page capture
by laying out and painting the whole page at once (``captureBeyondViewport``), which on the
long pages at phone width took over 15 s on an idle 2-core machine and ran into Playwright's
timeout. One window costs a fraction of a second whatever the page's length, and the cap
bounds the number per page.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Callable
from itertools import pairwise
from pathlib import Path

import pytest

from tests.browser.conftest import (
    VIEWPORTS,
    WAIT_MS,
    Scheme,
    Tab,
    Viewport,
    page_id,
    page_url,
    sweep_pages,
)

pytestmark = pytest.mark.browser

PAGES = sweep_pages()
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
#: Most screens saved per page and viewport (the longest page is about 50 phone screens).
MAX_SLICES = 8


def png_size(path: Path) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk."""
    data = path.read_bytes()[:24]
    assert data[:8] == PNG_SIGNATURE, f"{path} is not a PNG"
    return struct.unpack(">II", data[16:24])


def slice_offsets(height: int, screen: int, limit: int = MAX_SLICES) -> list[int]:
    """Scroll offsets of the screens to capture from a page ``height`` px tall.

    Evenly spaced from the top (0) to the bottom (``height - screen``). With no more than
    ``limit`` screens needed they overlap and cover the whole page; otherwise ``limit``
    screens sample it.
    """
    last = max(height - screen, 0)
    count = min(limit, -(-height // screen)) if last else 1
    if count <= 1:
        return [0]
    return [round(index * last / (count - 1)) for index in range(count)]


def test_slice_offsets() -> None:
    assert slice_offsets(500, 800) == [0]
    assert slice_offsets(800, 800) == [0]
    assert slice_offsets(1000, 800) == [0, 200]
    assert slice_offsets(2400, 800) == [0, 800, 1600]
    # Whole page covered: no gap between one screen's bottom and the next one's top.
    offsets = slice_offsets(5000, 800)
    assert len(offsets) == 7 and offsets[-1] == 4200
    assert all(b - a <= 800 for a, b in pairwise(offsets))
    # Capped: first and last screen, evenly spaced in between.
    assert slice_offsets(40_000, 800) == [round(i * 39_200 / 7) for i in range(8)]


def clear_old_shots(artifacts: Path, name: str) -> None:
    """Delete earlier screenshots of this page and viewport (full-page ones included)."""
    pattern = re.compile(re.escape(name) + r"(-\d+)?\.png")
    for old in artifacts.glob(name + "*.png"):
        if pattern.fullmatch(old.name):
            old.unlink()


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
@pytest.mark.parametrize("rel", PAGES, ids=page_id)
def test_page_fits_and_is_captured(rel: Path, viewport: Viewport,
                                   tabs: Callable[[Viewport, Scheme], Tab],
                                   artifacts: Path) -> None:
    tab = tabs(viewport, "light")
    assert tab.open(page_url(rel)).status == 200
    page = tab.page
    width, height = VIEWPORTS[viewport]["width"], VIEWPORTS[viewport]["height"]
    overflow = page.evaluate("""() => {
        const wide = [...document.querySelectorAll('.md-content *')]
            .filter(e => e.getBoundingClientRect().right > innerWidth + 1
                         && getComputedStyle(e).visibility !== 'hidden')
            .slice(0, 5).map(e => e.tagName.toLowerCase() + (e.className ? '.' + e.className : ''));
        const root = document.scrollingElement;
        return {width: root.scrollWidth, height: root.scrollHeight, screen: innerHeight, wide};
    }""")
    assert overflow["width"] <= width, (
        f"{page_url(rel) or '/'} scrolls sideways at {width}px "
        f"({overflow['width']}px wide); widest elements: {overflow['wide']}")

    name = f"{page_id(rel)}-{viewport}"
    clear_old_shots(artifacts, name)
    offsets = slice_offsets(overflow["height"], overflow["screen"])
    for number, offset in enumerate(offsets, start=1):
        # Jump (no smooth scrolling), then let two frames pass so that Material's scroll
        # handlers (header title, table of contents) have drawn what a reader would see.
        page.evaluate("""y => new Promise(done => {
            window.scrollTo({top: y, left: 0, behavior: 'instant'});
            requestAnimationFrame(() => requestAnimationFrame(done));
        })""", offset)
        shot = artifacts / f"{name}-{number:02d}.png"
        page.screenshot(path=shot, animations="disabled", caret="hide", scale="css",
                        timeout=WAIT_MS)
        assert png_size(shot) == (width, height), shot
