"""Hand the search indexer only the markup that can reach the index.

Material's search plugin parses every page with Python's pure-Python ``HTMLParser``, tag by
tag, and our extension adds many tags: a number, a link and a preview per citation, a
notice, a References list per page. None of it should reach the index, and all of it is
marked ``data-search-exclude``: results should lead to prose, not to citation numbers,
previews or a page's reference list (the site-wide References page indexes every entry
once). Material honours the attribute, but only after parsing every tag inside: that was
most of the time our extension added to a build.

So the MkDocs plugin (:mod:`citereview.mkdocs.plugin`, with ``search_trim: true``) gives the
indexer a trimmed copy of each page: every citation, the flag notice, the References page's
"Cited on" lists and a page's References section (its heading and list, nothing after
them) become a short comment (the indexer ignores comments). Only blocks the extension
wrote and marked ``data-search-exclude`` are trimmed. Afterwards
:meth:`Trimmed.restore` puts the original markup back. The index and the pages come out the
same as without trimming (``tests/test_searchtrim.py`` builds the real site both ways and
compares every file); only the parsing is saved. Engines without MkDocs hooks (Zensical)
index the full page and apply ``data-search-exclude`` themselves.

The hooks trim at priority 1 and restore at -1, the narrowest window around the search
plugin (priority 0): only another plugin's ``on_page_context`` at priority 0 sees the trimmed
copy (Material's blog and projects plugins run theirs at -100, after the restore). A plugin
that rewrites the page there and drops our markers makes :func:`after_indexing` warn and
keep the untrimmed page.

The patterns are made from :class:`citereview.mdext.templates.Templates` with the
configured class prefix, so they match the markup the extension writes.
Bibliography and author text inside it is always HTML-escaped, so any ``<`` there opens one
of our tags: a citation holds no ``<sup>`` and the notice no ``<div>``.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

log = logging.getLogger("mkdocs.extensions.citereview")

#: What the indexer reads instead of each piece, in order.
MARK = "<!--ke-->"


def piece_ends(prefix: str) -> dict[str, str]:
    """How each piece starts, and the tag that ends it: a rendered citation or ``citation
    needed`` marker (no ``<sup>`` inside), the flag notice near the title (no ``<div>``
    inside), the "Cited on" list of an entry on the References page (text, links and the
    claims count, no ``<div>``), and a page's References section (heading and list; entries hold no ``<ol>``).
    The end is found with ``str.find``: a lazy ``.*?`` in a regex tested every character of
    every preview for the closing tag."""
    return {
        f'<sup class="{prefix}cite': "</sup>",
        f'<div class="admonition {prefix}flags': "</div>",
        f'<div class="{prefix}ref__back" data-search-exclude="">': "</div>",
        f'<h2 class="{prefix}references-title"': "</ol>",
    }


@dataclass
class Trimmed:
    """A page as the indexer should read it, and what to put back afterwards."""

    original: str
    content: str
    pieces: list[str] = field(default_factory=list)

    def restore(self, content: str) -> str:
        """Put the removed markup back into ``content`` (the indexer may have edited it).

        Raises ``ValueError`` if the markers did not survive (something else rewrote the
        page in between); the caller then falls back to :attr:`original`.
        """
        parts = content.split(MARK)
        if len(parts) != len(self.pieces) + 1:
            raise ValueError(f"expected {len(self.pieces)} markers, found {len(parts) - 1}")
        out = [parts[0]]
        for piece, part in zip(self.pieces, parts[1:], strict=True):
            out += (piece, part)
        return "".join(out)


def trim(content: str, prefix: str = "ke-") -> Trimmed | None:
    """The page as the indexer should read it; ``None`` if there is nothing to trim."""
    if MARK in content or prefix not in content:  # our marker in an author's HTML: index as is
        return None
    ends = piece_ends(prefix)
    starts = re.compile("|".join(map(re.escape, ends)))
    kept: list[str] = []
    pieces: list[str] = []
    pos = search = 0  # end of the last piece cut; where to look for the next
    while (m := starts.search(content, search)) is not None:
        end_tag = ends[m.group(0)]
        end = content.find(end_tag, m.end())
        if end < 0:  # not our markup after all (unclosed): leave it in
            search = m.end()
            continue
        end += len(end_tag)
        kept += (content[pos:m.start()], MARK)
        pieces.append(content[m.start():end])
        pos = search = end
    if not pieces:
        return None
    kept.append(content[pos:])
    return Trimmed(content, "".join(kept), pieces)


#: Pages currently handed to the indexer trimmed, by ``id(page)``; set and cleared within
#: one ``on_page_context`` event, so it never holds more than one page for long.
_pending: dict[int, Trimmed] = {}


def before_indexing(page, prefix: str = "ke-") -> None:
    """Give ``page.content`` to the indexer trimmed (called before the search plugin)."""
    trimmed = trim(page.content, prefix) if page.content else None
    if trimmed is not None:
        _pending[id(page)] = trimmed
        page.content = trimmed.content


def after_indexing(page) -> None:
    """Restore ``page.content`` in full (called after the search plugin)."""
    trimmed = _pending.pop(id(page), None)
    if trimmed is not None:
        try:
            page.content = trimmed.restore(page.content)
        except ValueError as exc:
            log.warning("%s: could not restore the page after search indexing (%s); another plugin "
                        "rewrote it between search trimming and restoring", page.file.src_uri, exc)
            page.content = trimmed.original


def pending(page) -> Trimmed | None:
    """What :func:`after_indexing` will put back into ``page`` (for tests)."""
    return _pending.get(id(page))


def reset() -> None:
    _pending.clear()
