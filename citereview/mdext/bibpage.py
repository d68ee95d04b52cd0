"""The site-wide References page: every entry with its status, evidence and citing pages.

Rendered by the extension itself from the page sources (see :mod:`citereview.core.sources`),
so it is the same under every engine and needs no plugin hook.
"""

from __future__ import annotations

import html
import xml.etree.ElementTree as etree
from collections import Counter
from typing import TYPE_CHECKING

from ..core import sources
from ..core.bibliography import Bibliography
from ..core.findings import claim_statuses, page_claims, reference_findings
from ..core.model import REVIEW_STATUSES, STATUS_LABELS, Reference
from ..core.urls import link_from
from .processors import ref_parts

if TYPE_CHECKING:
    from .extension import CiteReviewExtension


def _sort_key(ref: Reference) -> tuple[str, str]:
    return ((ref.first_author or ref.title).casefold(), ref.id)


def build_bibliography(parent: etree.Element, ext: CiteReviewExtension) -> None:
    from .extension import report

    bib = ext.bibliography()
    pages = sources.read_site(ext.path("docs_dir"))
    citing = sources.cited_by(pages, bib.resolve)
    here = ext.page() or "references.md"
    t = ext.templates
    formatter = ext.formatter()

    counts = Counter(ref.review.status for ref in bib.references.values())
    claims, verified = _claim_counts(pages, bib, ext)
    summary = etree.SubElement(parent, "p", {"class": t.c("bib-summary")})
    total = sum(claims.values())
    summary.text = f"{len(bib)} references: " + ", ".join(
        f"{counts[s]} {STATUS_LABELS[s].lower()}" for s in REVIEW_STATUSES if counts[s]
    ) + f". Claims verified by a reviewer: {sum(verified.values())} of {total}."
    for finding in reference_findings(bib, pages, display=bib.path):
        if finding.level != "notice":  # builds report warnings and errors; notices are for check and the queue
            report(finding, once=True)

    # In a <div>: a list written right after the marker ("- item") must start a list of its
    # own, and Python-Markdown would otherwise take a <ul> ending the page so far for the one
    # to continue (and fail on it: its entries are one block token, not <li> elements).
    holder = etree.SubElement(parent, "div", {"class": t.c("bibliography-list")})
    listing = etree.SubElement(holder, "ul", {"class": t.c("bibliography")})
    use_dirs = ext.directory_urls()
    links = {page.path: html.escape(link_from(here, page.path, use_dirs), quote=True) for page in pages}
    # The whole list as one block token: a large bibliography has hundreds of entries and
    # every later tree processor would walk each. The "Cited on" links are finished HTML
    # with URLs computed here: a large site has thousands of them, and as elements every
    # later tree processor, the engine's link rewriting and the search indexer went through
    # each (they point at pages that exist: read_site found them, and the site crawl test
    # follows every one, as it does every link to the entries' ids).
    items: list[str] = []
    for ref in sorted(bib.references.values(), key=_sort_key):
        parts = ref_parts(ref, bib, formatter, t)
        anchor = f"#ref-{parts.slug}"
        users = [(f"{links[p.path]}{anchor}", p.title) for p in citing.get(ref.id, []) if p.path != here]
        checked = t.claims_verified(verified[ref.id], claims[ref.id])
        items.append(t.bibliography_entry(parts.status, parts.slug, parts.entry, checked + t.cited_on(users)))
    listing.text = ext.tokens.defer("\n" + "\n".join(items) + "\n")


def _claim_counts(pages: list[sources.SourcePage], bib: Bibliography,
                  ext: CiteReviewExtension) -> tuple[Counter[str], Counter[str]]:
    """Per reference: how many claims cite it, and how many of those a reviewer verified.

    Only pages with review records are scanned for sentences; elsewhere no claim is verified.
    """
    claims: Counter[str] = Counter()
    verified: Counter[str] = Counter()
    book = ext.reviews()
    for page in pages:
        if book.has_page(page.path):
            for claim, status in zip(page_claims(page, bib), claim_statuses(page, bib, book), strict=True):
                claims[claim.key] += 1
                verified[claim.key] += status.status == "verified"
        else:
            for key, n in page.item_counts.items():
                claims[bib.resolve(key) or key] += n
    return claims, verified
