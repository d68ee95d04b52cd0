"""Citation syntax: Pandoc's bracketed and in-text citations, the ``[citation needed]`` marker
and dated-fact markers (``[as of 2026-11-24]``, read by :mod:`citereview.core.facts`).

Used in two places with one grammar: the Markdown inline processor (rendering) and
:func:`scan_source`, which re-reads a page's source to give file:line:col positions
(Python-Markdown keeps no source positions) and to list citations without building.
"""

from __future__ import annotations

import bisect
import functools
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass

from .frontmatter import front_matter_lines
from .model import CiteGroup, CiteItem, Occurrence
from .placement import Places

#: Pandoc citation keys: start with a letter, digit or ``_``; internal punctuation
#: ``:.#$%&-+?<>~/`` is allowed only between word characters. Possessive, and a run of word
#: characters per step: what follows a key in every pattern here matches wherever the key
#: ends (and for ``KEY_RE.fullmatch`` a shorter key cannot reach the end either), so the
#: longest key is always the one taken, and giving characters back never helps. Matched a
#: character per step, each kept for backtracking, a key took three times as long.
KEY_PATTERN = r"[^\W](?:\w++|[:.#$%&\-+?<>~/](?=\w))*+"
KEY_RE = re.compile(KEY_PATTERN)

#: Citation by identifier, Manubot's prefixes: ``@doi:10.1016/S0006-3223(99)00230-9`` and
#: ``@pmid:10686270``. A DOI may hold parentheses (balanced, one level), ``;`` and ``<>``;
#: it ends at white space or a bracket, and trailing ``.,;:`` is punctuation, not DOI.
DOI_KEY_PATTERN = r"doi:10\.\d{4,9}/(?:[^\s\[\]()]|\([^\s\[\]()]*\))+(?<![.,;:])"
PMID_KEY_PATTERN = r"pmid:[1-9]\d{0,8}(?![\w.:/-])"
ID_KEY_PATTERN = rf"(?i:{DOI_KEY_PATTERN}|{PMID_KEY_PATTERN})"
ID_KEY_RE = re.compile(ID_KEY_PATTERN)
#: Anything that may follow ``@``: an identifier first (a DOI is not a valid key), else a key.
CITE_KEY_PATTERN = rf"(?:{ID_KEY_PATTERN}|{KEY_PATTERN})"

#: Reserved marker for "this claim needs a source".
NEEDED_PATTERN = r"\[citation needed\]"

#: A line break that does not end the paragraph (the next line is not blank), and the end of
#: a paragraph (a blank line, or the end of the text).
_SOFT_BREAK = r"\n(?![ \t]*(?:\n|$))"
_PARAGRAPH_END = r"(?:\n[ \t]*(?:\n|$)|\n?$)"
#: Text inside a group's brackets: no brackets, and line breaks only within a paragraph, as
#: Pandoc allows (editors wrap long lines; a blank line ends the paragraph, and the group).
#: Possessive (Python 3.11+): the text can hold no bracket, so giving any of it back can never
#: help a match, and the engine does not try (it did, character by character, for every ``[``).
_IN_GROUP = rf"[^\[\]\n]*+(?:{_SOFT_BREAK}[^\[\]\n]*+)*+"
#: The same before a group's first ``@``: no ``@`` either.
_BEFORE_AT = rf"[^\[\]\n@]*+(?:{_SOFT_BREAK}[^\[\]\n@]*+)*+"
#: The same, lazy: up to the first place where a key can start.
_UP_TO_KEY = rf"(?:[^\[\]\n]|{_SOFT_BREAK})*?"

#: A bracketed group that contains at least one ``@``; brackets may not nest. Not followed by
#: ``(`` or ``[`` (that would be a Markdown link) or ``:`` (a link reference definition).
GROUP_PATTERN = rf"\[(?P<body>{_BEFORE_AT}@{_IN_GROUP})\](?![(\[:])"

