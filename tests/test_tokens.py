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
