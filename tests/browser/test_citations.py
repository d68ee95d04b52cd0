"""Citation previews and reference links behave for mouse, keyboard and screen-reader users.

The preview is pure CSS (``:hover`` / ``:focus-within``), so only a real browser can show that
it appears, that it stays on screen, that the link's accessible description is the preview
(``aria-describedby`` even while it is hidden), and that the jumps to the reference list and
back land where they should with instant navigation switched on.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING
from urllib.parse import urlparse

import pytest

from citereview.core.model import STATUS_LABELS
from tests.browser.conftest import Scheme, Tab, Viewport, expect, wait_in_view
from tests.conftest import SUBPATH

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

pytestmark = pytest.mark.browser

PAGE = "mechanism/"
CITATION = "sup.ke-cite a.ke-cite__num"
#: Enough Tab presses to cross the header, both sidebars and the text before the citation.
MAX_TABS = 400


@pytest.fixture
def tab(tabs: Callable[[Viewport, Scheme], Tab]) -> Tab:
    tab = tabs("desktop", "light")
    tab.open(PAGE)
    return tab


def first_citation(page: Page) -> tuple[Locator, str, str, str]:
    """The page's first citation link: (locator, its id, its tooltip id, its status label)."""
    link = page.locator(CITATION).first
    expect(link).to_be_attached()
    cite_id = link.get_attribute("id") or ""
    tip_id = link.get_attribute("aria-describedby") or ""
    status = re.search(r"\bke-status--([a-z-]+)", link.get_attribute("class") or "")
    assert cite_id.startswith("cite-"), cite_id
    assert tip_id, "the citation link has no aria-describedby"
    assert status, "the citation link carries no ke-status-- class"
    return link, cite_id, tip_id, STATUS_LABELS[status.group(1)]


def assert_on_screen(page: Page, tip: Locator) -> None:
    """The preview lies inside the window horizontally (never cut off at the edge)."""
    box = tip.bounding_box()
    assert box is not None
    width = page.viewport_size["width"] if page.viewport_size else 0
    assert box["x"] >= 0 and box["x"] + box["width"] <= width, (box, width)


def test_preview_is_the_links_description(tab: Tab) -> None:
    link, _, tip_id, label = first_citation(tab.page)
    tip = tab.page.locator(f"#{tip_id}")
    assert tip.get_attribute("role") == "tooltip"
    expect(tip).to_be_hidden()
    # Screen readers get the preview through aria-describedby even while it is hidden.
    expect(link).to_have_accessible_description(re.compile(re.escape(label)))


def test_hover_shows_the_preview(tab: Tab) -> None:
    link, _, tip_id, label = first_citation(tab.page)
    tip = tab.page.locator(f"#{tip_id}")
    expect(tip).to_be_hidden()
    link.hover()
    expect(tip).to_be_visible()
    expect(tip).to_contain_text(label)
    assert_on_screen(tab.page, tip)
    tab.page.mouse.move(0, 0)
    expect(tip).to_be_hidden()


def test_keyboard_focus_shows_the_preview(tab: Tab) -> None:
    page = tab.page
    _, cite_id, tip_id, label = first_citation(page)
    page.mouse.move(0, 0)
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement && document.activeElement.id") == cite_id:
            break
    else:
        pytest.fail(f"{MAX_TABS} presses of Tab never reached #{cite_id}")
    tip = page.locator(f"#{tip_id}")
    expect(tip).to_be_visible()
    expect(tip).to_contain_text(label)
    assert_on_screen(page, tip)


def test_citation_jumps_to_reference_and_back(tab: Tab) -> None:
    page = tab.page
    link, cite_id, _, label = first_citation(page)
    # Instant navigation rewrites in-page links to absolute URLs: compare the fragment.
    href = urlparse(link.get_attribute("href") or "")
    ref_id = href.fragment
    assert ref_id.startswith("ref-"), href
    assert href.path in ("", SUBPATH + PAGE), href
    link.focus()
    page.keyboard.press("Enter")
    page.wait_for_function("id => location.hash === '#' + id", arg=ref_id)
    wait_in_view(page, f"#{ref_id}")
    entry = page.locator(f"li#{ref_id}")
    expect(entry).to_contain_text(label)

    back = entry.locator(f'a.ke-ref__backlink[href$="#{cite_id}"]')
    expect(back).to_have_count(1)
    back.click()
    page.wait_for_function("id => location.hash === '#' + id", arg=cite_id)
    wait_in_view(page, f"#{cite_id}")
    assert page.url.endswith(f"{PAGE}#{cite_id}")


def test_preview_stays_on_a_phone_screen(tabs: Callable[[Viewport, Scheme], Tab]) -> None:
    tab = tabs("phone", "light")
    tab.open(PAGE)
    link, _, tip_id, label = first_citation(tab.page)
    link.focus()
    tip = tab.page.locator(f"#{tip_id}")
    expect(tip).to_be_visible()
    expect(tip).to_contain_text(label)
    assert_on_screen(tab.page, tip)
