"""The Content-Security-Policy of ``docs/_headers`` in real Chromium (see tests/test_headers.py).

Lives with the browser tests so that it shares their one Playwright driver and Chromium:
two sync Playwright drivers in one process collide.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser.conftest import WAIT_MS
from tests.conftest import Served, site_pages
from tests.sitetools import page_url
from tests.test_headers import LISTEN, headers_server, root_site, rules  # noqa: F401 - fixtures


@pytest.mark.browser
def test_no_csp_violation_in_chromium(browser, headers_server: Served, root_site: Path) -> None:  # noqa: F811
    """Every page, the 404 page, instant navigation and search run under the CSP."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    context = browser.new_context()
    context.set_default_timeout(WAIT_MS)  # the same generous bound as every browser test
    context.add_init_script(LISTEN)
    page = context.new_page()
    messages: list[str] = []
    page.on("console", lambda msg: messages.append(f"{page.url}: {msg.text}"))
    page.on("pageerror", lambda err: messages.append(f"{page.url}: uncaught {err}"))

    urls = [headers_server.url + page_url(p) for p in site_pages(root_site)
            if p.as_posix() != "404.html"]
    urls.append(headers_server.url + "no/such/page/")
    for url in urls:
        page.goto(url, wait_until="networkidle")
        assert page.locator(".ke-safety-notice").count() == 1, url

    # Instant navigation (XHR + DOM swap) from one page to another.
    page.goto(headers_server.url + "mechanism/", wait_until="load")
    page.locator(".md-nav__link[href$='routes/']").first.click()
    page.wait_for_url("**/routes/")
    # Search: the worker starts, fetches the index and answers.
    page.keyboard.press("/")
    # Typed key by key like a reader: Material reads the query on keyup (and once more when
    # its worker is ready), so fill(), which sends no key events, can be lost when the
    # worker happens to be ready before it.
    page.locator("input[data-md-component='search-query']").press_sequentially("esketamine")
    try:
        page.locator(".md-search-result__item").first.wait_for(state="visible")
    except PlaywrightTimeout:
        messages.append(f"{page.url}: search gave no results (worker or index blocked?)")

    problems = [m for m in messages
                if any(k in m for k in ("CSP-VIOLATION", "Content Security Policy", "uncaught",
                                        "search gave no results"))]
    assert problems == [], "\n".join(problems)
    context.close()