#: An opening bracket whose ``@key`` group runs to the end of its paragraph without ``]``. The
#: lookahead settles "never closed" in one pass before any key is looked for, so the usual
#: closed bracket fails at once. The ``\`` or ``!`` before the bracket is looked for from after
#: it, so that the pattern starts with a literal ``[`` the engine skips to (about 10x as fast).
_UNCLOSED_RE = re.compile(rf"\[(?<![\\!]\[)(?={_IN_GROUP}{_PARAGRAPH_END})"
                          rf"(?P<body>{_UP_TO_KEY}(?<![\w@.])-?@{CITE_KEY_PATTERN}{_IN_GROUP})")
#: A line break inside a group and what continues the line (indentation, ``>`` of a quote).
_GROUP_BREAK_RE = re.compile(r"[ \t]*\n[ \t]*(?:>[ \t]*)*")

#: Pandoc's in-text (narrative) citation ``@key`` or ``@key [p. 33]``. The ``@`` must start a
#: word: after a letter, digit, ``/``, ``.`` or ``:`` it belongs to an e-mail address, a URL
#: or a handle (``name@example.org``, ``https://host/@user``), never to a citation.
#: That test looks back from after the ``@`` (``@(?<!X@)`` is ``(?<!X)@``): so every branch
#: of :data:`_SCAN_RE` starts with ``[`` or ``@``, and the engine skips in C to the next of
#: them instead of trying the whole pattern at every character (a scan took 3.5x as long).
NARRATIVE_PATTERN = (rf"@(?<![^\s(\"'\u201c\u2018*_]@)(?P<nkey>{CITE_KEY_PATTERN})"
                     r"(?:[ \t]?\[(?!as of[ \t]|citation needed\])(?P<loc>[^\[\]@\n]*)\](?![(\[:]))?")

#: A dated-fact marker: ``[as of 2026-11-24]``, ``[as of 2026-11, until 2026-12-31]``. Anything
#: starting with a digit after "as of" is taken for a date, so that a mistyped date is
#: reported instead of shown as text. Not followed by ``(`` or ``[`` (a link); a ``:`` may follow
#: (``**Australia [as of 2025-05]:**``).
_FACT_REST = r"as of[ \t]+(?P<fact>\d[^\[\]\n]*)\](?![(\[])"
FACT_PATTERN = rf"\[{_FACT_REST}"
#: Not after a backslash; looked for from after the ``[``, so that the pattern starts with a
#: literal the engine skips to, instead of being tried at every character.
FACT_RE = re.compile(rf"\[(?<!\\\[){_FACT_REST}", re.I)

#: ``\@key`` inside brackets is an escaped at-sign (Pandoc), not a citation item.
_ITEM_RE = re.compile(rf"^(?P<prefix>.*?)(?<![\w@.\\])-?@(?P<key>{CITE_KEY_PATTERN})(?P<suffix>.*)$", re.S)
#: A group; one preceded by an odd number of backslashes (``\[@key]``) is escaped text, one
#: after an escaped backslash (``\\[@key]``) is a citation (see :func:`_escaped`).
_SCAN_RE = re.compile(rf"(?:{NEEDED_PATTERN}|{GROUP_PATTERN}|{NARRATIVE_PATTERN})", re.I)
#: A DOI item that a ``;`` split in two (``…3.0.CO;2-N``): the part before ends in a DOI.
_DOI_TAIL_RE = re.compile(r"@doi:\S*$", re.I)
#: ``\@key``: Pandoc's escape for an ``@`` that is not a citation.
ESCAPED_AT_RE = re.compile(rf"\\@(?={CITE_KEY_PATTERN})")


def identifier(key: str) -> tuple[str, str] | None:
    """``("doi", "10.x/y")`` (lowercase: DOIs match case-insensitively) or ``("pmid", "N")``
    for a citation by identifier; ``None`` for an ordinary key."""
    if not ID_KEY_RE.fullmatch(key):
        return None
    kind, _, value = key.partition(":")
    kind = kind.lower()
    return kind, value.lower() if kind == "doi" else value


