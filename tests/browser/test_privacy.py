"""Every page, as a browser loads it: no console errors, and no request leaves the test server.

The static privacy test reads the HTML; this one records what Chromium really fetches,
including fonts, images, the search worker and whatever the worker or scripts fetch later,
so a request that only JavaScript makes (e.g. Material asking api.github.com for repository
stars) is caught too. Each page is loaded until the network has been idle, so late fetches
count.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlparse

import pytest

from tests.browser.conftest import new_tab, page_id, page_url, sweep_pages
from tests.conftest import SUBPATH, Served, site_pages

if TYPE_CHECKING:
    from playwright.sync_api import Browser

pytestmark = pytest.mark.browser

PAGES = sweep_pages()


def test_every_page_is_swept(built_site: Path) -> None:
    """The per-page sweeps cover exactly the pages the build produced."""
    assert sorted(site_pages(built_site)) == PAGES


@dataclass(frozen=True)
class Visit:
    """One page load: main response status, console errors, every requested URL."""

    status: int
    errors: list[str]
    requests: list[str]


@pytest.fixture(scope="module")
def load(browser: Browser, served_site: Served) -> Callable[[Path], Visit]:
    """Loads each page once and shares the result between the two tests.

    Every page gets a new context (desktop, light): nothing cached, empty storage. Material
    remembers a failed api.github.com lookup in sessionStorage, so in a shared tab only the
    first page would show it; each page must stand on its own.
    """
    cache: dict[Path, Visit] = {}

    def get(rel: Path) -> Visit:
        if rel not in cache:
            tab = new_tab(browser, served_site, "desktop", "light")
            try:
                response = tab.open(page_url(rel), wait_until="networkidle")
                cache[rel] = Visit(response.status, list(tab.log.console_errors),
                                   list(tab.log.requests))
            finally:
                tab.context.close()
        return cache[rel]

    return get


@pytest.mark.parametrize("rel", PAGES, ids=page_id)
def test_no_console_errors(rel: Path, load: Callable[[Path], Visit]) -> None:
    seen = load(rel)
    assert seen.status == 200
    assert seen.errors == [], f"{page_url(rel) or '/'}: console errors:\n" + "\n".join(seen.errors)


@pytest.mark.parametrize("rel", PAGES, ids=page_id)
def test_no_request_leaves_the_server(rel: Path, load: Callable[[Path], Visit],
                                      served_site: Served) -> None:
    fetched = [url for url in load(rel).requests if urlparse(url).scheme not in ("data", "blob")]
    assert fetched, "no request recorded: the recorder is not working"
    foreign = [url for url in fetched if not url.startswith(served_site.origin + "/")]
    assert foreign == [], f"{page_url(rel) or '/'} asked other hosts:\n" + "\n".join(foreign)
    # Under a project-pages sub-path, an absolute "/assets/..." would escape the site.
    outside = [url for url in fetched if not urlparse(url).path.startswith(SUBPATH)]
    assert outside == [], f"{page_url(rel) or '/'} fetched outside {SUBPATH}:\n" + "\n".join(outside)
