"""Search trimming: the indexer reads less, and nothing else changes.

:mod:`citereview.searchtrim` hands Material's search plugin each page without the markup
marked ``data-search-exclude`` (citations, previews, the flag notice, the References list),
then restores it. The claim is strong: the built site, search index included, is
byte-for-byte what it would be without trimming. The main test builds a copy of the real
project twice in this process, once with trimming switched off, and compares every file.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from citereview.mkdocs import searchtrim
from tests.conftest import ROOT
from tests.sitetools import copy_project

FIXTURES = ROOT / "tests" / "fixtures" / "citations"

# A page with citations everywhere an author may put them, including places where the
# extension must keep an element (headings, citation-needed markers) or leave the text alone
# (raw HTML), so both shapes of citation markup go through the trimming.
PLACEMENT_PAGE = """\
# Placement test [@zanos2016nmdar]

Ketamine blocks NMDA receptors [@zarate2006randomized]. Repeated [see @zarate2006randomized, p. 3 & table 2; @zanos2016nmdar].

## Findings in a heading [@zanos2016nmdar]

| Outcome | Source |
| --- | --- |
| Response | Faster than placebo [@zarate2006randomized] |

!!! note "In an admonition"

    A claim inside an admonition [citation needed].

<div class="raw">Raw HTML keeps the source text [@zarate2006randomized].</div>

A footnote carries a citation too.[^1]

[^1]: The footnote's source [@zanos2016nmdar].
"""


def _site_files(site: Path) -> dict[str, bytes]:
    return {p.relative_to(site).as_posix(): p.read_bytes() for p in sorted(site.rglob("*")) if p.is_file()}


def _build_in_process(project: Path, site_dir: Path) -> None:
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    config = load_config(config_file=str(project / "test.yml"), site_dir=str(site_dir))
    build(config)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the real project with the placement page added (outside the nav)."""
    bib = (ROOT / "docs" / "bibliography.yaml").read_text(encoding="utf-8")
    for key in ("zarate2006randomized", "zanos2016nmdar"):
        if f"- id: {key}\n" not in bib:
            pytest.fail(f"the test page cites {key}, which the bibliography no longer has")
    root = copy_project(tmp_path / "project")
    (root / "docs" / "placement.md").write_text(PLACEMENT_PAGE, encoding="utf-8")
    (root / "test.yml").write_text("INHERIT: mkdocs.yml\nnot_in_nav: |\n  /placement.md\n", encoding="utf-8")
    monkeypatch.chdir(root)  # pymdownx.snippets resolves includes/ against the working directory
    monkeypatch.setenv("NO_MKDOCS_2_WARNING", "1")
    # The plugin sets the build state for the extension; restore it for later tests.
    from citereview.mdext.state import STATE

    monkeypatch.setattr(STATE, "base_dir", STATE.base_dir)
    monkeypatch.setattr(STATE, "use_directory_urls", STATE.use_directory_urls)
    return root