def _split_items(body: str) -> list[str]:
    """``body`` split at the ``;`` between items, but not at a ``;`` inside a DOI: a part
    glued to the ``;`` with no ``@`` of its own continues a DOI that came before it."""
    parts: list[str] = []
    for part in body.split(";"):
        if parts and part and not part[0].isspace() and "@" not in part and _DOI_TAIL_RE.search(parts[-1]):
            parts[-1] += ";" + part
        else:
            parts.append(part)
    return parts


@functools.lru_cache(maxsize=16384)
def parse_group(body: str) -> CiteGroup | None:
    """Parse the text between the brackets; ``None`` when it is not a citation.

    Every ``;``-separated part must hold exactly one ``@key``, so that ``[mail me at
    a@b.org]`` and ``[@ home]`` stay ordinary text.

    Remembered by body: a build parses each page twice (rendering it, and once for the
    site-wide References page), and the same ``[@key]`` recurs across pages. The result is
    immutable, so sharing it is safe.
    """
    if "\n" in body:  # wrapped over lines: a line break is a space
        body = _GROUP_BREAK_RE.sub(" ", body)
    items: list[CiteItem] = []
    for part in _split_items(body):
        m = _ITEM_RE.match(part.strip())
        if not m:
            return None
        prefix, key, raw_suffix = m.group("prefix", "key", "suffix")
        if "@" in prefix or "@" in raw_suffix:
            return None
        # Pandoc allows "@key, p. 3" and "@key p. 3"; text glued to the key is not a citation.
        if raw_suffix and raw_suffix[0] not in ", \t":
            return None
        suffix = raw_suffix.strip().lstrip(",").strip()
        # The key interned, as the bibliography's are: one string per key, however often cited.
        items.append(CiteItem(sys.intern(key), prefix.strip(), suffix))
    return CiteGroup(tuple(items)) if items else None


NEEDED_GROUP = CiteGroup((), needed=True)

#: Blocks whose content continues on indented lines: list items, admonitions, details,
#: content tabs, definitions, footnotes. After them an indented line is not code.
_CONTAINER_RE = re.compile(r"^\s{0,3}(?:[-*+]\s|\d+[.)]\s|!!!|\?\?\?|===|:\s|\[\^[^\]]+\]:)")
_FENCE_RE = re.compile(r"^(?P<indent>\s*)(?P<fence>`{3,}|~{3,})")
_CODE_SPAN_RE = re.compile(r"(?<!`)(`+)(?!`).*?(?<!`)\1(?!`)", re.S)
_COMMENT_RE = re.compile(r"<!--.*?-->", re.S)
_UNIT_LINE_RE = re.compile(r"^\s*(?:\||[-*+]\s|\d+[.)]\s)")
_SENTENCE_END_RE = re.compile(r"(?<=[.!?])\s+(?=[A-Z(\"'@])")
#: What :func:`_tidy` takes out of a sentence: list, quote and table marks at its start,
#: emphasis and code marks, the space a removed citation leaves before punctuation.
_LEADING_MARK_RE = re.compile(r"^\s*(?:[-*+]|\d+\.|>|\|)\s*")
_EMPHASIS_RE = re.compile(r"[*_`]+")
_SPACE_BEFORE_PUNCT_RE = re.compile(r"\s+(?=[.,;:!?])")


def _blank(text: str) -> str:
    """Replace every character but newlines with spaces, keeping offsets and line numbers."""
    return re.sub(r"[^\n]", " ", text)


