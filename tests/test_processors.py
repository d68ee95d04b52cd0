"""Unit tests of each processor in :mod:`citereview.mdext.processors`, called directly.

The golden files (``fixtures/processors/<processor>/``) show what a page becomes; these pin
each processor's own contract: what it takes, what it hands on, what it leaves alone. All
on the package's fixture bibliography and with the package's default options.
"""

from __future__ import annotations

import logging
import xml.etree.ElementTree as etree
from collections.abc import Iterator
from pathlib import Path

import markdown
import pytest

from citereview.mdext.extension import CiteReviewExtension
from citereview.mdext.processors import (
    CitationTokens,
    CitationTree,
    MarkerBlock,
    PageChecks,
    RestoreTokens,
)
from citereview.mdext.state import STATE, current_page
from citereview.mdext.tokens import BLOCK, CITE, CITE_RE

from .test_citations_golden import BIBLIOGRAPHY

LOGGER = "mkdocs.extensions.citereview"


@pytest.fixture
def docs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty docs folder in a working directory with no mkdocs.yml."""
    folder = tmp_path / "docs"
    folder.mkdir()
    monkeypatch.chdir(tmp_path)
    STATE.clear()
    yield folder
    STATE.clear()


def make_md(docs: Path, **options) -> markdown.Markdown:
    return markdown.Markdown(extensions=["toc", "citereview"], extension_configs={"citereview": {
        "bibliography": str(BIBLIOGRAPHY), "docs_dir": str(docs), **options}})


def processor(md: markdown.Markdown, kind: type):
    """The registered instance of one processor class."""
    registries = (md.preprocessors, md.parser.blockprocessors, md.treeprocessors, md.postprocessors)
    found = [p for registry in registries for p in registry if isinstance(p, kind)]
    assert len(found) == 1, found
    return found[0]


def extension(md: markdown.Markdown) -> CiteReviewExtension:
    return processor(md, CitationTokens).ext


# -- PageChecks (preprocessor, 30) ---------------------------------------------------------

def test_page_checks_strips_front_matter_and_keeps_the_rest(docs: Path) -> None:
    md = make_md(docs)
    lines = ["---", "title: T", "---", "# Body", "text"]
    assert processor(md, PageChecks).run(lines) == ["# Body", "text"]


@pytest.mark.parametrize("lines", [
    ["# No front matter", "---", "a: b", "---"],   # a rule later on is not front matter
    ["---", "title: never closed", "", "text"],     # unclosed: left as written
    [],
])
def test_page_checks_leaves_pages_without_front_matter_alone(docs: Path, lines: list[str]) -> None:
    assert processor(make_md(docs), PageChecks).run(list(lines)) == lines


@pytest.mark.parametrize(("front", "line", "message"), [
    ("title: [unclosed", 2, "malformed front matter"),
    ("- a list", 2, "front matter must be a mapping"),
])
def test_page_checks_reports_bad_front_matter_without_a_source_file(
        docs: Path, caplog: pytest.LogCaptureFixture, front: str, line: int, message: str) -> None:
    """Plain Python-Markdown (no page known): the problem is reported once, at <page>:line,
    as a warning (so --strict fails), and the front matter is still kept off the page."""
    md = make_md(docs)
    with caplog.at_level(logging.INFO, logger=LOGGER):
        out = processor(md, PageChecks).run(["---", front, "---", "body"])
    assert out == ["body"]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert warnings[0].startswith(f"<page>:{line}") and message in warnings[0]


def test_page_checks_reports_the_source_files_findings_with_file_and_line(
        docs: Path, caplog: pytest.LogCaptureFixture) -> None:
    (docs / "page.md").write_text("# Page\n\nA typo [@trial2060].\n", encoding="utf-8")
    md = make_md(docs)
    token = current_page.set("page.md")
    try:
        with caplog.at_level(logging.INFO, logger=LOGGER):
            processor(md, PageChecks).run(["# Page", "", "A typo [@trial2060]."])
    finally:
        current_page.reset(token)
    messages = [r.getMessage() for r in caplog.records]
    assert any(m.startswith(f"{docs}/page.md:3:8: error: unknown citation key 'trial2060'") for m in messages), messages


# -- MarkerBlock (block processor, 110) ----------------------------------------------------

@pytest.mark.parametrize(("block", "is_marker"), [
    ("[bibliography]", True),
    ("[Bibliography]", True),
    ("   [review-queue]  ", True),
    ("    [bibliography]", False),          # indented code
    ("\t[bibliography]", False),
    ("[bibliography] and text", False),
    ("see [bibliography]", False),
    ("[bibliographies]", False),
    ("[bibliography]\n[review-queue]", False),
    ("x" * 200, False),
])
def test_marker_block_test(docs: Path, block: str, is_marker: bool) -> None:
    marker = processor(make_md(docs), MarkerBlock)
    assert marker.test(etree.Element("div"), block) is is_marker


def test_marker_block_run_consumes_the_block_and_defers_the_list(docs: Path) -> None:
    md = make_md(docs)
    extension(md).reset()
    parent = etree.Element("div")
    blocks = ["[bibliography]", "next block"]
    processor(md, MarkerBlock).run(parent, blocks)
    assert blocks == ["next block"]
    assert [child.tag for child in parent] == ["p", "div"]  # a <div>, so a list after it is its own
    [listing] = list(parent[1])
    assert (listing.tag, listing.get("class")) == ("ul", "cr-bibliography")
    assert listing.text == BLOCK.format(0)
    assert "id=\"ref-trial2006\"" in extension(md).tokens.blocks[0]


def test_marker_block_review_queue(docs: Path) -> None:
    (docs / "page.md").write_text("# Page\n\nA claim [@trial2006].\n", encoding="utf-8")
    md = make_md(docs)
    parent = etree.Element("div")
    processor(md, MarkerBlock).run(parent, ["[review-queue]"])
    classes = {el.get("class") for el in parent.iter()}
    assert "cr-queue-summary" in classes and "cr-queue" in classes


# -- CitationTokens (preprocessor, 24) -----------------------------------------------------

def test_citation_tokens_leaves_text_without_citations_untouched(docs: Path) -> None:
    md = make_md(docs)
    lines = ["No at-sign here.", "[bibliography]"]
    assert processor(md, CitationTokens).run(lines) is lines
    assert extension(md).tokens.groups == []


def test_citation_tokens_replaces_groups_and_keeps_their_source(docs: Path) -> None:
    md = make_md(docs)
    out = processor(md, CitationTokens).run(
        ["A [@trial2006] and `[@rat2010]`,", "gap [Citation Needed], \\[@rat2010] [see @rat2010, p. 2]"])
    assert out == [f"A {CITE.format(0)} and `[@rat2010]`,",
                   f"gap {CITE.format(1)}, \\[@rat2010] {CITE.format(2)}"]
    tokens = extension(md).tokens
    assert tokens.sources == ["[@trial2006]", "[Citation Needed]", "[see @rat2010, p. 2]"]
    assert [g.needed for g in tokens.groups] == [False, True, False]
    assert tokens.groups[2].items[0].prefix == "see" and tokens.groups[2].items[0].suffix == "p. 2"


def test_citation_tokens_keeps_the_line_structure(docs: Path) -> None:
    """Later preprocessors and block parsing see the same lines, one token per group."""
    md = make_md(docs)
    lines = ["# T [@rat2010]", "", "    [@trial2006] code", "", "x [@trial2006]"]
    out = processor(md, CitationTokens).run(lines)
    assert len(out) == len(lines)
    assert out[2] == lines[2]
    assert [len(CITE_RE.findall(line)) for line in out] == [1, 0, 0, 0, 1]


# -- CitationTree (tree processor, 15) -----------------------------------------------------

def _tree_with_tokens(md: markdown.Markdown, text: str) -> etree.Element:
    """The tree processor's input: tokens in the text of a parsed tree."""
    extension(md).reset()
    lines = processor(md, CitationTokens).run(text.split("\n"))
    root = etree.Element("div")
    md.parser.parseChunk(root, "\n".join(lines))
    return root


