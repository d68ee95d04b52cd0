"""Where in a page a citation can be rendered, and where it cannot.

Python-Markdown passes some text through untouched: raw HTML blocks, attribute values
(an HTML tag's, an image's alt text, a link's title, an ``attr_list``), abbreviation
definitions. A ``[@key]`` there would reach readers as literal brackets while the site
counted it (References page "cited on", review queue, notices). So the citation scanner asks
this module first: a group in such a place is not a citation of the page but an error at
its ``file:line`` (``cite-unrendered`` in :mod:`.findings`), and the extension leaves it
alone. The rules follow Python-Markdown 3's own (``markdown.htmlparser``: a block-level tag
at the start of a line, up to three spaces in, opens a raw block that ends with the line
of its matching end tag; with ``md_in_html`` a ``markdown`` attribute makes the content
Markdown again), read here with the standard library's HTML parser, since the core knows
no Markdown.

A citation in a link's *text* is rendered: the extension moves it just after the link, so
that its number's own link is not nested in another (``<a>`` inside ``<a>`` is invalid HTML).
"""

from __future__ import annotations

import bisect
import re
from html.parser import HTMLParser

#: Python-Markdown's block-level elements (``Markdown.block_level_elements``, 3.x).
BLOCK_LEVEL = frozenset(
    """address article aside blockquote details div dl fieldset figcaption figure footer form h1 h2 h3 h4
    h5 h6 header hgroup hr main menu nav ol p pre section table ul canvas colgroup dd body dt group html
    iframe li legend math map noscript output object option progress script style summary tbody td
    textarea tfoot th thead tr video center""".split())
VOID = frozenset("area base br col embed hr img input link meta param source track wbr".split())

#: Line-level places where Markdown keeps text as an attribute or a definition, as
#: (context, pattern for the line's text before the group, pattern for the text after it).
#: Each "before" pattern needs one of :data:`_LINE_MARKS` in the text it matches.
_LINE_RULES: tuple[tuple[str, re.Pattern[str], re.Pattern[str] | None], ...] = (
    ("an abbreviation definition", re.compile(r"^\*\[[^\]]*\][ ]?:"), None),
    ("a link definition's title", re.compile(r"^[ ]{0,3}\[[^\]]+\]:\s*\S+\s+[\"'(]"), None),
    ("an image's alt text", re.compile(r"!\[[^\[\]]*$"), re.compile(r"^[^\[\]]*\]")),
    ("a link's title", re.compile(r"\]\([^()\s]*\s+[\"'][^\"'\n]*$"), None),
    ("an attribute list", re.compile(r"\{:?[^{}\n]*=\s*[\"'][^\"'\n]*$"), re.compile(r"^[^{}\n]*\}")),
)
#: What each rule's "before" pattern cannot match without (``*[``, ``[…]:``, ``![``, ``](``,
#: ``{``): where the line holds none of them before a group, or the page none at all, no
#: pattern need run. Most citations stand in plain prose, where the five searches were most
#: of the check.
_LINE_MARKS = ("*[", "]:", "![", "](", "{")


class _HtmlPlaces(HTMLParser):
    """Offsets of every tag's own text, and of every raw HTML block, in one text."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=False)
        self.text = text
        self.line_starts = [0] + [m.end() for m in re.finditer("\n", text)]
        self.tags: list[tuple[int, int]] = []
        self.raw: list[tuple[int, int]] = []
        self._stack: list[str] = []
        self._start = 0

    def _pos(self) -> int:
        line, col = self.getpos()
        return self.line_starts[line - 1] + col

    def _line_end(self, pos: int) -> int:
        end = self.text.find("\n", pos)
        return len(self.text) if end == -1 else end

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        pos = self._pos()
        self.tags.append((pos, pos + len(self.get_starttag_text() or "")))
        if tag in VOID:
            return
        if self._stack:
            self._stack.append(tag)
            return
        line_start = self.text.rfind("\n", 0, pos) + 1
        at_line_start = pos - line_start <= 3 and not self.text[line_start:pos].strip()
        markdown = any(name == "markdown" and value != "0" for name, value in attrs)
        if tag in BLOCK_LEVEL and at_line_start and not markdown:
            self._stack, self._start = [tag], pos

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        pos = self._pos()
        self.tags.append((pos, pos + len(self.get_starttag_text() or "")))

    def handle_endtag(self, tag: str) -> None:
        if tag in self._stack:
            while self._stack.pop() != tag:
                pass
            if not self._stack:  # the rest of the end tag's line belongs to the block too
                self.raw.append((self._start, self._line_end(self._pos())))

    def close(self) -> None:
        super().close()
        if self._stack:  # never closed: raw to the end, as Python-Markdown stashes it
            self.raw.append((self._start, len(self.text)))
            self._stack = []


class Places:
    """Answers "is the text at this offset rendered as Markdown?" for one masked text."""

    def __init__(self, masked: str) -> None:
        self.text = masked
        self._html: _HtmlPlaces | None = None
        #: The line rules' marks the page holds, and whether it holds a ``<`` (no tag, no raw
        #: HTML without one): asked once, not for every group.
        self._marks = tuple(mark for mark in _LINE_MARKS if mark in masked)
        self._has_html = "<" in masked

    def _html_places(self) -> _HtmlPlaces:
        if self._html is None:
            self._html = _HtmlPlaces(self.text)
            if re.search(r"<[A-Za-z]", self.text):
                try:
                    self._html.feed(self.text)
                    self._html.close()
                except AssertionError:
                    # The standard library's parser gives up on some declarations
                    # (``<![alt …`` is read as a marked section with an unknown keyword).
                    # Keep the places found before that point: the checker must report the
                    # page's citations, not stop with a traceback. (MkDocs' own parser fails
                    # on the same text, naming the page.)
                    pass
        return self._html

    def unrendered(self, start: int, end: int) -> str | None:
        """Why the text at ``start:end`` is not rendered (a place, for messages), else ``None``."""
        if self._marks:
            text = self.text
            line_start = text.rfind("\n", 0, start) + 1
            before = text[line_start:start]
            if any(mark in before for mark in self._marks):
                line_end = text.find("\n", end)
                after = text[end: len(text) if line_end == -1 else line_end]
                for context, before_re, after_re in _LINE_RULES:
                    if before_re.search(before) and (after_re is None or after_re.search(after)):
                        return context
        if not self._has_html:
            return None
        html = self._html_places()
        if _inside(html.tags, start):
            return "an HTML tag's attribute"
        if _inside(html.raw, start):
            return "a raw HTML block"
        return None


def _inside(spans: list[tuple[int, int]], pos: int) -> bool:
    """Whether ``pos`` lies in one of ``spans`` (sorted by start, not overlapping)."""
    i = bisect.bisect_right(spans, (pos, float("inf"))) - 1
    return i >= 0 and spans[i][0] <= pos < spans[i][1]
