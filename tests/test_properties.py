"""Property-based tests: the parser never crashes and never emits unescaped input."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

import markdown
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from citereview.core.bibliography import parse_bibliography
from citereview.core.syntax import parse_group, scan_source
from citereview.csl.formatter import Formatter

from .test_citations_golden import FIXTURES

MD_CHARS = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\x02\x03")
text_with_markup = st.text(
    alphabet=st.one_of(MD_CHARS, st.sampled_from(list("[]@;,-`\\<>&\"'\n*_#!:/"))), max_size=300
)


def convert(source: str) -> str:
    md = markdown.Markdown(
        extensions=["toc", "tables", "citereview"],
        extension_configs={"citereview": {
            "bibliography": str(FIXTURES / "bibliography.yaml"), "docs_dir": str(FIXTURES),
        }},
    )
    return md.convert(source)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text_with_markup)
def test_scanner_and_parser_never_crash(text: str) -> None:
    for occ in scan_source(text):
        assert occ.line >= 1 and occ.col >= 1
    parse_group(text)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text_with_markup)
def test_rendering_arbitrary_text_never_crashes(text: str) -> None:
    convert(text)


# Pages assembled from the pieces that each processor treats specially: block markers,
# citations (good, unknown, with locators), the gap marker, code spans and fences, escapes,
# raw HTML, headings, front matter, attributes; joined by spaces, newlines or blank lines so
# that markers sometimes stand alone in a paragraph and sometimes do not.
PIECES = [
    "[bibliography]", "[review-queue]", "[Bibliography]", "    [bibliography]", "[citation needed]",
    "[Citation Needed]", "[@trial2006]", "[@rat2010; @trial2006, p. 3]", "[see @nosuchkey]",
    "[-@retracted99]", "[@disputed:2018/hnk]", "`[@trial2006]`", "``[citation needed]``",
    "\\[@trial2006]", "\\\\[@rat2010]", "[\\@trial2006]", "```\n[@trial2006]\n```", "~~~",
    "# Title [@rat2010]", "## Gap [citation needed]", "<div>[@trial2006]</div>",
    "<span title=\"[@rat2010]\">x</span>", "<!-- [@trial2006] -->", "[link](u \"[@rat2010]\")",
    "---", "title: x", "- item [@trial2006]", "| a | [@rat2010] |", "@trial2006", "[", "]", "@",
    "\\", "`", "text",
]
pages = st.lists(
    st.tuples(st.one_of(st.sampled_from(PIECES), st.text(alphabet=MD_CHARS, max_size=8)),
              st.sampled_from([" ", "\n", "\n\n", ""])),
    max_size=25,
).map(lambda parts: "".join(piece + sep for piece, sep in parts))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pages)
@example("[bibliography]\n\n- item [@trial2006] ")  # a list right after the marker once raised IndexError
def test_pages_with_markers_render_without_leaking_tokens(page: str) -> None:
    """Whatever mix of markers, citations and code: no exception, and no token (STX/ETX)
    left in the output (the crash of issue #14 was a marker plus a citation)."""
    out = convert(page)
    assert "\x02" not in out and "\x03" not in out, out


# Prefix and suffix text as an author might type it; an HTML comment ("<!-- -->") is not
# text (Markdown drops it, and so does the citation scanner).
SAFE_TEXT = st.text(alphabet=st.one_of(MD_CHARS, st.sampled_from(list("<>&\"'"))), max_size=40).filter(
    lambda s: not re.search(r"[\[\]@;\n\r`\\]|<!--", s)
)


class _TextCollector(HTMLParser):
    """Collects the tags of the markup inside the citation, to prove no input became a tag."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []

    def handle_starttag(self, tag, attrs) -> None:
        self.tags.append(tag)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(prefix=SAFE_TEXT, suffix=SAFE_TEXT)
def test_prefix_and_suffix_are_escaped(prefix: str, suffix: str) -> None:
    out = convert(f"x [{prefix} @trial2006, {suffix}] y")
    sup = re.search(r"<sup class=\"cr-cite\"[^>]*>.*?</sup>", out, re.S)
    assert sup, out
    parser = _TextCollector()
    parser.feed(sup.group(0))
    assert set(parser.tags) <= {"sup", "span", "a", "i"}
    text = html.unescape(re.sub(r"<[^>]+>", "", sup.group(0)))
    if prefix.strip():  # the prefix survives as text (Markdown expands tabs, so fold spaces)
        assert " ".join(prefix.split()) in " ".join(text.split())


@settings(max_examples=200, deadline=None)
@given(title=st.text(min_size=1, max_size=80), family=st.text(min_size=1, max_size=30))
def test_bibliography_values_are_escaped(title: str, family: str) -> None:
    import yaml

    doc = yaml.safe_dump({"references": [{
        "id": "x", "type": "article-journal", "title": title, "evidence": "other",
        "author": [{"family": family, "given": "A"}], "container-title": "J",
    }]})
    bib = parse_bibliography(doc)
    ref = bib.get("x")
    assert ref is not None
    formatted = Formatter().format(ref, digest=str(hash((title, family))))
    parser = _TextCollector()
    parser.feed(formatted.html)
    assert set(parser.tags) <= {"i", "b", "a", "span", "sup", "sub"}
    assert "<script" not in formatted.html.lower()


# -- token order: the itertext fast path against the full tree walk ----------------------

_TAGS = ["p", "em", "strong", "a", "li", "ul", "div", "table", "td", "span", "h2"]


@st.composite
def token_trees(draw: st.DrawFn, depth: int = 0):
    """Random element trees with citation tokens scattered over texts and tails."""
    from xml.etree import ElementTree as etree

    from citereview.mdext.tokens import CITE as TOKEN

    counter = draw(st.shared(st.just([0]), key="counter"))

    def text() -> str | None:
        pieces = []
        for _ in range(draw(st.integers(0, 2))):
            pieces.append(draw(st.sampled_from(["", "word ", "x"])))
            if draw(st.booleans()):
                pieces.append(TOKEN.format(counter[0]))
                counter[0] += 1
        return "".join(pieces) or None

    el = etree.Element(draw(st.sampled_from(_TAGS)))
    el.text = text()
    if depth < 3:
        for _ in range(draw(st.integers(0, 3))):
            child = draw(token_trees(depth + 1))
            child.tail = text()
            el.append(child)
    return el


@settings(max_examples=300, deadline=None)
@given(token_trees())
def test_token_order_fast_path_matches_the_walk(root) -> None:
    """Document order from ``itertext`` is the order the recursive walk finds; with no
    heading and nothing needing an element, the fast path leaves the tree untouched."""
    import copy
    from xml.etree import ElementTree as etree

    from citereview.mdext.processors import _token_sites, _walk_token_sites

    before = etree.tostring(root)
    walked = _walk_token_sites(copy.deepcopy(root), lambda index: False)
    fast = _token_sites(root, lambda index: False)
    in_heading = any(h for _, _, h in walked)
    if not in_heading:
        assert fast == walked
        assert etree.tostring(root) == before
    else:  # a heading holds a token: the walk is taken, and gives elements for it
        assert [i for i, _, _ in fast] == [i for i, _, _ in walked]
