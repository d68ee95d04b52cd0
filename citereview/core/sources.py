"""Reading every page's source once: which page cites what, and where.

The site-wide References page and the review queue need to know every page's citations.
They must not depend on a plugin hook having run (Zensical runs none), so they read the
Markdown sources directly. What they need of each page (title, cited keys) is cached by
file modification time, so that ``mkdocs serve`` re-scans only what changed.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from .model import Occurrence
from .syntax import Misplaced, find_groups, misplaced, page_title, scan_source


@dataclass
class _Summary:
    """What the cache keeps of a page between reads: title and cited keys, not the text.

    The References page reads every page, and the cache lives as long as the process:
    keeping every page's text doubled the memory the page sources take in a build (MkDocs
    holds each page's Markdown too). A page read from the cache reads its text again on
    first use (the build's per-page check of front matter).
    """

    title: str
    undecodable: tuple[int, int, int] | None = None
    #: How many times each key is cited; ``None`` until first asked.
    counts: dict[str, int] | None = None
    #: Citations readers would see as text (:func:`~.syntax.misplaced`); ``None`` until
    #: first asked. Found in the same scan as the counts, so a build scans each page's
    #: source once for both (the References page asks for counts, the page checks for both).
    misplaced: tuple[Misplaced, ...] | None = None


class SourcePage:
    """One Markdown page: its path relative to docs_dir, title and raw text.

    Its citations are scanned on first use, and only as far as asked: the References page
    needs just the keys of every page, while the checker and the review queue need every
    occurrence with its line and sentence.
    """

    def __init__(self, path: str, title: str, text: str | None = "", *, file: str = "",
                 undecodable: tuple[int, int, int] | None = None, summary: _Summary | None = None) -> None:
        self.path = path
        self.title = title
        #: ``None``: not read yet (a page from the cache); read from ``file`` on first use.
        self._text = text
        self._file = file
        self._summary = summary if summary is not None else _Summary(title, undecodable)

    def __repr__(self) -> str:
        return f"SourcePage(path={self.path!r}, title={self.title!r})"

    @property
    def text(self) -> str:
        if self._text is None:
            self._text = _read_text(self._file) or ""
        return self._text

    @property
    def undecodable(self) -> tuple[int, int, int] | None:
        """Where the file stops being UTF-8: (line, column, offending byte); its text is then
        empty. Reported by :func:`citereview.core.findings.page_findings` (and by the MkDocs
        plugin before the engine's own read fails with a traceback)."""
        return self._summary.undecodable

    @cached_property
    def occurrences(self) -> tuple[Occurrence, ...]:
        return tuple(scan_source(self.text))

    @property
    def item_counts(self) -> dict[str, int]:
        """How many times each key is cited (each cited item is a claim)."""
        if self._summary.counts is None:
            self._summarise()
        return self._summary.counts  # type: ignore[return-value]  # set by _summarise

    @property
    def misplaced(self) -> tuple[Misplaced, ...]:
        """Citations readers would see as literal text, in source order."""
        if self._summary.misplaced is None:
            self._summarise()
        return self._summary.misplaced  # type: ignore[return-value]  # set by _summarise

    def _summarise(self) -> None:
        """Fill the summary's counts and misplaced citations together: both come from one
        remembered scan of the text, which a second call later would have to repeat."""
        summary = self._summary
        if summary.counts is None:
            if "occurrences" in self.__dict__:
                groups = (occ.group for occ in self.occurrences)
            else:
                groups = (group for _, group in find_groups(self.text))
            counts: dict[str, int] = {}
            for group in groups:
                for item in group.items:
                    counts[item.key] = counts.get(item.key, 0) + 1
            summary.counts = counts
        if summary.misplaced is None:
            summary.misplaced = tuple(misplaced(self.text))

    def keys(self) -> set[str]:
        return set(self.item_counts)


_cache: dict[str, tuple[tuple[int, int], _Summary]] = {}
#: The last page read in full, (path, stamp, text): a build reads each page once to check its
#: encoding (MkDocs plugin) and asks for its text again moments later (the page's checks).
#: One page's text, not every page's (see :class:`_Summary`).
_recent: list[tuple[str, tuple[int, int], str] | None] = [None]


def _read_text(full: str) -> str | None:
    """As MkDocs reads pages: a byte-order mark is dropped, CRLF read as LF."""
    try:
        with open(full, encoding="utf-8-sig") as fh:
            return fh.read()
    except (OSError, UnicodeDecodeError):
        return None


def read_page(docs_dir: str | Path, rel_path: str) -> SourcePage | None:
    """Scan one page, reusing what is known of it when the file did not change."""
    full = os.path.join(docs_dir, rel_path)  # called for every page: no Path objects
    try:
        st = os.stat(full)
    except OSError:
        return None
    stamp = (st.st_mtime_ns, st.st_size)
    cached = _cache.get(full)
    if cached and cached[0] == stamp:
        summary = cached[1]
        recent = _recent[0]
        text = "" if summary.undecodable else (
            recent[2] if recent is not None and recent[0] == full and recent[1] == stamp else None)
        return SourcePage(rel_path, summary.title, text, file=full, summary=summary)
    try:
        with open(full, encoding="utf-8-sig") as fh:
            text = fh.read()
    except UnicodeDecodeError:
        page = SourcePage(rel_path, Path(rel_path).stem, "", undecodable=_first_bad_byte(full))
        _cache[full] = (stamp, page._summary)
        return page
    except OSError:
        return None
    _recent[0] = (full, stamp, text)
    fallback = Path(rel_path).stem.replace("-", " ").capitalize()
    page = SourcePage(rel_path, page_title(text, fallback), text, file=full)
    _cache[full] = (stamp, page._summary)
    return page


def _first_bad_byte(full: str) -> tuple[int, int, int]:
    """1-based line and column (in bytes) of the first byte that is not UTF-8, and the byte."""
    with open(full, "rb") as fh:
        data = fh.read()
    try:
        data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        start = exc.start + (3 if data.startswith(b"\xef\xbb\xbf") else 0)
        line_start = data.rfind(b"\n", 0, start) + 1
        return data.count(b"\n", 0, start) + 1, start - line_start + 1, data[start]
    return 1, 1, 0  # changed since the failed read; the next read will tell


def list_pages(docs_dir: str | Path) -> list[str]:
    """Every Markdown file below docs_dir, as sorted POSIX paths relative to it."""
    root = Path(docs_dir)
    found: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in filenames:
            if name.endswith(".md") and not name.startswith("."):
                found.append(Path(dirpath, name).relative_to(root).as_posix())
    return sorted(found)


def read_site(docs_dir: str | Path) -> list[SourcePage]:
    pages = (read_page(docs_dir, rel) for rel in list_pages(docs_dir))
    return [p for p in pages if p is not None]


def cited_by(pages: list[SourcePage],
             resolve: Callable[[str], str | None] | None = None) -> dict[str, list[SourcePage]]:
    """Map each cited key to the pages citing it, in page order.

    ``resolve`` (:meth:`Bibliography.resolve`) maps ``doi:…`` / ``pmid:…`` to the entry's
    id, so that a page citing an entry by identifier is listed under that entry.
    """
    result: dict[str, list[SourcePage]] = {}
    for page in pages:
        keys = page.keys() if resolve is None else {resolve(k) or k for k in page.keys()}
        for key in sorted(keys):
            result.setdefault(key, []).append(page)
    return result
