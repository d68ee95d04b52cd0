"""Crawl the served site like a reader's browser would, and check that nothing is broken.

From the root page, every HTML page is parsed and every internal reference is requested from
a real HTTP server: links, stylesheets, scripts, images, the search worker named in Material's
``__config``, and every ``url()`` inside our stylesheets and Material's. Links with a fragment
must land on an element with that id. The crawl runs twice: under the GitHub Pages sub-path
(``/ketamine-evidence/``) and at a domain root, as Netlify or Cloudflare Pages serve it.

Only the 404 page depends on ``site_url`` (Material writes absolute paths into it because it
is served at any depth), so the root crawl uses a build whose ``site_url`` has no sub-path:
a two-line config that ``INHERIT``s mkdocs.yml, which is what netlify.toml builds too.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import json
import re
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urldefrag, urljoin, urlparse

import pytest

from tests.conftest import Served, _Handler, build_site, site_pages
from tests.sitetools import Element, copy_project, page_url, parse_html

# Which attribute of which element the browser loads or the reader follows.
REFERENCES = {"a": ("href",), "link": ("href",), "script": ("src",), "img": ("src", "srcset"),
              "source": ("src", "srcset"), "iframe": ("src",), "video": ("src", "poster"),
              "audio": ("src",)}
CSS_URL = re.compile(r"""url\(\s*(['"]?)([^'")]+)\1\s*\)""")
CSS_IMPORT = re.compile(r"""@import\s+(['"])([^'"]+)\1""")
MISSING = "this/page/does-not-exist/"


@dataclass
class Response:
    status: int
    content_type: str
    body: bytes


@dataclass
class Crawl:
    """What a crawl found: every fetched URL's status, and broken references by source."""

    statuses: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    pages: dict[str, Element] = field(default_factory=dict)


def fetch(url: str) -> Response:
    """GET one URL from the local test server (never anything else)."""
    assert urlparse(url).hostname == "127.0.0.1", url
    try:
        with urllib.request.urlopen(url, timeout=30) as resp:
            return Response(resp.status, resp.headers.get_content_type(), resp.read())
    except urllib.error.HTTPError as err:
        return Response(err.code, err.headers.get_content_type(), err.read())


def references(doc: Element) -> Iterator[tuple[str, str]]:
    """(tag, url) for every reference in a page, srcset candidates included."""
    for element in doc.iter():
        for attr in REFERENCES.get(element.tag, ()):
            value = element.attrs.get(attr)
            if not value:
                continue
            if attr == "srcset":
                for candidate in value.split(","):
                    if candidate.strip():
                        yield element.tag, candidate.split()[0]
            else:
                yield element.tag, value
        if element.tag == "script" and element.attrs.get("id") == "__config":
            config = json.loads(element.text())
            yield "script", config["base"].rstrip("/") + "/" if config.get("base") else "./"
            yield "script", config["search"]


def ids(doc: Element) -> set[str]:
    return {e.attrs[key] for e in doc.iter() for key in ("id", "name") if key in e.attrs}


def crawl(start: str, extra: tuple[str, ...] = ()) -> Crawl:
    """Breadth-first crawl of every same-origin URL reachable from ``start``."""
    origin = "{0.scheme}://{0.netloc}".format(urlparse(start))
    result = Crawl()
    queue: list[tuple[str, str]] = [(start, "<start>")] + [(u, "<start>") for u in extra]
    anchors: list[tuple[str, str, str]] = []  # (source page, target page, fragment)
    while queue:
        url, source = queue.pop(0)
        if url in result.statuses:
            continue
        resp = fetch(url)
        result.statuses[url] = resp.status
        expected = 404 if url.endswith(MISSING) else 200
        if resp.status != expected:
            result.problems.append(f"{source}: {url} -> HTTP {resp.status}")
            continue
        found: list[str] = []
        if resp.content_type == "text/html":
            doc = parse_html(resp.body.decode("utf-8"))
            result.pages[url] = doc
            for _tag, ref in references(doc):
                target = urljoin(url, ref)
                if target.startswith(origin + "/"):
                    found.append(target)
                    base, fragment = urldefrag(target)
                    if fragment:
                        anchors.append((url, base, fragment))
        elif resp.content_type == "text/css":
            css = resp.body.decode("utf-8")
            for match in [*CSS_URL.finditer(css), *CSS_IMPORT.finditer(css)]:
                ref = match.group(2).strip()
                if not ref.startswith(("data:", "#")):
                    target = urljoin(url, ref)
                    assert target.startswith(origin + "/"), f"{url}: external url({ref})"
                    found.append(target)
        for target in found:
            queue.append((urldefrag(target)[0], url))
    for source, target, fragment in anchors:
        doc = result.pages.get(target)
        if doc is None:
            continue  # already reported as a broken link, or not HTML
        if fragment not in ids(doc):
            result.problems.append(f"{source}: #{fragment} not found in {target}")
    return result


def assert_complete_crawl(result: Crawl, site: Path, root_url: str) -> None:
    """No broken reference, and every built page was reached by following links."""
    assert result.problems == [], "\n".join(result.problems)
    reached = {url for url, status in result.statuses.items() if status == 200}
    for page in site_pages(site):
        if page.as_posix() == "404.html":
            continue
        assert root_url + page_url(page) in reached, f"{page} is not linked from anywhere"
    css = [u for u in reached if u.endswith(".css")]
    assert any("/main." in u for u in css) and any(u.endswith("/extra.css") for u in css)
    assert any(u.endswith(".svg") for u in reached), "no image was crawled"


def test_crawl_under_sub_path(served_site: Served) -> None:
    """Under /ketamine-evidence/, as GitHub Pages serves it, nothing internal is broken."""
    result = crawl(served_site.url, extra=(served_site.url + MISSING,))
    assert_complete_crawl(result, served_site.root, served_site.url)
    # The 404 page, served for a URL three levels deep, still finds its stylesheets.
    missing = result.pages[served_site.url + MISSING]
    assert missing.find_all(cls="ke-safety-notice")


ROOT_SITE_URL = "https://ketamine-evidence.example/"


def build_root_site(work: Path) -> Path:
    """Build the site for a domain root, the way netlify.toml does; returns the site folder.

    A two-line config ``INHERIT``s mkdocs.yml and overrides ``site_url``; it sits in a copy
    of the project because relative paths resolve beside the config file.
    """
    project = copy_project(work / "project")
    config = project / "mkdocs.root.yml"
    config.write_text(f"INHERIT: mkdocs.yml\nsite_url: {ROOT_SITE_URL}\n", encoding="utf-8")
    site = work / "site"
    proc = build_site(site, config=config, cwd=project)
    assert proc.returncode == 0, proc.stdout
    assert "WARNING" not in proc.stdout, proc.stdout
    return site


@contextlib.contextmanager
def serve_at_root(site: Path, handler: type[_Handler] = _Handler) -> Iterator[Served]:
    """Serve ``site`` at ``/`` on 127.0.0.1, with its 404 page for missing paths."""
    bound = type("Handler", (handler,), {"not_found": site / "404.html"})
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(bound, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    origin = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield Served(origin=origin, url=origin + "/", root=site)
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def served_at_root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The site built with a root ``site_url``, served at ``/``."""
    with serve_at_root(build_root_site(tmp_path_factory.mktemp("root-build"))) as served:
        yield served


def test_crawl_at_domain_root(served_at_root: Served) -> None:
    """At a domain root, as Netlify or Cloudflare Pages serve it, nothing is broken."""
    result = crawl(served_at_root.url, extra=(served_at_root.url + MISSING,))
    assert_complete_crawl(result, served_at_root.root, served_at_root.url)
    missing = result.pages[served_at_root.url + MISSING]
    assert missing.find_all(cls="ke-safety-notice")