def test_citation_tree_without_citations_changes_nothing(docs: Path) -> None:
    md = make_md(docs)
    root = _tree_with_tokens(md, "# Title\n\nNo citations.")
    before = etree.tostring(root)
    processor(md, CitationTree).run(root)
    assert etree.tostring(root) == before
    assert extension(md).tokens.rendered == {}


def test_citation_tree_renders_numbers_references_and_notice(docs: Path) -> None:
    md = make_md(docs)
    root = _tree_with_tokens(md, "# Title\n\nA [@rat2010], B [@trial2006], A again [@rat2010].")
    processor(md, CitationTree).run(root)
    tokens = extension(md).tokens
    assert sorted(tokens.rendered) == [0, 1, 2]  # every citation rendered, kept as a token
    assert ">1</a>" in tokens.rendered[0] and ">2</a>" in tokens.rendered[1] and ">1</a>" in tokens.rendered[2]
    assert [child.tag for child in root] == ["h1", "div", "p", "h2", "ol"]
    notice, heading, listing = root[1], root[3], root[4]
    # Three cited claims, none with a review record: all three flagged.
    assert notice.get("data-cr-flags") == "3" and "cr-flags" in notice.get("class", "")
    assert heading.get("id") == "references" and heading.text == "References"
    # The list, then the notice, as block tokens (not one element per entry).
    assert listing.text == BLOCK.format(0) and notice.text == BLOCK.format(1)
    entries = tokens.blocks[0]
    assert entries.index('id="ref-rat2010"') < entries.index('id="ref-trial2006"')


