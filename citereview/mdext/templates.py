"""Every piece of HTML the extension writes, in one place, with a configurable class prefix.

The classes (``<prefix>cite``, ``<prefix>ref``, ``<prefix>status--<status>``…) are what the
package's stylesheet (``citereview/assets/citereview.css``) and the tests select on. A site
that has its own CSS for another prefix sets ``class_prefix`` (the Ketamine Evidence site
keeps ``ke-``). Strings given to these methods are plain text unless named ``*_html``.
"""

from __future__ import annotations

import functools
import html
import re

from ..core.claims import CLAIM_STATUSES
from ..core.model import Reference

#: A class prefix: lowercase letters, digits and hyphens, starting with a letter.
PREFIX_RE = re.compile(r"^[a-z][a-z0-9-]*$")

#: Heading elements: their text becomes anchors, TOC entries and page titles.
HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})

NEEDED_TIP = ("No source is attached to this statement yet. Treat it with caution "
              "until a reviewer adds one or removes it.")


@functools.lru_cache(maxsize=2048)
def esc(text: str) -> str:
    """Escape text for HTML we assemble ourselves (attributes included).

    Remembered: most of what we escape recurs on every citation (a status, its label, an
    evidence kind), some 15,000 times in a 200-page build.
    """
    return html.escape(text, quote=True)


