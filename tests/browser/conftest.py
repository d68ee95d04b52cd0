"""Browser fixtures: one headless Chromium per session, one context per viewport and scheme.

Why it is set up this way:

- The browser is the system Chromium (env ``CHROMIUM``, else ``/usr/bin/chromium``, else a
  ``chromium``/``google-chrome`` on ``PATH``, else one a contributor downloaded with
  ``python -m playwright install chromium``). The suite never downloads a browser itself: it
  must run offline, on a pinned Playwright, against the browser readers actually use.
- Without a Chromium these tests are skipped with the reason, except when ``CI`` is set: then
  they fail, so a CI run can never go green without having driven a real browser.
- DNS is switched off for every host except 127.0.0.1 (``--host-resolver-rules``). A page that
  starts asking a third party for something fails the privacy test (the request is recorded,
  and the failed load is a console error) without the test ever touching the network.
- Launching a browser costs far more than a page, so the per-page sweeps share one browser and
  one context per (viewport, scheme); tests that need a clean ``localStorage`` get a fresh one.
- Instant navigation only takes over links listed in ``sitemap.xml``, whose URLs name the
  published origin (``site_url``). Material swaps in the reader's scheme and host name but
  keeps the sitemap's port, so on a test server at 127.0.0.1:<random port> it silently falls
  back to full page loads. Every context therefore receives the sitemap as it reads once
  deployed: the published origin replaced by the test server's, paths untouched (a wrong
  sub-path in ``site_url`` still breaks navigation, and the navigation test catches it).
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlparse

import pytest

from tests.conftest import ROOT, SUBPATH, Served, _site_url, site_pages

# Guarded, so that a machine without Playwright collects these tests and then skips them with
# the reason (or fails them under CI) instead of erroring at import. Test modules import
# ``expect`` from here for the same reason.
try:
    from playwright.sync_api import expect, sync_playwright
except ImportError:  # pragma: no cover - depends on the machine
    expect = sync_playwright = None  # type: ignore[assignment]

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page, Playwright, Route

__all__ = ["expect"]

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # Nothing but the local test server resolves: no test can reach the network.
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
]
VIEWPORTS: dict[str, dict[str, int]] = {
    "desktop": {"width": 1280, "height": 800},
    "phone": {"width": 390, "height": 844},
}
Viewport = Literal["desktop", "phone"]
Scheme = Literal["light", "dark"]
#: Material's scheme names for our two colour schemes.
MATERIAL_SCHEMES: dict[str, str] = {"light": "default", "dark": "slate"}
#: Material keeps the chosen palette under ``<pathname of the site root>.__palette``.
PALETTE_KEY = SUBPATH + ".__palette"
ARTIFACTS = ROOT / "test-artifacts" / "screenshots"
#: The page's own text (search results are <article>s too, so be specific).
ARTICLE = "article.md-content__inner"
HEADING = ARTICLE + " h1"
#: Upper bound for any single wait or action (Playwright's and ``expect``'s defaults too). A
#: wait ends as soon as its condition holds, so a generous bound costs nothing when the page
#: works; it only has to outlast a slow machine (2 cores, another build running), not to make
#: a broken page fail fast.
WAIT_MS = 60_000
if expect is not None:  # ``expect`` assertions otherwise give up after 5 s.
    expect.set_options(timeout=WAIT_MS)


def sweep_pages(docs: Path = ROOT / "docs") -> list[Path]:
    """The built pages the per-page sweeps visit, known before the build (for parametrize).

    Derived from the Markdown sources plus MkDocs' 404 page; ``test_every_page_is_swept``
    checks the list against ``site_pages`` of the real build, so no page can slip through.
    """
    found = [Path("404.html")]
    for source in docs.rglob("*.md"):
        rel = source.relative_to(docs).with_suffix("")
        found.append(rel.parent / "index.html" if rel.name == "index" else rel / "index.html")
    return sorted(found)


def find_chromium() -> str | None:
    """The Chromium to drive: ``$CHROMIUM``, the Debian path, or one found on ``PATH``."""
    configured = os.environ.get("CHROMIUM")
    if configured:
        return configured if Path(configured).is_file() else None
    if Path("/usr/bin/chromium").is_file():
        return "/usr/bin/chromium"
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


def unavailable(reason: str) -> None:
    """Skip with ``reason`` on a contributor's machine; fail under CI (env ``CI`` set)."""
    hint = (" Install one (Debian: apt-get install chromium; Fedora: dnf install chromium;"
            " anywhere: python -m playwright install chromium) or point the CHROMIUM"
            " environment variable at a Chromium or Chrome binary.")
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set, so browser tests may not be skipped).{hint}",
                    pytrace=False)
    pytest.skip(f"{reason}.{hint}")