def test_citation_tree_turns_heading_citations_and_gaps_into_elements(docs: Path) -> None:
    md = make_md(docs)
    root = _tree_with_tokens(md, "## A heading [@rat2010]\n\nA gap [citation needed].")
    processor(md, CitationTree).run(root)
    sups = list(root.iter("sup"))
    assert [s.get("id") for s in sups] == ["fnref-cr-1", "needed-1"]
    assert all(s.get("class", "").startswith("cr-cite") for s in sups)
    assert CITE_RE.search(etree.tostring(root, encoding="unicode")) is None


def test_citation_tree_honours_notice_and_title_options(docs: Path) -> None:
    md = make_md(docs, notice=False, references_title="Sources", class_prefix="x-")
    root = _tree_with_tokens(md, "A [@trial2006].")
    processor(md, CitationTree).run(root)
    assert [child.tag for child in root] == ["p", "h2", "ol"]
    assert root[1].text == "Sources" and root[2].get("class") == "x-references"


# -- RestoreTokens (postprocessor, 5) ------------------------------------------------------

def test_restore_tokens_swaps_rendered_blocks_and_unrendered_citations(docs: Path) -> None:
    md = make_md(docs)
    tokens = extension(md).tokens
    tokens.sources = ["[@a]", "[see A & B @b]"]
    tokens.rendered = {0: "<sup>1</sup>"}
    block = tokens.defer("<li>entry</li>")
    restore = processor(md, RestoreTokens)
    text = f"<p>{CITE.format(0)}</p><div title=\"{CITE.format(1)}\">{block}</div>"
    assert restore.run(text) == '<p><sup>1</sup></p><div title="[see A &amp; B @b]"><li>entry</li></div>'
    assert restore.run("no tokens") == "no tokens"


def test_processors_run_in_the_documented_order(docs: Path) -> None:
    """The order the module docstring promises, relative to Python-Markdown's own steps."""
    md = make_md(docs)
    pre = {name: md.preprocessors.get_index_for_name(name)
           for name in ("citereview-front-matter", "citereview", "html_block")}
    assert pre["citereview-front-matter"] < pre["citereview"] < pre["html_block"]
    tree = [p.__class__.__name__ for p in md.treeprocessors]
    assert tree.index("InlineProcessor") < tree.index("CitationTree") < tree.index("TocTreeprocessor")
    post = [p.__class__.__name__ for p in md.postprocessors]
    assert post.index("RawHtmlPostprocessor") < post.index("RestoreTokens")
