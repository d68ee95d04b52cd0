"""Every page fits a phone and a desktop window, with a full-page screenshot of each for review.

The screenshots land in ``test-artifacts/screenshots/`` (gitignored; CI can upload the folder)
so that a reviewer can look at every page at both widths without building the site (the
accessibility sweep covers the dark scheme; sideways scrolling does not depend on it). What is
asserted is what a reader would notice first on a phone: the page must not scroll sideways
(wide tables and long DOIs have to wrap or scroll inside themselves).
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.browser.conftest import VIEWPORTS, Scheme, Tab, Viewport, page_id, page_url, sweep_pages

pytestmark = pytest.mark.browser

PAGES = sweep_pages()
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(path: Path) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk."""
    data = path.read_bytes()[:24]
    assert data[:8] == PNG_SIGNATURE, f"{path} is not a PNG"
    return struct.unpack(">II", data[16:24])


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
@pytest.mark.parametrize("rel", PAGES, ids=page_id)
def test_page_fits_and_is_captured(rel: Path, viewport: Viewport,
                                   tabs: Callable[[Viewport, Scheme], Tab],
                                   artifacts: Path) -> None:
    tab = tabs(viewport, "light")
    assert tab.open(page_url(rel)).status == 200
    page = tab.page
    width = VIEWPORTS[viewport]["width"]
    overflow = page.evaluate("""() => {
        const wide = [...document.querySelectorAll('.md-content *')]
            .filter(e => e.getBoundingClientRect().right > innerWidth + 1
                         && getComputedStyle(e).visibility !== 'hidden')
            .slice(0, 5).map(e => e.tagName.toLowerCase() + (e.className ? '.' + e.className : ''));
        return {width: document.scrollingElement.scrollWidth, wide};
    }""")
    assert overflow["width"] <= width, (
        f"{page_url(rel) or '/'} scrolls sideways at {width}px "
        f"({overflow['width']}px wide); widest elements: {overflow['wide']}")
    shot = artifacts / f"{page_id(rel)}-{viewport}.png"
    page.screenshot(path=shot, full_page=True)
    assert png_size(shot)[0] == width
