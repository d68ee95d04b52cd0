"""Privacy: opening any page loads nothing from a third-party host.

Readers of a site about ketamine should not have their visit reported to font CDNs, script
CDNs, analytics or GitHub. The built output is checked the way a browser would use it:

- HTML: every attribute the browser fetches (``src``, ``srcset``, ``poster``, ``data``, and
  ``href`` of ``<link>``), ``url()``/``@import`` in ``<style>`` blocks and ``style``
  attributes. Outbound ``<a href>`` links to sources are fine: nothing loads until a reader
  follows one. ``<link rel="canonical">`` names the site's own address (``site_url``).
- CSS files (ours and Material's): every ``url()`` and ``@import``.
- JavaScript: Material's bundle *contains* CDN and GitHub API URLs, but only fetches them when
  the HTML asks for a feature: mermaid diagrams (unpkg.com), or the repository "source" widget
  (``data-md-component="source"``, which calls api.github.com for stars and releases). So the
  check is that the HTML never triggers them, and that no known tracking or font host appears
  in any HTML attribute or CSS.

The same checks run on the Zensical build of the same sources.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urljoin, urlparse

import pytest

from tests.conftest import _site_url
from tests.sitetools import parse_html

FIRST_PARTY = {None, "", "127.0.0.1", "localhost", urlparse(_site_url()).hostname}
LOADED_ATTRS = {"src", "srcset", "poster", "data", "background"}
CSS_REFS = re.compile(r"""url\(\s*(['"]?)([^'")]+)\1\s*\)|@import\s+(['"])([^'"]+)\3""")
TRACKERS = ("fonts.googleapis", "fonts.gstatic", "cdn.jsdelivr", "unpkg.com",
            "googletagmanager", "google-analytics", "api.github.com")


def third_party(ref: str, base: str = "https://first.party/") -> str | None:
    """The host ``ref`` would be fetched from, if that host is a third party."""
    ref = ref.strip()
    if ref.startswith(("data:", "#", "blob:")):
        return None
    host = urlparse(urljoin(base, ref)).hostname
    return None if host in FIRST_PARTY or host == "first.party" else host


def css_refs(css: str) -> list[str]:
    return [m.group(2) or m.group(4) for m in CSS_REFS.finditer(css)]


def html_problems(name: str, text: str) -> list[str]:
    """Everything in one HTML page that would make the browser contact a third party."""
    problems: list[str] = []
    doc = parse_html(text)
    for element in doc.iter():
        where = f"{name}:{element.line}: <{element.tag}>"
        for attr, value in element.attrs.items():
            values: list[str] = []
            if attr in LOADED_ATTRS:
                values = ([c.split()[0] for c in value.split(",") if c.strip()]
                          if attr == "srcset" else [value])
            elif attr == "href" and element.tag != "a":
                if element.tag == "link" and element.attrs.get("rel") in ("canonical",
                                                                          "alternate"):
                    continue  # names an address; the browser does not fetch it
                values = [value]
            elif attr == "style":
                values = css_refs(value)
            for ref in values:
                if host := third_party(ref):
                    problems.append(f"{where} {attr} loads from {host}: {ref}")
            if attr != "href" or element.tag != "a":
                problems += [f"{where} {attr} mentions {t}" for t in TRACKERS if t in value]
        if element.tag == "style":
            for ref in css_refs(element.text()):
                if host := third_party(ref):
                    problems.append(f"{where} loads from {host}: {ref}")
        if element.attrs.get("data-md-component") == "source" and (
                third_party(element.attrs.get("href", ""))):
            problems.append(f"{where} repository widget makes Material fetch facts from the "
                            "GitHub API (api.github.com) on every page view")
        if "mermaid" in element.classes:
            problems.append(f"{where} a mermaid diagram makes Material load mermaid from "
                            "unpkg.com")
    return problems


def site_problems(site: Path) -> list[str]:
    """Third-party loads anywhere in a built site (HTML and CSS)."""
    problems: list[str] = []
    for path in sorted(site.rglob("*.html")):
        problems += html_problems(path.relative_to(site).as_posix(),
                                  path.read_text(encoding="utf-8"))
    for path in sorted(site.rglob("*.css")):
        css = path.read_text(encoding="utf-8")
        name = path.relative_to(site).as_posix()
        problems += [f"{name}: url({ref}) loads from {host}"
                     for ref in css_refs(css) if (host := third_party(ref))]
        problems += [f"{name}: mentions {t}" for t in TRACKERS if t in css]
    return problems


def test_checker_catches_third_party_loads() -> None:
    """The checker itself: each kind of third-party load is reported, links are not."""
    page = """<html><head>
      <link rel="stylesheet" href="https://fonts.googleapis.com/css?family=Roboto">
      <link rel="canonical" href="https://elsewhere.example/page/">
      <script src="//cdn.jsdelivr.net/x.js"></script>
      <style>body { background: url("https://tracker.example/p.gif") }</style>
    </head><body>
      <img src="https://img.example/a.png" srcset="a.png 1x, https://img.example/b.png 2x">
      <div style="background-image: url(https://bg.example/x.png)"></div>
      <a href="https://github.com/o/r" class="md-source" data-md-component="source">repo</a>
      <pre class="mermaid">graph LR</pre>
      <a href="https://doi.org/10.1000/1">a source</a>
      <img src="../assets/images/logo.svg"><img src="data:image/png;base64,AA==">
    </body></html>"""
    problems = "\n".join(html_problems("t.html", page))
    for host in ("fonts.googleapis.com", "cdn.jsdelivr.net", "tracker.example", "img.example",
                 "bg.example", "GitHub API", "unpkg.com"):
        assert host in problems, host
    assert "doi.org" not in problems and "elsewhere.example" not in problems
    assert "logo.svg" not in problems and "data:" not in problems
    assert sum("img.example" in line for line in problems.splitlines()) == 2


def test_mkdocs_build_loads_nothing_third_party(built_site: Path) -> None:
    problems = site_problems(built_site)
    assert problems == [], "\n".join(problems)


@pytest.mark.engines
def test_zensical_build_loads_nothing_third_party(zensical_site: Path) -> None:
    problems = site_problems(zensical_site)
    assert problems == [], "\n".join(problems)