def page_url(rel: Path) -> str:
    """The URL path (relative to the site root) at which a built HTML file is served."""
    posix = rel.as_posix()
    if posix == "index.html":
        return ""
    if posix.endswith("/index.html"):
        return posix[: -len("index.html")]
    return posix


def page_id(rel: Path) -> str:
    """A short test id for a built page: ``mechanism``, ``index``, ``404``."""
    url = page_url(rel).strip("/")
    return url.removesuffix(".html") or "index"


def source_of(rel: Path) -> str | None:
    """The Markdown source (relative to docs/) a built page comes from, if any."""
    url = page_url(rel).strip("/")
    if url.endswith(".html"):
        return None
    return f"{url or 'index'}.md"


class _PaletteInputs(HTMLParser):
    """Collects Material's palette radio buttons (``input[name=__palette]``) from a page."""

    def __init__(self) -> None:
        super().__init__()
        self.options: list[dict[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "input" and values.get("name") == "__palette":
            self.options.append(values)


def palette_state(site: Path, scheme: Scheme) -> dict[str, Any]:
    """The ``localStorage`` value Material writes when a reader picks ``scheme``.

    Read from the built page's own palette inputs, so a change to ``theme.palette`` in
    mkdocs.yml changes what the tests select instead of silently testing a stale palette.
    """
    parser = _PaletteInputs()
    parser.feed((site / "index.html").read_text(encoding="utf-8"))
    wanted = MATERIAL_SCHEMES[scheme]
    for index, option in enumerate(parser.options):
        if (option.get("data-md-color-scheme") == wanted
                and option.get("data-md-color-media") != "(prefers-color-scheme)"):
            return {"index": index, "color": {
                key: option.get(f"data-md-color-{key}", "")
                for key in ("media", "scheme", "primary", "accent")
            }}
    raise AssertionError(f"the built site offers no palette option with scheme {wanted!r}")


class _FirstHeading(HTMLParser):
    """Text of a page's first ``<h1>``, without the permalink sign."""

    def __init__(self) -> None:
        super().__init__()
        self.depth = 0
        self.done = False
        self.skip = 0
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "h1" and not self.done:
            self.depth += 1
        elif self.depth and tag == "a" and "headerlink" in (dict(attrs).get("class") or ""):
            self.skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "h1" and self.depth:
            self.depth -= 1
            self.done = not self.depth
        elif tag == "a" and self.skip:
            self.skip -= 1

    def handle_data(self, data: str) -> None:
        if self.depth and not self.skip and not self.done:
            self.text.append(data)


def built_heading(site: Path, rel: Path) -> str:
    """The ``<h1>`` text of a built page, as the build wrote it."""
    parser = _FirstHeading()
    parser.feed((site / rel).read_text(encoding="utf-8"))
    return " ".join("".join(parser.text).split())


def shown_heading(page: Page) -> str:
    """The ``<h1>`` text of the page in the browser, permalink sign left out."""
    return page.evaluate("""() => {
        const h1 = document.querySelector('article.md-content__inner h1');
        if (!h1) return '';
        const copy = h1.cloneNode(true);
        copy.querySelectorAll('.headerlink').forEach(a => a.remove());
        return copy.textContent.split(/\\s+/).join(' ').trim();
    }""")


def wait_in_view(page: Page, selector: str) -> None:
    """Wait (at most ``WAIT_MS``) until the element's top edge is inside the window.

    A wait, not a timed assertion: smooth scrolling may take a moment; a jump that never
    arrives fails with a timeout.
    """
    page.wait_for_function("""sel => {
        const el = document.querySelector(sel);
        if (!el) return false;
        const box = el.getBoundingClientRect();
        return box.height > 0 && box.top >= 0 && box.top < window.innerHeight;
    }""", arg=selector, timeout=WAIT_MS)


@dataclass
class Log:
    """What the browser did since the last ``Tab.open``: console errors and every request."""

    console_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)


class Tab:
    """One browser context with one page, recording console errors and every request.

    Listeners sit on the context, not the page, so requests from web workers (Material's
    search worker fetches the index) and from popups are recorded too.
    """

    def __init__(self, context: BrowserContext, served: Served) -> None:
        self.context = context
        self.served = served
        self.log = Log()
        context.set_default_timeout(WAIT_MS)
        context.on("request", lambda request: self.log.requests.append(request.url))
        context.on("console", self._console)
        context.on("weberror", lambda error: self.log.console_errors.append(
            f"uncaught exception: {error.error}"))
        self.page: Page = context.new_page()

    def _console(self, message: Any) -> None:
        if message.type == "error":
            where = message.location or {}
            self.log.console_errors.append(
                f"{message.text} [{where.get('url', '?')}:{where.get('lineNumber', '?')}]")

    def open(self, path: str, *, wait_until: Literal["load", "networkidle"] = "load") -> Any:
        """Load ``path`` (relative to the site root) afresh; returns the main response."""
        self.log = Log()
        return self.page.goto(self.served.url + path, wait_until=wait_until)


def new_tab(browser: Browser, served: Served, viewport: Viewport = "desktop",
            scheme: Scheme | None = None) -> Tab:
    """A tab in a new context: nothing cached, nothing in storage. Close its ``context``."""
    return Tab(_new_context(browser, viewport, scheme, served), served)


def _serve_sitemap_as_deployed(context: BrowserContext, served: Served) -> None:
    """Answer ``sitemap.xml`` with the test server's origin in place of the published one."""
    published = urlparse(_site_url())
    origin = f"{published.scheme}://{published.netloc}"

    def rewrite(route: Route) -> None:
        response = route.fetch()
        route.fulfill(response=response, body=response.text().replace(origin, served.origin))

    context.route(served.url + "sitemap.xml", rewrite)


def _new_context(browser: Browser, viewport: Viewport, scheme: Scheme | None,
                 served: Served) -> BrowserContext:
    """A context at ``viewport``; with ``scheme``, every page opens in that colour scheme."""
    site = served.root
    phone = viewport == "phone"
    context = browser.new_context(
        viewport=VIEWPORTS[viewport], is_mobile=phone, has_touch=phone,
        color_scheme="dark" if scheme == "dark" else "light",
        service_workers="block",
    )
    if scheme is not None:
        # Before any page script: what Material's toggle would have stored.
        state = json.dumps(json.dumps(palette_state(site, scheme)))
        context.add_init_script(
            "try { if (location.protocol === 'http:') "
            f"localStorage.setItem({json.dumps(PALETTE_KEY)}, {state}); }} catch (e) {{}}")
    _serve_sitemap_as_deployed(context, served)
    return context


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    if sync_playwright is None:
        unavailable("Playwright is not installed (pip install -r requirements-test.txt)")
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def chromium_path(playwright: Playwright) -> str:
    """The Chromium binary, or a skip (a failure under CI) saying how to get one.

    After the system browsers, a Chromium that ``python -m playwright install chromium``
    downloaded (on a contributor's own initiative) is used too.
    """
    path = find_chromium()
    if path is None and Path(playwright.chromium.executable_path).is_file():
        path = playwright.chromium.executable_path
    if path is None:
        unavailable("No Chromium found ($CHROMIUM, /usr/bin/chromium, chromium or "
                    "google-chrome on PATH, or a Playwright-downloaded Chromium)")
    return path  # type: ignore[return-value]


@pytest.fixture(scope="session")
def browser(playwright: Playwright, chromium_path: str) -> Iterator[Browser]:
    """One headless Chromium for the whole session."""
    # A Chromium that is found but does not start is an error, not a skip: someone must look.
    launched = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
    yield launched
    launched.close()


@pytest.fixture(scope="session")
def tabs(browser: Browser, served_site: Served) -> Iterator[Callable[[Viewport, Scheme], Tab]]:
    """Shared tabs, one per (viewport, scheme), for sweeps that visit every page."""
    opened: dict[tuple[str, str], Tab] = {}

    def get(viewport: Viewport, scheme: Scheme) -> Tab:
        key = (viewport, scheme)
        if key not in opened:
            opened[key] = new_tab(browser, served_site, viewport, scheme)
        return opened[key]

    yield get
    for tab in opened.values():
        tab.context.close()


@pytest.fixture
def fresh_tab(browser: Browser, served_site: Served) -> Iterator[Tab]:
    """A new desktop context with empty storage, for tests that click the palette toggle."""
    tab = new_tab(browser, served_site)
    yield tab
    tab.context.close()


@pytest.fixture(scope="session")
def pages(built_site: Path) -> list[Path]:
    """Every built HTML page (404.html included), relative to the site."""
    found = site_pages(built_site)
    assert found, "the built site has no pages"
    return found


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Where screenshots go (``test-artifacts/screenshots/``, gitignored, never committed)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