def mask_code(text: str, front_matter: bool = True) -> str:
    """Blank out front matter, fenced code, code spans and HTML comments.

    The result has the same length and line structure as ``text``, so positions found in
    it are positions in the source file. ``front_matter=False`` for text whose front matter
    was already removed (a leading ``---`` is then a horizontal rule).

    A build masks every page at least twice, so the line loop does as little as it can: a
    line is replaced only when blanked (by ``" " * len``: a line holds no newline), the fence
    pattern runs only on a line holding three backticks or tildes in a row (it cannot match
    one without), and whether the last unindented line opened a container is asked only
    when an indented line after a blank one needs to know.
    """
    lines = text.split("\n")
    start = 0
    if front_matter and lines[0].strip() == "---":
        # Blank up to the closing ``---`` or ``...``; never closed: the whole text.
        start = next((i for i in range(1, len(lines)) if lines[i].strip() in ("---", "...")), len(lines) - 1) + 1
        for i in range(start):
            lines[i] = " " * len(lines[i])
    changed = start > 0
    fence: str | None = None
    fences = "```" in text or "~~~" in text
    # The last unindented line outside fences: whether its block's content is indented
    # (:data:`_CONTAINER_RE`), asked only when it matters.
    container_line: str | None = None
    indented_code = False
    previous_blank = True
    for i in range(start, len(lines)):
        line = lines[i]
        blank = not line or line.isspace()  # as ``not line.strip()``
        if fence is None:
            if not blank:
                if not (line[0] in " \t" and line.startswith(("    ", "\t"))):  # cheap test first
                    indented_code = False
                    container_line = line
                elif previous_blank and not indented_code and not (
                        container_line is not None and _CONTAINER_RE.match(container_line)):
                    indented_code = True  # Markdown's indented code block
            previous_blank = blank
            if indented_code:
                lines[i] = " " * len(line)
                changed = True
            elif fences and ("```" in line or "~~~" in line):
                m = _FENCE_RE.match(line)
                if m:
                    fence = m.group("fence")
                    lines[i] = " " * len(line)
                    changed = True
        else:
            previous_blank = blank
            stripped = line.strip()
            if stripped.startswith(fence[0] * len(fence)) and stripped.strip(fence[0]) == "":
                fence = None
            lines[i] = " " * len(line)
            changed = True
    masked = "\n".join(lines) if changed else text
    if "<!--" in masked:
        masked = _COMMENT_RE.sub(lambda m: _blank(m.group(0)), masked)
    if "`" in masked:
        masked = _CODE_SPAN_RE.sub(lambda m: _blank(m.group(0)), masked)
    return masked


def _sentences_in(text: str, start: int, end: int) -> tuple[tuple[str, ...], int]:
    """The sentences of the unit (paragraph, table row or list item) holding ``start:end``,
    raw, and the index of the one holding ``start``.

    Prose is often wrapped over several lines, so the sentence is looked for in the whole
    paragraph; a table row or a list item stands on its own line and is its own unit.
    """
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", end)
    line_end = len(text) if line_end == -1 else line_end
    if _UNIT_LINE_RE.match(text[line_start:line_end]):
        block_start, block_end = line_start, line_end
    else:
        found = text.rfind("\n\n", 0, start)
        block_start = 0 if found == -1 else found + 2
        found = text.find("\n\n", end)
        block_end = len(text) if found == -1 else found
    block = text[block_start:block_end].replace("\n", " ")
    offset = start - block_start
    pieces, starts = _split_sentences(block)
    i = bisect.bisect_right(starts, offset) - 1
    if i >= 0 and offset <= starts[i] + len(pieces[i]):
        return pieces, i
    return (block,), 0


@functools.lru_cache(maxsize=16)
def _split_sentences(block: str) -> tuple[tuple[str, ...], tuple[int, ...]]:
    """A paragraph's sentences and where each starts. Remembered (so immutable): every
    citation in a paragraph asks for the same split (once per citation made long paragraphs
    quadratic)."""
    pieces = _SENTENCE_END_RE.split(block)
    starts: list[int] = []
    pos = 0
    for piece in pieces:
        idx = block.find(piece, pos)
        starts.append(idx)
        pos = idx + len(piece)
    return tuple(pieces), tuple(starts)


def _sentence_around(text: str, start: int, end: int) -> str:
    """The sentence (or table row / list item) that a citation at ``start`` supports."""
    pieces, i = _sentences_in(text, start, end)
    return _tidy(pieces[i])


def sentence_around(text: str, start: int, end: int) -> str:
    """The sentence holding ``start:end`` as a reviewer reads it (dated facts use it too)."""
    return _sentence_around(text, start, end)


