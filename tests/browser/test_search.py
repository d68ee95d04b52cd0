"""Search works in the browser, under the sub-path, from the site root and from a nested page.

Material searches in a web worker (``assets/javascripts/workers/search.*.js``) that fetches
``search/search_index.json`` relative to the site root; both break easily when a site is
served under a sub-path, which is how GitHub project pages serve this one.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlparse

import pytest

from tests.browser.conftest import ARTICLE, HEADING, Scheme, Tab, Viewport, built_heading, expect, shown_heading
from tests.conftest import SUBPATH

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser

RESULTS = ".md-search-result__item a.md-search-result__link"


def search(page: Page, query: str) -> list[str]:
    """Type ``query`` like a reader (key by key) and return the result URLs' paths."""
    box = page.locator("input.md-search__input")
    box.click()
    box.press_sequentially(query)
    # The worker answers asynchronously: wait for the result list, then for its summary.
    expect(page.locator(RESULTS).first).to_be_attached()
    expect(page.locator(".md-search-result__meta")).to_contain_text("matching")
    return [urlparse(href).path for href in page.locator(RESULTS).evaluate_all(
        "links => links.map(a => a.href)")]


@pytest.fixture
def tab(tabs: Callable[[Viewport, Scheme], Tab]) -> Tab:
    return tabs("desktop", "light")


@pytest.mark.parametrize("start", ["", "mechanism/"], ids=["from-root", "from-nested-page"])
@pytest.mark.parametrize(("query", "expected"), [
    ("esketamine", "esketamine-vs-ketamine/"),
    ("NMDA", "mechanism/"),
])
def test_query_lists_the_page(tab: Tab, start: str, query: str, expected: str) -> None:
    tab.open(start)
    paths = search(tab.page, query)
    assert SUBPATH + expected in paths, f"{query!r} from /{start}: results were {paths}"
    assert all(path.startswith(SUBPATH) for path in paths), paths


def test_clicking_a_result_opens_the_page(tab: Tab, built_site: Path) -> None:
    tab.open("mechanism/")
    search(tab.page, "esketamine")
    target = SUBPATH + "esketamine-vs-ketamine/"
    link = tab.page.locator(RESULTS).filter(has=tab.page.locator("h1")).and_(
        tab.page.locator(f'a[href*="{target}"]')).first
    link.click()
    tab.page.wait_for_url(lambda url: urlparse(url).path == target)
    expected = built_heading(built_site, Path("esketamine-vs-ketamine/index.html"))
    expect(tab.page.locator(HEADING)).to_contain_text(expected)
    assert shown_heading(tab.page) == expected
    # search.highlight marks the query on the page the reader lands on.
    expect(tab.page.locator(ARTICLE + " mark").first).to_have_text("esketamine", ignore_case=True)
