"""The strict MkDocs build of the real project, and what every built page must carry.

A site about a drug has to fail loudly rather than ship a broken link, and every page (the
404 page too) must tell readers that it is not medical advice and where to get help in a
crisis. These tests read the real built HTML with ``html.parser``; nothing is mocked.

The small HTML tree lives in ``tests/sitetools.py``, shared with the other site tests.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import urljoin, urlparse

import pytest
import yaml

from tests.conftest import ROOT, build_site, site_pages
from tests.sitetools import (
    REPO_URL,
    SITE_URL,
    Element,
    content_pages,
    copy_project,
    page_url,
    parse_html,
    tree_digest,
)

# --- the strict build ---------------------------------------------------------------------

def test_strict_build_is_clean_and_leaves_sources_untouched(tmp_path: Path) -> None:
    """``mkdocs build --strict`` passes with no WARNING and never writes into the sources."""
    before = {name: tree_digest(ROOT / name) for name in ("docs", "overrides", "includes")}
    proc = build_site(tmp_path / "site")
    assert proc.returncode == 0, proc.stdout
    warnings = [line for line in proc.stdout.splitlines() if "WARNING" in line]
    assert warnings == [], "\n".join(warnings)
    assert (tmp_path / "site" / "index.html").is_file()
    after = {name: tree_digest(ROOT / name) for name in ("docs", "overrides", "includes")}
    assert after == before, "the build wrote into the source tree"


def _build_with_page(tmp_path: Path, name: str, body: str) -> tuple[int, list[str]]:
    """Build a project copy with one extra page; return the exit code and WARNING lines."""
    project = copy_project(tmp_path / "project")
    (project / "docs" / name).write_text(f"# Test page\n\n{body}\n", encoding="utf-8")
    # Keep the extra page out of the nav without tripping `omitted_files: warn`, so the only
    # reason for a warning is the link itself.
    (project / "test.yml").write_text(
        f"INHERIT: mkdocs.yml\nnot_in_nav: |\n  /{name}\n", encoding="utf-8")
    proc = build_site(tmp_path / "out", config=project / "test.yml", cwd=project)
    return proc.returncode, [line for line in proc.stdout.splitlines() if "WARNING" in line]


def test_valid_extra_page_builds(tmp_path: Path) -> None:
    """Control for the two tests below: a page with good links builds strictly."""
    code, warnings = _build_with_page(tmp_path, "extra-page.md",
                                      "[ok](mechanism.md) and [self](#test-page)")
    assert code == 0 and warnings == [], "\n".join(warnings)


@pytest.mark.parametrize(
    ("name", "body", "target"),
    [
        ("broken-link.md", "[x](nowhere.md)", "nowhere.md"),
        ("broken-anchor.md", "[y](mechanism.md#no-such-heading)", "no-such-heading"),
    ],
)
def test_broken_internal_link_fails_strict_build(tmp_path: Path, name: str, body: str,
                                                 target: str) -> None:
    """A broken link or anchor fails the strict build, naming the page and the target."""
    code, warnings = _build_with_page(tmp_path, name, body)
    assert code != 0, "strict build passed despite a broken link"
    assert any(name in line and target in line for line in warnings), "\n".join(warnings)


# --- what the built site contains ---------------------------------------------------------

def _source_pages() -> list[str]:
    """Markdown sources that become pages (docs/*.md, nested ones too)."""
    return sorted(p.relative_to(ROOT / "docs").as_posix() for p in (ROOT / "docs").rglob("*.md"))


def _expected_output(src: str) -> str:
    stem = src[: -len(".md")]
    if stem == "index" or stem.endswith("/index"):
        return stem + ".html"
    return stem + "/index.html"


def test_every_source_becomes_a_page(built_site: Path) -> None:
    built = {p.as_posix() for p in content_pages(built_site)}
    assert built == {_expected_output(src) for src in _source_pages()}


def test_sitemap_lists_every_page_with_site_url(built_site: Path) -> None:
    tree = ET.parse(built_site / "sitemap.xml")
    ns = {"sm": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    locs = {loc.text for loc in tree.getroot().findall("sm:url/sm:loc", ns)}
    expected = {SITE_URL + page_url(p) for p in content_pages(built_site)}
    assert locs == expected


def _search_excluded(src: str) -> bool:
    """Whether a page's front matter opts it out of search (``search: exclude: true``)."""
    text = (ROOT / "docs" / src).read_text(encoding="utf-8")
    match = re.match(r"---\n(.*?)\n---\n", text, re.S)
    meta = yaml.safe_load(match.group(1)) if match else None
    return bool(((meta or {}).get("search") or {}).get("exclude"))


def test_404_and_search_index_exist(built_site: Path) -> None:
    """The 404 page exists; the search index covers every page not opted out of search."""
    assert (built_site / "404.html").is_file()
    index = json.loads((built_site / "search" / "search_index.json").read_text(encoding="utf-8"))
    locations = {doc["location"].split("#")[0] for doc in index["docs"]}
    for src in _source_pages():
        url = page_url(Path(_expected_output(src)))
        if _search_excluded(src):
            assert url not in locations, f"{src} opts out of search but is indexed"
        else:
            assert url in locations, f"{src} is missing from the search index"


@pytest.fixture(scope="module")
def parsed_pages(built_site: Path) -> dict[str, Element]:
    return {p.as_posix(): parse_html((built_site / p).read_text(encoding="utf-8"))
            for p in site_pages(built_site)}


def test_every_page_has_its_edit_link(built_site: Path, parsed_pages: dict[str, Element]) -> None:
    by_output = {_expected_output(src): src for src in _source_pages()}
    for page, doc in parsed_pages.items():
        if page == "404.html":
            continue
        expected = f"{REPO_URL}/edit/main/docs/{by_output[page]}"
        hrefs = {a.attrs.get("href") for a in doc.find_all("a")}
        assert expected in hrefs, f"{page}: no edit link {expected}"


def test_every_page_has_the_safety_notices(parsed_pages: dict[str, Element]) -> None:
    """The crisis bar and the not-medical-advice notice are on every page, 404 included."""
    assert "404.html" in parsed_pages
    for page, doc in parsed_pages.items():
        bars = doc.find_all(cls="ke-safety-bar")
        assert bars, f"{page}: no .ke-safety-bar"
        assert "988" in bars[0].text() and "Not medical advice" in bars[0].text(), page
        assert any(a.attrs.get("href") == "tel:988" for a in bars[0].find_all("a")), page
        notices = doc.find_all(cls="ke-safety-notice")
        assert len(notices) == 1, f"{page}: {len(notices)} .ke-safety-notice elements"
        assert "not medical advice" in notices[0].text(), page
        assert "988" in notices[0].text(), page


def _resolve(site: Path, page: str, ref: str) -> Path:
    """The file a page-relative (or site-absolute) reference points at in the built site."""
    base = SITE_URL + page_url(Path(page))
    path = urlparse(urljoin(base, ref)).path
    prefix = urlparse(SITE_URL).path
    assert path.startswith(prefix), f"{page}: {ref} leaves the site"
    return site / path[len(prefix):]


def test_logo_favicon_and_print_stylesheet(built_site: Path,
                                           parsed_pages: dict[str, Element]) -> None:
    """Our own SVG logo and favicon (not Material's), and print.css, on every page."""
    logo = (ROOT / "docs/assets/images/logo.svg").read_bytes()
    favicon = (ROOT / "docs/assets/images/favicon.svg").read_bytes()
    for page, doc in parsed_pages.items():
        logos = [img for a in doc.find_all("a", cls="md-logo") for img in a.find_all("img")]
        assert logos, f"{page}: no header logo"
        for img in logos:
            assert _resolve(built_site, page, img.attrs["src"]).read_bytes() == logo, page
        icons = [link for link in doc.find_all("link") if link.attrs.get("rel") == "icon"]
        assert len(icons) == 1, page
        assert _resolve(built_site, page, icons[0].attrs["href"]).read_bytes() == favicon, page
        sheets = [link.attrs["href"] for link in doc.find_all("link")
                  if link.attrs.get("rel") == "stylesheet"]
        prints = [s for s in sheets if s.endswith("assets/stylesheets/print.css")]
        assert prints, f"{page}: print stylesheet not linked"
        assert _resolve(built_site, page, prints[0]).is_file()


def test_hosting_headers_file_is_published(built_site: Path) -> None:
    """docs/_headers is copied verbatim into the site for Netlify and Cloudflare Pages."""
    assert (built_site / "_headers").read_bytes() == (ROOT / "docs/_headers").read_bytes()


def _css_selectors(css: str) -> set[str]:
    """Every selector of a stylesheet (comments dropped, whitespace folded), @media included."""
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    return {" ".join(sel.split()) for block in re.findall(r"([^{}@]+)\{[^{}]*\}", css)
            for sel in block.split(",") if sel.strip()}


def test_citation_styles_come_from_the_package(built_site: Path,
                                               parsed_pages: dict[str, Element]) -> None:
    """The package's stylesheet (ke- prefix) is published and linked before extra.css on
    every page; extra.css repeats none of its selectors (only this site's own styles)."""
    from citereview.mdext.stylesheet import stylesheet

    published = built_site / "assets/citereview/citereview.css"
    assert published.read_text(encoding="utf-8") == stylesheet("ke-")
    package = _css_selectors(stylesheet("ke-"))
    assert ".md-typeset sup.ke-cite" in package
    extra = _css_selectors((ROOT / "docs/assets/stylesheets/extra.css").read_text(encoding="utf-8"))
    assert not (extra & package - {":root", '[data-md-color-scheme="slate"]'})
    for page, doc in parsed_pages.items():
        sheets = [link.attrs["href"] for link in doc.find_all("link") if link.attrs.get("rel") == "stylesheet"]
        ours = [i for i, s in enumerate(sheets) if s.endswith("assets/citereview/citereview.css")]
        theirs = [i for i, s in enumerate(sheets) if s.endswith("assets/stylesheets/extra.css")]
        assert len(ours) == 1 and len(theirs) == 1 and ours[0] < theirs[0], f"{page}: {sheets}"
        assert _resolve(built_site, page, sheets[ours[0]]) == published
