"""axe-core finds no WCAG 2.1 A/AA violation on any page, in either scheme, on desktop and phone.

axe-core is the copy bundled (and pinned) by the ``axe-playwright-python`` package, so no
JavaScript is fetched at test time. No rule is disabled: if Material's defaults fail one, the
fix belongs in ``docs/assets/stylesheets/extra.css`` (or a template), not in this test.

Both schemes are selected the way a reader's toggle would leave them (Material's
``localStorage`` palette entry, written before any page script runs), so the colours axe
measures are the ones a reader who picked that scheme sees.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import Scheme, Tab, Viewport, page_id, page_url, sweep_pages, unavailable

try:  # The pinned axe-core (axe.min.js) ships inside this package; nothing is fetched.
    from axe_playwright_python.base import AXE_SCRIPT
except ImportError:  # pragma: no cover - depends on the machine
    AXE_SCRIPT = ""

pytestmark = pytest.mark.browser

#: WCAG 2.0 and 2.1, levels A and AA: what this site promises (docs/about.md).
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]}
PAGES = sweep_pages()


def axe_violations(tab: Tab, include: str | None = None) -> list[dict[str, Any]]:
    """Run the pinned axe-core on the page as it stands (or on ``include`` only)."""
    if not AXE_SCRIPT:
        unavailable("axe-playwright-python (the pinned axe-core) is not installed")
    page = tab.page
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(AXE_SCRIPT)
    return page.evaluate(
        "([context, options]) => axe.run(context ? {include: [context]} : document, options)"
        ".then(r => r.violations)", [include, AXE_OPTIONS])


def describe(violations: list[dict[str, Any]]) -> str:
    """One line per rule and up to three offending elements, enough to write the CSS fix."""
    lines = []
    for rule in violations:
        lines.append(f"{rule['id']} ({rule.get('impact')}): {rule['help']} [{rule['helpUrl']}]")
        for node in rule["nodes"][:3]:
            summary = " ".join((node.get("failureSummary") or "").split())
            lines.append(f"    {' '.join(map(str, node['target']))}: {summary[:300]}")
        if len(rule["nodes"]) > 3:
            lines.append(f"    ... and {len(rule['nodes']) - 3} more elements")
    return "\n".join(lines)


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("viewport", ["desktop", "phone"])
@pytest.mark.parametrize("rel", PAGES, ids=page_id)
def test_no_wcag_violations(rel: Path, viewport: Viewport, scheme: Scheme,
                            tabs: Callable[[Viewport, Scheme], Tab]) -> None:
    tab = tabs(viewport, scheme)
    response = tab.open(page_url(rel))
    assert response.status == 200
    expected = "slate" if scheme == "dark" else "default"
    assert tab.page.get_attribute("body", "data-md-color-scheme") == expected
    violations = axe_violations(tab)
    assert violations == [], (
        f"{page_url(rel) or '/'} ({viewport}, {scheme}):\n{describe(violations)}")


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_open_citation_preview_passes(scheme: Scheme,
                                      tabs: Callable[[Viewport, Scheme], Tab]) -> None:
    """The preview is hidden during the page sweep; check its colours while it is open."""
    tab = tabs("desktop", scheme)
    tab.open("mechanism/")
    link = tab.page.locator("sup.ke-cite a.ke-cite__num").first
    link.focus()
    tip = f"#{link.get_attribute('aria-describedby')}"
    assert tab.page.locator(tip).is_visible()
    violations = axe_violations(tab, include=tip)
    assert violations == [], f"open preview ({scheme}):\n{describe(violations)}"


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_dated_fact_labels_pass_current_and_stale_open_and_closed(
        scheme: Scheme, tabs: Callable[[Viewport, Scheme], Tab]) -> None:
    """Dated-fact labels (``[as of …]``) on the legality page: the labels themselves, and the
    description of a current and of a stale ("may be out of date") label while it is open.

    The page carries facts checked on 3 December 2026 and facts from 2025 and earlier, so
    with the default 12-month limit it has both states on any build date from then on."""
    tab = tabs("desktop", scheme)
    tab.open("legality/")
    facts = tab.page.locator("span.ke-fact")
    assert facts.count() > 0
    violations = axe_violations(tab, include="span.ke-fact")
    assert violations == [], f"fact labels ({scheme}):\n{describe(violations)}"
    for selector, stale in (("span.ke-fact:not(.ke-fact--stale)", False), ("span.ke-fact.ke-fact--stale", True)):
        label = tab.page.locator(f"{selector} .ke-fact__label").first
        assert ("may be out of date" in label.inner_text()) is stale
        label.focus()
        tip = f"#{label.get_attribute('aria-describedby')}"
        assert tab.page.locator(tip).is_visible()
        violations = axe_violations(tab, include=tip)
        assert violations == [], f"open description of {selector} ({scheme}):\n{describe(violations)}"