class Templates:
    """The markup of citations, reference lists, notices and the site-wide pages."""

    def __init__(self, prefix: str = "cr-", evidence: bool = False,
                 shown: frozenset[str] = frozenset(CLAIM_STATUSES)) -> None:
        self.p = prefix
        #: Whether references carry an evidence kind to show (the ``evidence`` option).
        self.evidence = evidence
        #: Claim statuses marked on citations and counted in the notice (``show_statuses``).
        self.shown = shown
        # The classes every citation carries, joined once (thousands of citations a build).
        self._num = self.c("cite__num")
        self._tip = self.c("cite__tip")
        self._marks = {status: f" {self.c('status--' + status)}" for status in shown}

    @property
    def key(self) -> tuple[str, bool, frozenset[str]]:
        """What the markup depends on besides the content (for caches)."""
        return (self.p, self.evidence, self.shown)

    def c(self, name: str) -> str:
        """A class name with the prefix."""
        return self.p + name

    def data(self, name: str) -> str:
        """A ``data-`` attribute name with the prefix (``data-ke-flags``)."""
        return f"data-{self.p}{name}"

    # -- citations ------------------------------------------------------------------------
    def cite_class(self, needed: bool = False) -> str:
        return self.c("cite") + (f" {self.c('cite--needed')}" if needed else "")

    def cite_sup(self, cls: str, inner_html: str) -> str:
        # Out of the search index: numbers and previews are noise in results.
        return f'<sup class="{cls}" data-search-exclude="">{inner_html}</sup>'

    def heading_id(self, name: int | str) -> str:
        """Id of a ``<sup>`` holding our markup in a heading (a citation, by its position; a
        dated fact's label, by the label's id): like a footnote reference, so that
        Python-Markdown's toc and MkDocs' page title leave it out of anchor, TOC and title."""
        return f"fnref-{self.p}{name}"

    def needed(self, n: int) -> str:
        return (f'<span class="{self.c("cite__needed")}" tabindex="0" aria-describedby="tip-needed-{n}">'
                f'citation needed</span><span class="{self.c("cite__tip")}" role="tooltip" id="tip-needed-{n}" '
                f"data-search-exclude>{NEEDED_TIP}</span>")

    def missing(self, prefix: str, key: str) -> str:
        return f'{self.affix(prefix)}<span class="{self.c("cite__missing")}">[unknown source: {esc(key)}]</span>'

    @staticmethod
    def affix(prefix: str) -> str:
        return f"{esc(prefix)} " if prefix else ""

    def citation(self, *, prefix: str, status: str, slug: str, anchor_id: str, number: int, label: str,
                 tip_id: str, tip_html: str, locator: str) -> str:
        """One cited item: its number linking to the entry, the preview, the locator.

        Few tags on purpose: every later step (search indexing included) pays per tag. The
        preview follows the number directly (CSS shows it on hover and focus) and stays out
        of the search index, since the References list repeats it.
        """
        loc = f'<span class="{self.c("cite__locator")}">({esc(locator)})</span>' if locator else ""
        return (f'{self.affix(prefix)}<a class="{self._num}{self._marks.get(status, "")}" '
                f'data-review="{status}" href="#ref-{slug}" id="{anchor_id}" '
                f'aria-label="Reference {number}, {esc(label)}" '
                f'aria-describedby="{tip_id}">{number}</a><span class="{self._tip}" role="tooltip" '
                f'id="{tip_id}" data-search-exclude>{tip_html}</span>{loc}')

    def preview(self, ref: Reference, formatted_preview: str, status: str) -> str:
        """A citation's preview: formatted reference, evidence kind and the claim's status."""
        meta = f"{esc(ref.evidence_label)} · {esc(status)}" if self.evidence else esc(status)
        return f'{formatted_preview} <span class="{self.c("cite__meta")}">{meta}</span>'

    # -- reference lists ------------------------------------------------------------------
    def reference_class(self, status: str) -> str:
        return f"{self.c('ref')} {self.c('status--' + status)}"

    def badges(self, ref: Reference) -> str:
        """Evidence kind and the source's status, as text (not colour alone) for every reader."""
        status = ref.status_label
        note = ""
        if ref.review.note and ref.review.status != "unreviewed":
            note = f'<span class="{self.c("ref__note")}"> Reviewer note: {esc(ref.review.note)}</span>'
        evidence = (f'<span class="{self.c("badge")} {self.c("badge--evidence")}">{esc(ref.evidence_label)}</span> '
                    if self.evidence else "")
        return (f'<span class="{self.c("ref__meta")}">{evidence}<span class="{self.c("badge")} '
                f'{self.c("badge--status")} {self.c("status--" + ref.review.status)}">{esc(status)}</span>'
                f"{note}</span>")

    def backlinks(self, number: int, anchors: list[str]) -> str:
        # The arrow as a character reference: every other character we write is Latin-1, so
        # a page whose text is too stays a one-byte-per-character string in Python (a
        # literal U+21A9 doubles the size of every string holding the page, and the work
        # of encoding and scanning it, in every later step of the build).
        back = " ".join(
            f'<a class="{self.c("ref__backlink")}" href="#{anchor}" '
            f'aria-label="Back to citation {n} of reference {number}">&#8617; {n}</a>'
            for n, anchor in enumerate(anchors, start=1))
        return f'<span class="{self.c("ref__back")}">Cited at: {back}</span>'

    def list_items(self, entries: list[tuple[str, str, str]]) -> str:
        """``<li>`` entries of a references list from (class, id, inner HTML), one string."""
        return "\n" + "\n".join(f'<li class="{cls}" id="{id_}">{inner}</li>' for cls, id_, inner in entries) + "\n"

    # -- the flag notice ------------------------------------------------------------------
    def notice_class(self, serious: bool) -> str:
        return f"admonition {self.c('flags')}" + (f" {self.c('flags--serious')}" if serious else "")

    def notice_body(self, title: str, text: str, link: bool) -> str:
        return (f'\n<p class="admonition-title">{esc(title)}</p>\n<p>{esc(text)}'
                + ('<a href="#references">See the review status of each reference.</a>' if link else "")
                + "</p>\n")

    # -- the References page --------------------------------------------------------------
    def cited_on(self, links: list[tuple[str, str]]) -> str:
        """``Cited on: <a>Page</a>, …`` from (href, title) pairs, or a note that none cites it."""
        if not links:
            return "Not cited on any page."
        return "Cited on: " + ", ".join(
            f'<a href="{href}">{html.escape(title, quote=False)}</a>' for href, title in links) + "."

    def claims_verified(self, verified: int, total: int) -> str:
        """How many of the sentences citing a source a reviewer checked against it."""
        if not total:
            return ""
        return (f'<span class="{self.c("ref__claims")}">Claims verified by a reviewer: {verified} of {total}.'
                "</span> ")

    def bibliography_entry(self, status: str, slug: str, entry_html: str, cited_html: str) -> str:
        # Out of the search index: page titles repeated under the entries are noise in results.
        # A <div>, not a <span>: it holds the claims count (a <span>), and Material's indexer
        # ends an exclusion at the first closing tag of the same name, so inside a <span> the
        # "Cited on" list after the count reached the index.
        return (f'<li class="{self.reference_class(status)}" id="ref-{slug}">{entry_html}'
                f'<div class="{self.c("ref__back")}" data-search-exclude="">{cited_html}</div></li>')

    # -- in-text citations and dated facts (#17) ---------------------------------------------
    def narrative_class(self) -> str:
        """``<sup>`` class of an in-text citation (``@key``): after the author's name."""
        return f"{self.c('cite')} {self.c('cite--narrative')}"

    def narrative_name(self, name: str) -> str:
        """The author's name before an in-text citation's number, as running text."""
        return f'<span class="{self.c("intext-author")}">{esc(name)}</span>' if name else ""

    def fact_class(self, state: str) -> str:
        stale = f" {self.c('fact--stale')}" if state != "current" else ""
        return f"{self.c('fact')}{stale}"

    def fact_label(self, as_of: str, month_only: bool, stale: bool) -> str:
        """The visible label: the date, and for a stale fact the words that say so (text,
        not colour alone)."""
        return f"as of {as_of}" + (" · may be out of date" if stale else "")

    def fact_notice(self, count: int) -> str:
        """The sentence the page notice gets for dated facts that may be out of date."""
        return (f"{count} dated statement{'s' if count != 1 else ''} on this page "
                f"{'is' if count == 1 else 'are'} past {'its' if count == 1 else 'their'} "
                "check-by date and may be out of date.")

