"""The site-wide References page: every entry with its status, evidence and citing pages.

Rendered by the extension itself from the page sources (see :mod:`citereview.site`), so it
is the same under every engine and needs no plugin hook.
"""

from __future__ import annotations

import html
import os
import xml.etree.ElementTree as etree
from collections import Counter
from typing import TYPE_CHECKING

from . import site
from .model import REVIEW_STATUSES, STATUS_LABELS, Diagnostic
from .urls import directory_urls, link_from

if TYPE_CHECKING:
    from .extension import CiteReviewExtension


def _sort_key(ref) -> tuple[str, str]:
    authors = ref.csl.get("author") or []
    first = authors[0] if authors else {}
    name = first.get("family") or first.get("literal") or ref.title
    return (str(name).casefold(), ref.id)


def build_bibliography(parent: etree.Element, ext: CiteReviewExtension) -> None:
    from .extension import ref_parts, report

    bib = ext.bibliography()
    pages = site.read_site(ext.path("docs_dir"))
    citing = site.cited_by(pages)
    here = ext.page() or "references.md"
    style = ext.getConfig("style")

    counts = Counter(ref.review.status for ref in bib.references.values())
    summary = etree.SubElement(parent, "p", {"class": "ke-bib-summary"})
    summary.text = f"{len(bib)} references: " + ", ".join(
        f"{counts[s]} {STATUS_LABELS[s].lower()}" for s in REVIEW_STATUSES if counts[s]
    ) + "."

    listing = etree.SubElement(parent, "ul", {"class": "ke-bibliography"})
    use_dirs = directory_urls(ext)
    links = {page.path: html.escape(link_from(here, page.path, use_dirs), quote=True) for page in pages}
    # The whole list as one stashed string: a large bibliography has hundreds of entries and
    # every later tree processor would walk each. Links to the entries' ids come from our
    # own pages only (the review queue writes them as finished HTML too), and the site
    # crawl test checks that every one of them lands.
    items: list[str] = []
    for ref in sorted(bib.references.values(), key=_sort_key):
        parts = ref_parts(ref, bib, style)
        users = [p for p in citing.get(ref.id, []) if p.path != here]
        if users:
            # Finished HTML with URLs computed here: a large site has thousands of these
            # links, and as elements every later tree processor, the engine's link rewriting
            # and the search indexer went through each (they point at pages that exist:
            # read_site found them, and the site crawl test follows every one).
            anchor = f"#ref-{parts.slug}"
            cited = "Cited on: " + ", ".join(
                f'<a href="{links[page.path]}{anchor}">{html.escape(page.title, quote=False)}</a>'
                for page in users) + "."
        else:
            cited = "Not cited on any page."
            report(Diagnostic(os.fspath(bib.path), ref.line,
                              f"reference '{ref.id}' is not cited on any page", level="info",
                              code="unused"), once=True)
        # Out of the search index (see searchtrim.py): page titles repeated under the entries
        # are noise in results.
        items.append(f'<li class="ke-ref ke-status--{parts.status}" id="ref-{parts.slug}">{parts.entry}'
                     f'<span class="ke-ref__back" data-search-exclude="">{cited}</span></li>')
    listing.text = ext.defer("\n" + "\n".join(items) + "\n")
