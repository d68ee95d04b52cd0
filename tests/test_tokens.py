"""Citation tokens and block tokens never mix (the crash of issue #14: a page with
``[bibliography]`` and a citation raised IndexError, since block tokens were numbered from
the citation groups' range)."""

from __future__ import annotations

from pathlib import Path

import markdown

from citereview.mdext.state import STATE
from citereview.mdext.tokens import TokenTable

FIXTURES = Path(__file__).parent / "fixtures" / "citations"


def convert(text: str) -> str:
    STATE.clear()
    md = markdown.Markdown(extensions=["citereview"], extension_configs={"citereview": {
        "bibliography": str(FIXTURES / "bibliography.yaml"), "docs_dir": str(FIXTURES)}})
    return md.convert(text)


def test_bibliography_marker_with_citations_on_the_same_page() -> None:
    html = convert("A claim [@trial2006]. Another [citation needed].\n\n[bibliography]\n")
    assert 'class="cr-bibliography"' in html
    assert 'href="#ref-trial2006"' in html and 'id="needed-1"' in html
    assert "\x02" not in html and "\x03" not in html


def test_an_unrendered_citation_shows_its_source_and_blocks_their_html() -> None:
    table = TokenTable(sources=["[@a]"])
    block = table.defer("<p>block</p>")
    assert table.restore(f"x \x02kecite:0\x03 {block}") == "x [@a] <p>block</p>"


def test_tokenise_drops_the_backslash_of_escaped_at_signs_outside_code_only() -> None:
    """Text between groups is copied as it is unless the page escapes an ``@``: then, and
    only outside code, the backslash goes (before, between and after the groups)."""
    from citereview.mdext.tokens import tokenise

    text, groups, sources = tokenise("Mail \\@ann [@a] and \\@bob, `\\@code` [@b] \\@end")
    assert text == "Mail @ann \x02kecite:0\x03 and @bob, `\\@code` \x02kecite:1\x03 @end"
    assert [g.items[0].key for g in groups] == ["a", "b"] and sources == ("[@a]", "[@b]")
    assert tokenise("No escape [@a] here, \\[@b] nor [@c]")[0] == (
        "No escape \x02kecite:0\x03 here, \\[@b] nor \x02kecite:1\x03")