def test_trimming_changes_no_file_of_the_built_site(project: Path, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    handed: dict[str, str] = {}
    real_before = searchtrim.before_indexing

    def spy(page, prefix: str = "ke-") -> None:
        real_before(page, prefix)
        handed[page.file.src_uri] = page.content

    monkeypatch.setattr(searchtrim, "before_indexing", spy)
    _build_in_process(project, tmp_path / "trimmed")
    monkeypatch.setattr(searchtrim, "before_indexing", real_before)
    # Control: the same build with trimming switched off.
    monkeypatch.setattr(searchtrim, "trim", lambda content, prefix="ke-": None)
    _build_in_process(project, tmp_path / "full")

    # Trimming really happened, and took out what it promises to.
    placement = handed["placement.md"]
    assert searchtrim.MARK in placement
    for marker in ("ke-cite", "ke-flags", "ke-references", "ke-cite__tip"):
        assert marker not in placement, marker
    assert "Raw HTML keeps the source text [@zarate2006randomized]." in placement
    assert sum(searchtrim.MARK in text for text in handed.values()) >= 6, "content pages were not trimmed"

    trimmed, full = _site_files(tmp_path / "trimmed"), _site_files(tmp_path / "full")
    assert trimmed.keys() == full.keys()
    differing = [name for name in trimmed if trimmed[name] != full[name] and not name.endswith(".gz")]
    assert differing == []
    # The placement page kept all its citation markup.
    page = (tmp_path / "trimmed" / "placement" / "index.html").read_text(encoding="utf-8")
    assert page.count('class="ke-cite"') >= 5 and 'id="needed-1"' in page and 'id="references"' in page
    # Citations in headings stay out of anchors, the TOC and the page title.
    assert '<h2 id="findings-in-a-heading">' in page and '<h1 id="placement-test">' in page
    assert "<title>Placement test - " in page
    toc = page[page.index('aria-label="Table of contents"'):]
    toc = toc[: toc.index("</nav>")]
    assert '<span class="md-ellipsis">\n      \n        Findings in a heading\n' in toc
    assert "ke-cite" not in toc and "Zanos" not in toc


def test_search_index_leaves_out_citation_markup(built_site: Path) -> None:
    """Results lead to prose: no citation numbers, previews, notices or per-page lists."""
    docs = json.loads((built_site / "search" / "search_index.json").read_text(encoding="utf-8"))["docs"]
    content = [d for d in docs if d["location"].startswith(("mechanism/", "risks/", "routes/"))]
    assert content, "content pages missing from the index"
    for doc in content:
        assert not doc["location"].endswith("#references"), doc["location"]
        for noise in ("Not yet reviewed", "Sources still being checked", "Cited at", "<sup>"):
            assert noise not in doc["text"], (doc["location"], noise)
    # The site-wide References page is where the bibliography is searchable.
    bib_text = " ".join(d["text"] for d in docs if d["location"].startswith("references/"))
    assert "Zarate" in bib_text and "Not yet reviewed" in bib_text
    # ... but not the pages citing each entry, nor each entry's count of checked claims
    # (they once reached the index: the count's closing tag ended the exclusion early).
    assert "Cited on" not in bib_text and "Not cited on any page" not in bib_text
    assert bib_text.count("Claims verified by a reviewer") == 1  # the page's summary only


@pytest.mark.parametrize("name", sorted(p.stem for p in FIXTURES.glob("*.html")))
def test_restore_returns_the_page_exactly(name: str) -> None:
    """On every golden page: the trimmed copy holds none of our markup; restoring is exact."""
    html = (FIXTURES / f"{name}.html").read_text(encoding="utf-8")
    trimmed = searchtrim.trim(html)
    if not any(marker in html for marker in ("ke-cite", "ke-flags", "ke-ref__back")):
        assert trimmed is None
        return
    assert trimmed is not None
    for marker in ('class="ke-cite', "ke-flags", "ke-references", "ke-cite__tip", "ke-ref__back"):
        assert marker not in trimmed.content, marker
    assert trimmed.restore(trimmed.content) == html


def test_pages_without_citations_or_with_our_marker_are_left_alone() -> None:
    assert searchtrim.trim("<p>No citations here.</p>") is None
    page = '<p>An author wrote <!--ke--> <sup class="ke-cite" data-search-exclude="">1</sup></p>'
    assert searchtrim.trim(page) is None


def test_an_unclosed_lookalike_is_left_in_and_later_pieces_still_cut() -> None:
    """Author HTML that starts like our markup but never closes is indexed as it is."""
    page = ('<div class="admonition ke-flags-like">no end here <p>Claim'
            '<sup class="ke-cite" data-search-exclude="">1<span>tip</span></sup>.</p>')
    trimmed = searchtrim.trim(page)
    assert trimmed is not None
    assert trimmed.content == ('<div class="admonition ke-flags-like">no end here <p>Claim'
                               f"{searchtrim.MARK}.</p>")
    assert trimmed.restore(trimmed.content) == page


def test_lost_markers_fall_back_to_the_original(caplog: pytest.LogCaptureFixture) -> None:
    original = '<p>Claim<sup class="ke-cite" data-search-exclude="">1</sup>.</p>'
    trimmed = searchtrim.trim(original)
    assert trimmed is not None
    with pytest.raises(ValueError):
        trimmed.restore(trimmed.content.replace(searchtrim.MARK, ""))

    class Page:
        content = original

        class file:  # noqa: N801 - stands in for MkDocs' File
            src_uri = "claims.md"

    page = Page()
    searchtrim.before_indexing(page)
    assert page.content == trimmed.content
    page.content = page.content.replace(searchtrim.MARK, "")  # another plugin rewrote the page
    with caplog.at_level(logging.WARNING, logger="mkdocs.extensions.citereview"):
        searchtrim.after_indexing(page)
    assert page.content == original
    assert "claims.md" in caplog.text and "could not restore" in caplog.text


def test_engines_without_hooks_still_get_the_exclusion_attributes(built_site: Path) -> None:
    """Zensical runs no hooks: the markup itself must say what to leave out of search."""
    page = (built_site / "mechanism" / "index.html").read_text(encoding="utf-8")
    assert 'class="ke-cite" data-search-exclude=""' in page
    assert 'class="ke-references-title" data-search-exclude=""' in page


def test_compact_pages_change_no_file_and_keep_citation_markup_out_of_held_pages(
        project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``compact_pages`` (on in mkdocs.yml): between conversion and rendering, and after the
    page is written, ``page.content`` holds tokens where citations and the References list
    go; each page is expanded just before it is indexed and rendered, to the same bytes."""
    from citereview.mdext import processors
    from citereview.mdext.state import STATE
    from citereview.mkdocs.plugin import CiteReviewPlugin

    expanded: dict[str, tuple[str, str]] = {}
    real_expand = processors.expand_late

    def spy_expand(text: str, late: processors.LatePage) -> str:
        out = real_expand(text, late)
        expanded[str(len(expanded))] = (text, out)
        return out

    written: list = []
    real_post_page = CiteReviewPlugin.on_post_page

    def spy_post_page(self, output, page, config):
        written.append(page)
        return real_post_page(self, output, page, config)

    monkeypatch.setattr(processors, "expand_late", spy_expand)
    monkeypatch.setattr(CiteReviewPlugin, "on_post_page", spy_post_page)
    _build_in_process(project, tmp_path / "compact")
    monkeypatch.setattr(processors, "expand_late", real_expand)
    monkeypatch.setattr(CiteReviewPlugin, "on_post_page", real_post_page)

    assert len(expanded) >= 6, "content pages were not kept compact"
    for compact, full in expanded.values():
        # Citations in the text and the References list are tokens (those in headings and
        # citation-needed markers are elements from the start).
        assert "\x02kecite:" in compact and "\x02keblock:" in compact and 'class="ke-ref ' not in compact
        assert "\x02ke" not in full and 'class="ke-ref ' in full
        assert full.count('class="ke-cite"') > compact.count('class="ke-cite"')
    held = [p for p in written if p.content and "\x02kecite:" in p.content]
    assert len(held) == len(expanded), "written pages did not return to their compact form"
    placement = next(p for p in written if p.file.src_uri == "placement.md")
    assert 'class="ke-cite"' in placement.content  # headings and markers need elements: rendered at once

    # Control: the same build with citations rendered during conversion.
    real_on_config = CiteReviewPlugin.on_config

    def not_compact(self, config):
        config = real_on_config(self, config)
        STATE.late = False
        return config

    monkeypatch.setattr(CiteReviewPlugin, "on_config", not_compact)
    _build_in_process(project, tmp_path / "full")
    compact_files, full_files = _site_files(tmp_path / "compact"), _site_files(tmp_path / "full")
    assert compact_files.keys() == full_files.keys()
    assert [n for n in compact_files if compact_files[n] != full_files[n] and not n.endswith(".gz")] == []
    assert not STATE.late  # conversions after the build render citations at once