def sentence_context(text: str, line: int, col: int) -> tuple[str, str, str]:
    """The sentence holding the citation at ``line``/``col`` (1-based) with the sentences
    before and after it in its paragraph, citation markup removed (for reviewers)."""
    lines = text.split("\n")
    start = sum(len(x) + 1 for x in lines[: line - 1]) + col - 1
    pieces, i = _sentences_in(text, start, start + 1)
    before = _tidy(pieces[i - 1]) if i > 0 else ""
    after = _tidy(pieces[i + 1]) if i + 1 < len(pieces) else ""
    return before, _tidy(pieces[i]), after


@functools.lru_cache(maxsize=64)
def _tidy(s: str) -> str:
    """A sentence as a reviewer reads it. Remembered: each citation of a sentence asks."""
    # Bracketed citations and markers go; an in-text citation is part of the sentence.
    s = _SCAN_RE.sub(lambda m: m.group(0) if m.group("nkey") else "", s)
    if "[" in s:
        s = FACT_RE.sub("", s)
    lead = _LEADING_MARK_RE.match(s)
    if lead:
        s = s[lead.end():]
    if "*" in s or "_" in s or "`" in s:
        s = _EMPHASIS_RE.sub("", s)
    s = _SPACE_BEFORE_PUNCT_RE.sub("", s)  # the removed citation leaves "claim ."
    # White space runs made one space (str.split's white space is the pattern's \s), then
    # edge spaces and table bars gone.
    return " ".join(s.split()).strip(" |")


def _escaped(text: str, pos: int) -> bool:
    """Whether the character at ``pos`` is escaped: an odd number of backslashes before it."""
    start = pos
    while start and text[start - 1] == "\\":
        start -= 1
    return (pos - start) % 2 == 1


#: A few pages' scans are remembered: the checker asks for a page's keys, occurrences and
#: misplaced citations one after the other. A build keeps what it needs of each page in the
#: page's summary (:mod:`.sources`), so more would only hold texts and matches in memory.
SCANS_REMEMBERED = 8


@functools.lru_cache(maxsize=SCANS_REMEMBERED)
def _masked(text: str, front_matter: bool) -> str:
    """:func:`mask_code`, remembered: a page is scanned for keys, occurrences and problems."""
    return mask_code(text, front_matter)


@functools.lru_cache(maxsize=SCANS_REMEMBERED)
def _all_groups(text: str, front_matter: bool) -> tuple[tuple[re.Match, CiteGroup, str | None], ...]:
    """Every citation group outside code, with why it is not rendered (``None``: it is).

    Remembered, like :func:`_masked`: a page's keys, its occurrences and its misplaced
    citations are all read from one scan.
    """
    return tuple(_iter_groups(text, front_matter))


def _iter_groups(text: str, front_matter: bool) -> Iterator[tuple[re.Match, CiteGroup, str | None]]:
    masked = _masked(text, front_matter)
    places: Places | None = None
    for m in _SCAN_RE.finditer(masked):
        start = m.start()
        # Escaped only after a backslash: the count of backslashes is rarely needed.
        if start and masked[start - 1] == "\\" and _escaped(masked, start):
            continue
        body, nkey, loc = m.group("body", "nkey", "loc")
        if nkey is not None:
            group: CiteGroup | None = narrative_group(nkey, loc)
        elif body is None:
            group = NEEDED_GROUP
        else:
            group = parse_group(body)
        if group is not None:
            if places is None:
                places = Places(masked)
            yield m, group, places.unrendered(start, m.end())


def escaped_ats(text: str) -> list[int]:
    """Positions of ``\\@key`` outside code, in text without front matter: Pandoc's escape for
    an ``@`` that is not an in-text citation (Markdown does not know ``\\@``, so the Markdown
    extension drops the backslash). Found in the masked text :func:`find_groups` remembers for
    the same text, so that the page is not masked twice."""
    if "\\@" not in text:
        return []
    return [m.start() for m in ESCAPED_AT_RE.finditer(_masked(text, False))]


def find_groups(text: str, front_matter: bool = True) -> Iterator[tuple[re.Match, CiteGroup]]:
    """Every citation group that is rendered (outside code, raw HTML and attributes), with
    its match in ``text``, in source order: the page's citations, as everything counts them."""
    for m, group, unrendered in _all_groups(text, front_matter):
        if unrendered is None:
            yield m, group


