"""Dated facts on the page: ``[as of 2026-11-24]`` rendered as a date label, flagged when stale.

An inline processor, not a token like citations: Python-Markdown then leaves the marker alone
exactly where it leaves any inline syntax alone (code spans, code blocks, raw HTML, after a
``\\[`` escape), which is also where :func:`citereview.core.facts.scan_facts` does not look,
so the labels and the ``fact-*`` findings of ``check`` are the same markers. Each label is
an element with an ``id`` (``fact-N``, N counting valid markers in source order), so the
review queue can link to it and MkDocs can validate that link.

Malformed markers are left as text: the build reports them as errors (via the findings),
and the page shows what the author wrote.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as etree
from dataclasses import dataclass
from typing import TYPE_CHECKING

from markdown import Markdown
from markdown.inlinepatterns import InlineProcessor
from markdown.preprocessors import Preprocessor
from markdown.treeprocessors import Treeprocessor
from markdown.util import AtomicString

from ..core.facts import FactPolicy, parse_fact
from ..core.syntax import FACT_PATTERN
from .templates import HEADINGS

if TYPE_CHECKING:
    from .extension import CiteReviewExtension

#: After ``escape`` (180: ``\[as of …]`` stays text) and before ``reference``/``link``
#: (170/160), which would otherwise try the brackets as a link.
INLINE_PRIORITY = 175
#: After the citations' tree processor (15), which adds the page notice, and before ``toc`` (5).
TREE_PRIORITY = 14
#: After ``pymdownx.snippets`` (32), so that included text counts, and before inline
#: processing (a tree processor) reads the inline patterns.
SWITCH_PRIORITY = 25
#: Where a marker could start; a document without one never needs the inline pattern.
#: Spelled without ``re.I`` so that the regex engine can skip ahead to each ``[``.
_MARKER_START = re.compile(r"\[[Aa][Ss][ \t]+[Oo][Ff][ \t]")
INLINE_NAME = "citereview-facts"


@dataclass
class PageFacts:
    """Per document: how many labels were written, and how many are stale."""

    count: int = 0
    stale: int = 0


def register(md: Markdown, ext: CiteReviewExtension) -> None:
    inline = FactInline(FACT_PATTERN, md, ext)
    md.inlinePatterns.register(inline, INLINE_NAME, INLINE_PRIORITY)
    md.preprocessors.register(FactSwitch(md, inline), "citereview-facts", SWITCH_PRIORITY)
    md.treeprocessors.register(FactTree(md, ext), "citereview-facts", TREE_PRIORITY)


class FactSwitch(Preprocessor):
    """Offer the inline pattern only to documents that contain ``[as of``.

    Python-Markdown tries every inline pattern on every run of text of every page, so a
    pattern costs time on pages it can never match: on a site where a few pages carry dated
    facts, most of that time is wasted. Each document registers or removes the pattern
    before inline processing starts, so a ``Markdown`` instance reused for several
    documents (Zensical, plain Python-Markdown) gets it back when a document needs it.
    """

    def __init__(self, md: Markdown, inline: FactInline):
        super().__init__(md)
        self.inline = inline

    def run(self, lines: list[str]) -> list[str]:
        wanted = _MARKER_START.search("\n".join(lines)) is not None
        patterns = self.md.inlinePatterns
        if wanted and INLINE_NAME not in patterns:
            patterns.register(self.inline, INLINE_NAME, INLINE_PRIORITY)
        elif not wanted and INLINE_NAME in patterns:
            patterns.deregister(INLINE_NAME)
        return lines


class FactInline(InlineProcessor):
    """``[as of …]`` to a label with an accessible description (see :meth:`label`)."""

    def __init__(self, pattern: str, md: Markdown, ext: CiteReviewExtension):
        super().__init__(f"(?i:{pattern})", md)
        self.ext = ext

    def handleMatch(self, m, data):  # noqa: N802 - Python-Markdown API
        try:
            fact = parse_fact(m.group("fact"))
        except ValueError as exc:
            if self.ext.page() is None:  # else the page checks report it with its line
                from ..core.model import Diagnostic
                from .extension import report

                report(Diagnostic("<page>", 1, f"malformed dated-fact marker '{m.group(0)}': {exc}",
                                  code="fact-malformed"))
            return None, None, None
        page = self.ext.facts
        page.count += 1
        policy: FactPolicy = self.ext.fact_policy()
        state = fact.state(policy)
        if state != "current":
            page.stale += 1
        return self.label(fact, state, policy, m.group("fact")), m.start(0), m.end(0)

    def label(self, fact, state: str, policy: FactPolicy, written: str) -> etree.Element:
        """``<span class="…fact">``: a focusable label, and its description in a tooltip
        (``aria-describedby``), shown on hover and focus like a citation preview. The ids
        are set by :class:`FactTree`, in document order."""
        t = self.ext.templates
        as_of, _, until = (part.strip() for part in written.partition(","))
        attrs = {"class": t.fact_class(state), t.data("fact"): state, t.data("as-of"): as_of}
        if fact.until is not None:
            attrs[t.data("until")] = until.split(None, 1)[-1]
        box = etree.Element("span", attrs)
        label = etree.SubElement(box, "span", {"class": t.c("fact__label"), "tabindex": "0"})
        label.text = AtomicString(t.fact_label(fact.as_of_text, fact.as_of_month, state != "current"))
        tip = etree.SubElement(box, "span", {"class": t.c("fact__tip"), "role": "tooltip", "data-search-exclude": ""})
        tip.text = AtomicString(fact.describe(state, policy.max_age))
        return box


class FactTree(Treeprocessor):
    """Number the labels in document order (the order of the findings' ``fact-N`` anchors:
    inline processing visits table cells and paragraphs in another order), and count stale
    facts in the page notice (added to the citations' notice, or a new one)."""

    def __init__(self, md: Markdown, ext: CiteReviewExtension):
        super().__init__(md)
        self.ext = ext

    def run(self, root: etree.Element) -> None:
        if not self.ext.facts.count:
            return
        t = self.ext.templates
        marker = t.data("fact")
        n = 0
        for el in root.iter("span"):
            if el.get(marker) is not None:
                n += 1
                el.set("id", f"fact-{n}")
                el[0].set("aria-describedby", f"tip-fact-{n}")
                el[1].set("id", f"tip-fact-{n}")
        self._out_of_headings(root, marker)
        stale = self.ext.facts.stale
        if stale and self.ext.getConfig("notice"):
            self._notice(root, stale)

    def _out_of_headings(self, root: etree.Element, marker: str) -> None:
        """Wrap each label in a heading in ``<sup id="fnref-…">``, as citations in headings are.

        Python-Markdown's toc and MkDocs' page title leave such an element out, so the
        heading's anchor, its TOC entry and the page title stay the heading's own words: not
        the label and its description run together, and an anchor that does not change (and
        break links) each time the date is updated. The label itself stays in the heading.
        """
        t = self.ext.templates
        found = [(parent, i, child) for tag in HEADINGS for heading in root.iter(tag)
                 for parent in heading.iter() for i, child in enumerate(parent)
                 if child.tag == "span" and child.get(marker) is not None]
        for parent, i, label in found:  # wrapped after the walk: a wrapper holds its label
            wrapper = etree.Element("sup", {"class": t.c("fact-heading"), "id": t.heading_id(label.get("id", ""))})
            wrapper.tail, label.tail = label.tail, None
            wrapper.append(label)
            parent[i] = wrapper

    def _notice(self, root: etree.Element, stale: int) -> None:
        t = self.ext.templates
        box = next((child for child in root if t.c("flags") in (child.get("class") or "").split()), None)
        if box is None:
            box = etree.Element("div", {"class": t.notice_class(False), "role": "note", "data-search-exclude": ""})
            title = etree.SubElement(box, "p", {"class": "admonition-title"})
            title.text = AtomicString("Some statements may be out of date")
            index = next((i + 1 for i, child in enumerate(root) if child.tag == "h1"), 0)
            root.insert(index, box)
        box.set(t.data("facts"), str(stale))
        etree.SubElement(box, "p").text = AtomicString(t.fact_notice(stale))
