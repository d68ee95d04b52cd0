"""Navigation in the browser: instant navigation, the colour toggle, the 404 page, edit links.

All under the sub-path the site is published at, where absolute links and Material's
sitemap-driven instant navigation are most likely to break.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlparse

import pytest
import yaml

from tests.browser.conftest import (
    ARTICLE,
    HEADING,
    MATERIAL_SCHEMES,
    PALETTE_KEY,
    Scheme,
    Tab,
    Viewport,
    built_heading,
    expect,
    page_id,
    page_url,
    shown_heading,
    source_of,
    sweep_pages,
)
from tests.conftest import ROOT, SUBPATH

pytestmark = pytest.mark.browser

CONTENT_PAGES = [rel for rel in sweep_pages() if source_of(rel)]
TOGGLE = "label.md-header__button[for^=__palette]:visible"


def config() -> dict:
    """mkdocs.yml, with its ``!`` tags (e.g. ``!ENV``) read as plain values."""

    class Loader(yaml.SafeLoader):
        pass

    Loader.add_multi_constructor("!", lambda loader, suffix, node: None)
    return yaml.load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"), Loader=Loader)


@pytest.fixture
def tab(tabs: Callable[[Viewport, Scheme], Tab]) -> Tab:
    return tabs("desktop", "light")


def test_nav_links_open_their_pages_without_reloading(tab: Tab, built_site: Path) -> None:
    """Every link in the main navigation lands on its page, by instant navigation."""
    page = tab.page
    tab.open("")
    nav = page.locator(".md-sidebar--primary .md-nav--primary a.md-nav__link[href]")
    targets = [urlparse(href).path for href in nav.evaluate_all("as => as.map(a => a.href)")]
    targets = list(dict.fromkeys(path for path in targets if path.startswith(SUBPATH)))
    assert len(targets) >= 5, targets
    # A full reload would wipe this; instant navigation keeps the same document.
    page.evaluate("window.__keSameDocument = true")
    for target in targets:
        page.locator(f'.md-sidebar--primary .md-nav--primary a.md-nav__link[href$="{target}"]'
                     ).first.click()
        page.wait_for_url(lambda url, target=target: urlparse(url).path == target)
        rel = Path(target.removeprefix(SUBPATH), "index.html")
        expected = built_heading(built_site, rel)
        expect(page.locator(HEADING)).to_contain_text(expected)
        assert shown_heading(page) == expected, target
        assert page.evaluate("window.__keSameDocument === true"), f"{target}: full page reload"
    assert tab.log.console_errors == []


def test_palette_toggle_is_remembered(fresh_tab: Tab) -> None:
    page = fresh_tab.page
    fresh_tab.open("")
    body = page.locator("body")
    dark = MATERIAL_SCHEMES["dark"]
    for _ in range(3):  # auto -> light -> dark: at most one full turn
        if body.get_attribute("data-md-color-scheme") == dark:
            break
        page.locator(TOGGLE).click()
    expect(body).to_have_attribute("data-md-color-scheme", dark)
    stored = page.evaluate("key => JSON.parse(localStorage.getItem(key))", PALETTE_KEY)
    assert stored and stored["color"]["scheme"] == dark, stored

    # A full page load elsewhere on the site starts in the remembered scheme.
    fresh_tab.open("mechanism/")
    expect(body).to_have_attribute("data-md-color-scheme", dark)
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")

    page.locator(TOGGLE).click()
    expect(body).not_to_have_attribute("data-md-color-scheme", dark)
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") != background


@pytest.mark.parametrize("missing", ["no-such-page/", "deeply/nested/missing/page.html"])
def test_missing_page_is_the_sites_404(tab: Tab, built_site: Path, missing: str) -> None:
    page = tab.page
    tab.open("")
    header_colour = page.evaluate("getComputedStyle(document.querySelector('.md-header'))"
                                  ".backgroundColor")
    response = tab.open(missing)
    assert response.status == 404
    expect(page.locator(HEADING)).to_have_text(built_heading(built_site, Path("404.html")))
    # Styles and scripts load although the URL is deeper than the page was built for.
    assert page.evaluate("getComputedStyle(document.querySelector('.md-header'))"
                         ".backgroundColor") == header_colour
    expect(page.locator(".md-search__input")).to_be_visible()
    assets = [url for url in tab.log.requests if url != response.url]
    assert any(url.endswith(".css") for url in assets), assets
    # The only failed load is the missing page itself (Chromium logs its 404 status).
    errors = [e for e in tab.log.console_errors if "status of 404" not in e or
              response.url not in e]
    assert errors == [], errors
    # Its "overview" link names the site root.
    overview = page.locator(ARTICLE + " a", has_text="overview").first
    assert urlparse(overview.get_attribute("href") or "").path == SUBPATH
    # And its navigation works.
    page.locator('.md-sidebar--primary a.md-nav__link[href$="/mechanism/"]').first.click()
    page.wait_for_url(lambda url: urlparse(url).path == SUBPATH + "mechanism/")
    expect(page.locator(HEADING)).to_contain_text(
        built_heading(built_site, Path("mechanism/index.html")))


@pytest.mark.parametrize("rel", CONTENT_PAGES, ids=page_id)
def test_edit_link_points_at_the_source(tab: Tab, rel: Path) -> None:
    settings = config()
    source = source_of(rel)
    assert source and (ROOT / settings.get("docs_dir", "docs") / source).is_file(), source
    expected = f"{settings['repo_url'].rstrip('/')}/{settings['edit_uri'].strip('/')}/{source}"
    tab.open(page_url(rel))
    edit = tab.page.locator('a.md-content__button[href*="edit/main/docs/"]')
    expect(edit).to_have_count(1)
    expect(edit).to_be_visible()
    assert edit.get_attribute("href") == expected
