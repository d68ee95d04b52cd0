"""Tokens: placeholders that stand for finished HTML until the last postprocessor.

Two kinds, told apart by their text so that one can never be mistaken for the other:

* a **citation** token ``\\x02kecite:N\\x03`` stands for citation group N of the page (set
  by the preprocessor, numbered and rendered by the tree processor);
* a **block** token ``\\x02keblock:N\\x03`` stands for a block of HTML handed out by
  :meth:`TokenTable.defer` (a References list, the flag notice, the bibliography page).

STX/ETX never occur in Markdown text and no inline pattern matches them, so tokens pass
the inline stage untouched, which is far cheaper than an inline pattern splitting text at
every citation, and far cheaper than Python-Markdown's HTML stash (its raw-HTML
postprocessor rescans every stashed string, also for every heading ``toc`` renders).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

from ..core.cache import BoundedCache
from ..core.model import CiteGroup
from ..core.syntax import escaped_ats, find_groups

CITE = "\x02kecite:{}\x03"
CITE_RE = re.compile("\x02kecite:(\\d+)\x03")
CITE_START = "\x02kecite:"
BLOCK = "\x02keblock:{}\x03"
ANY_RE = re.compile("\x02ke(cite|block):(\\d+)\x03")
ANY_START = "\x02ke"


@dataclass
class TokenTable:
    """One document's tokens: its citation groups with their source text, and its blocks."""

    groups: list[CiteGroup] = field(default_factory=list)
    #: The source text of each citation group (shown as written where it is not rendered).
    sources: list[str] = field(default_factory=list)
    #: Finished HTML of citation tokens, by group index (set by the tree processor).
    rendered: dict[int, str] = field(default_factory=dict)
    #: Finished HTML of block tokens, by block index; ``None`` for a block made late.
    blocks: list[str | None] = field(default_factory=list)
    #: The sentence of each citation group, as a review stores it; only on pages with
    #: review records (``None`` elsewhere: nobody needs them).
    sentences: list[str] | None = None
    #: Citation tokens whose HTML is made late, after search indexing (``compact_pages``).
    late: set[int] = field(default_factory=set)

    def defer(self, markup: str | None) -> str:
        """A block token that :meth:`restore` swaps for ``markup`` (kept if ``None``)."""
        self.blocks.append(markup)
        return BLOCK.format(len(self.blocks) - 1)

    def restore(self, text: str) -> str:
        """Swap every token for its HTML; a citation that was not rendered (inside raw HTML
        or an attribute, where citations are not rendered) shows its source text. Tokens
        whose HTML is made late stay in the text."""
        if ANY_START not in text:
            return text

        def swap(m: re.Match[str]) -> str:
            index = int(m.group(2))
            if m.group(1) == "block":
                block = self.blocks[index]
                return m.group(0) if block is None else block
            done = self.rendered.get(index)
            if done is not None:
                return done
            return m.group(0) if index in self.late else html.escape(self.sources[index], quote=True)

        return ANY_RE.sub(swap, text)


#: Tokenised page texts, by text: unchanged pages skip parsing on every rebuild (``serve``
#: only: within one build no text is tokenised twice; see :mod:`citereview.core.cache`).
_tokenised: BoundedCache[str, tuple[str, tuple[CiteGroup, ...], tuple[str, ...]]] = BoundedCache(
    "tokenised-pages", 4096, rebuild_only=True)


def tokenise(text: str) -> tuple[str, tuple[CiteGroup, ...], tuple[str, ...]]:
    """``text`` with citation groups replaced by tokens 0, 1, …, the groups and their source."""
    cached = _tokenised.get(text)
    if cached is not None:
        return cached
    out: list[str] = []
    groups: list[CiteGroup] = []
    sources: list[str] = []
    pos = 0
    escapes = escaped_ats(text)
    for m, group in find_groups(text, front_matter=False):
        out.append(_unescape(text, pos, m.start(), escapes))
        out.append(CITE.format(len(groups)))
        groups.append(group)
        sources.append(m.group(0))
        pos = m.end()
    out.append(_unescape(text, pos, len(text), escapes))
    return _tokenised.remember(text, ("".join(out), tuple(groups), tuple(sources)))


def _unescape(text: str, start: int, end: int, escapes: list[int]) -> str:
    """``text[start:end]`` without the backslashes of escaped ``@`` (most pages have none)."""
    if not escapes:
        return text[start:end]
    inside = [i for i in escapes if start <= i < end]
    if not inside:
        return text[start:end]
    pieces, pos = [], start
    for i in inside:
        pieces.append(text[pos:i])
        pos = i + 1
    pieces.append(text[pos:end])
    return "".join(pieces)