@dataclass(frozen=True)
class Misplaced:
    """A citation readers would see as literal text: where, and why."""

    line: int
    col: int
    text: str
    #: Where it sits (``"a raw HTML block"``…); ``None`` for a bracket that is never closed.
    place: str | None


def misplaced(text: str) -> list[Misplaced]:
    """Citation groups Markdown does not render, and ``[@key`` brackets left open, in order."""
    if "@" not in text:
        return []
    line_starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def at(start: int, shown: str, place: str | None, limit: int | None = None) -> Misplaced:
        line_idx = bisect.bisect_right(line_starts, start) - 1
        shown = " ".join(shown.split()) if "\n" in shown else shown  # on one line in a message
        if limit is not None and len(shown) > limit:
            shown = shown[:limit - 1] + "…"
        return Misplaced(line_idx + 1, start - line_starts[line_idx] + 1, shown, place)

    found = [at(m.start(), m.group(0), place) for m, _, place in _all_groups(text, True) if place]
    for m in _UNCLOSED_RE.finditer(_masked(text, True)):
        found.append(at(m.start(), m.group(0), None, limit=40))
    return sorted(found, key=lambda p: (p.line, p.col))


@functools.lru_cache(maxsize=16384)
def narrative_group(key: str, locator: str | None) -> CiteGroup:
    """An in-text citation: one item, rendered with the author's name before the number."""
    return CiteGroup((CiteItem(key, "", (locator or "").strip()),), narrative=True)


def scan_source(text: str, front_matter: bool = True) -> Iterator[Occurrence]:
    """Yield every citation group in a Markdown source file, with 1-based line and column.

    ``front_matter=False`` for text an engine already took the front matter off (the
    Markdown extension's view): the sentences found are the same either way.
    """
    line_starts = [0] + [m.end() for m in re.finditer("\n", text)]
    body = text
    fm_lines = front_matter_lines(text) if front_matter else 0
    if fm_lines:
        # Sentences never reach into the front matter, even with no blank line after it.
        parts = text.split("\n", fm_lines)
        body = "\n".join(_blank(p) for p in parts[:fm_lines]) + ("\n" + parts[fm_lines] if len(parts) > fm_lines
                                                                   else "")
    for m, group in find_groups(text, front_matter):
        line_idx = bisect.bisect_right(line_starts, m.start()) - 1
        yield Occurrence(
            group=group,
            line=line_idx + 1,
            col=m.start() - line_starts[line_idx] + 1,
            text=m.group(0),
            sentence=_sentence_around(body, m.start(), m.end()),
        )


_H1_RE = re.compile(r"^#\s+(.+?)\s*#*\s*$", re.M)


def page_title(text: str, fallback: str) -> str:
    """The page title as MkDocs derives it: front matter ``title``, else the first H1."""
    lines = text.split("\n")
    body = 0  # offset of the text after the front matter
    if lines and lines[0].strip() == "---":
        for line in lines[1:]:
            body += len(line) + 1
            if line.strip() in ("---", "..."):
                body += len(lines[0]) + 1
                break
            m = re.match(r"^title:\s*(.+?)\s*$", line)
            if m:
                return m.group(1).strip("\"'")
        else:
            body = 0
    # The first H1 is usually near the top: find it, and mask code and comments (a "# line"
    # there is no title) only if one could start before it.
    m = _H1_RE.search(text, body)
    if m and any(mark in text[: m.start()] for mark in ("```", "~~~", "<!--")):
        m = _H1_RE.search(mask_code(text))
    if not m:
        return fallback
    # A citation or a dated fact in the heading is left out of the page title, as the
    # engines do (both are kept out of the title's element: see the Markdown extension).
    title = _SCAN_RE.sub(lambda c: c.group(0) if c.group("nkey") else "", m.group(1))
    if "[" in title:
        title = FACT_RE.sub("", title)
    return re.sub(r"\s{2,}", " ", title).strip() or fallback
