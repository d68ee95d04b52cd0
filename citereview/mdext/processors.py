"""The extension's processors, split the way Python-Markdown's own footnotes extension splits
its work:

=================  ========  ==========================================================
processor          priority  job
=================  ========  ==========================================================
preprocessor       30        report the page's findings (front matter, unknown keys) with
                             file and line; keep front matter an engine could not parse
                             off the page
block processor    110       expand ``[bibliography]`` and ``[review-queue]`` markers into
                             the site-wide reference list and the review queue (block
                             tokens)
preprocessor       24        replace each ``[@key]`` group and ``[citation needed]``
                             outside code (and not escaped) by a citation token, before raw
                             HTML is stashed (20)
tree processor     15        number citations in document order (after inline, 20) and
                             render them (previews included), add the References section
                             and the flag notice; before ``toc`` (5) so "References"
                             appears in the TOC. Citations stay tokens in the text; only
                             those in headings and ``[citation needed]`` markers become
                             ``<sup>`` elements (ids the TOC or the review queue need)
postprocessor      5         swap every token for its HTML (:meth:`TokenTable.restore`),
                             or back to the author's text where citations are not
                             rendered (raw HTML, attributes)
=================  ========  ==========================================================

What outlives a page is cached by content (:class:`PagePlan` by the page's citations and
the bibliography version), so in the ``serve`` loop an unchanged page reuses it.
"""

from __future__ import annotations

import datetime as _dt
import re
import xml.etree.ElementTree as etree
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import yaml
from markdown import Markdown
from markdown.blockprocessors import BlockProcessor
from markdown.postprocessors import Postprocessor
from markdown.preprocessors import Preprocessor
from markdown.treeprocessors import Treeprocessor
from markdown.util import AtomicString

from ..core import bibliography as bibmod
from ..core import sources
from ..core.bibliography import unknown_key_message
from ..core.cache import BoundedCache
from ..core.claims import Claim, ClaimStatus, claim_text, derive, resolve
from ..core.findings import page_findings
from ..core.model import CiteGroup, CiteItem, Diagnostic, PageCitations, Reference, narrative_name, slug
from ..core.syntax import scan_source
from ..csl.formatter import Formatted, Formatter
from .state import STATE, current_page
from .templates import HEADINGS, Templates, esc
from .tokens import ANY_RE, CITE, CITE_RE, CITE_START, tokenise

if TYPE_CHECKING:
    from .extension import CiteReviewExtension


def register(md: Markdown, ext: CiteReviewExtension) -> None:
    """Register every processor at its documented priority (see the table above)."""
    md.preprocessors.register(PageChecks(md, ext), "citereview-front-matter", 30)
    md.parser.blockprocessors.register(MarkerBlock(md.parser, ext), "citereview-markers", 110)
    md.preprocessors.register(CitationTokens(md, ext), "citereview", 24)
    md.treeprocessors.register(CitationTree(md, ext), "citereview", 15)
    md.postprocessors.register(RestoreTokens(md, ext), "citereview", 5)


class PageChecks(Preprocessor):
    """Report the page's findings with file and line, the same the checker reports; and keep
    front matter the engine could not parse (shown as text otherwise) off the page."""

    def __init__(self, md: Markdown, ext: CiteReviewExtension):
        super().__init__(md)
        self.ext = ext

    def run(self, lines: list[str]) -> list[str]:
        from .extension import report
        from .state import STATE

        page = self.ext.page()
        STATE.page_started(page)
        _add_build_date(self.md)
        src = sources.read_page(self.ext.path("docs_dir"), page) if page else None
        if src is not None:  # engines strip front matter before us: check the source file
            for finding in self._findings(src, self.ext.display_path(page)):
                report(finding)
        if not lines or lines[0].strip() != "---":
            return lines
        end = next((i for i in range(1, len(lines)) if lines[i].strip() in ("---", "...")), None)
        if end is None:
            return lines
        problem: str | None = None
        line = 1
        try:
            data = yaml.safe_load("\n".join(lines[1:end]))
            if not isinstance(data, dict):
                problem = "front matter must be a mapping of 'key: value' lines"
                line = 2
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = (mark.line + 2) if mark else 2
            problem = f"malformed front matter: {getattr(exc, 'problem', None) or exc}"
        except ValueError as exc:  # e.g. a date like 2026-13-01
            problem = f"malformed front matter: {exc}"
            line = 2
        if problem and src is None:  # with a source file, page_findings reported it
            where = self.ext.display_path(page) if page else "<page>"
            report(Diagnostic(where, line, problem, code="front-matter"))
        return lines[end + 1 :]

    def _findings(self, src: sources.SourcePage, display: str) -> list:
        """The page's findings; in a ``serve`` session an unchanged page (same text, same
        bibliography, reviews and date) reuses the last build's."""
        bib = self.ext.bibliography()
        book = self.ext.reviews()
        policy = self.ext.fact_policy()
        key = (display, src.text, bib.digest, bib.loaded, book.path, book.version, policy.today, policy.max_age)
        found = _page_findings.get(key)
        if found is None:
            found = _page_findings.remember(key, page_findings(
                src, bib, display=display, notices=False, book=book, today=policy.today,
                fact_max_age=policy.max_age))
        return found


def _add_build_date(md: Markdown | None) -> None:
    """Zensical gives templates no build date: put one in the page's metadata (see
    :data:`~.state.BUILD_DATE_META`; ``overrides/partials/page-review.html`` reads it)."""
    from .state import BUILD_DATE_META, engine_meta

    meta = engine_meta(md) if md is not None else None
    if meta is not None:
        meta.setdefault(BUILD_DATE_META, _dt.datetime.now(_dt.UTC).date().isoformat())


#: A page's findings between ``serve`` rebuilds (a one-off build checks each page once).
_page_findings: BoundedCache[tuple, list] = BoundedCache("page-findings", 4096, rebuild_only=True)


class CitationTokens(Preprocessor):
    """Swap citation groups for tokens; code, code spans and ``\\[@key]`` are skipped."""

    def __init__(self, md: Markdown, ext: CiteReviewExtension):
        super().__init__(md)
        self.ext = ext

    def run(self, lines: list[str]) -> list[str]:
        text = "\n".join(lines)
        if "@" not in text and "[citation needed]" not in text.lower():
            return lines
        out, groups, texts = tokenise(text)
        tokens = self.ext.tokens
        tokens.groups, tokens.sources = list(groups), list(texts)
        if groups and self.ext.reviews().has_page(self.ext.page()):
            # Only pages with review records need each citation's sentence (to match the
            # reviews); found with the grammar that found the groups, so they pair up.
            tokens.sentences = [claim_text(occ.sentence) for occ in scan_source(text, front_matter=False)]
        return out.split("\n") if groups or out != text else lines


class RestoreTokens(Postprocessor):
    """Swap every token for its HTML. Runs after ``raw_html`` (30) put stashed HTML back."""

    def __init__(self, md: Markdown, ext: CiteReviewExtension):
        super().__init__(md)
        self.ext = ext

    def run(self, text: str) -> str:
        return self.ext.tokens.restore(text)


def _token_sites(root: etree.Element,
                 wants_element: Callable[[int], bool]) -> list[tuple[int, etree.Element | None, bool]]:
    """Every citation token in document order: the element that will carry it, if any, and
    whether it is inside a heading.

    Most citations stay tokens in the text until :class:`RestoreTokens` swaps in their HTML:
    every ``<sup>`` added to the tree would be walked again by each later tree processor
    (``smartsymbols`` alone runs ten patterns over every text node). A token becomes an
    empty ``<sup>`` element only where an element is needed: inside headings (the TOC and
    page title read heading text) and when ``wants_element(index)`` (``[citation needed]``
    markers carry an id that MkDocs must see to validate links from the review queue).
    """
    # The usual page: no citation in a heading and no marker that needs an element. Then the
    # document order of the tokens is that of the tree's text (``itertext`` walks text and
    # tails in document order, in C), and nothing in the tree changes.
    indices = [int(i) for i in CITE_RE.findall("".join(root.itertext()))]
    if not any(wants_element(i) for i in indices) and not any(
            CITE_START in "".join(h.itertext()) for tag in HEADINGS for h in root.iter(tag)):
        return [(i, None, False) for i in indices]
    return _walk_token_sites(root, wants_element)


_CITE_AFTER_SPACE_RE = re.compile(r"\s*(\x02kecite:\d+\x03)")


def _out_of_links(root: etree.Element) -> None:
    """Move citations out of link text to just after the link: ``[see [@key]](page.md)``.

    A citation's number is a link to its reference; inside the link text it would be an
    ``<a>`` inside an ``<a>`` (invalid HTML, and browsers split the outer link). After the
    link it reads the same ("see¹") and both links work.
    """
    for a in root.iter("a"):
        if CITE_START not in "".join(a.itertext()):
            continue
        moved: list[str] = []
        a.text = _take_cites(a.text, moved)
        for child in a.iter():
            if child is not a:
                child.text = _take_cites(child.text, moved)
                child.tail = _take_cites(child.tail, moved)
        a.tail = "".join(CITE.format(i) for i in moved) + (a.tail or "")


def _take_cites(text: str | None, moved: list[str]) -> str | None:
    """``text`` without its citation tokens (and the space before each), added to ``moved``."""
    if not text or CITE_START not in text:
        return text
    moved.extend(CITE_RE.findall(text))
    return _CITE_AFTER_SPACE_RE.sub("", text)


def _walk_token_sites(root: etree.Element,
                      wants_element: Callable[[int], bool]) -> list[tuple[int, etree.Element | None, bool]]:
    """:func:`_token_sites` the long way: walk the tree, adding ``<sup>`` elements."""
    found: list[tuple[int, etree.Element | None, bool]] = []

    def split(text: str, in_heading: bool) -> tuple[str, list[etree.Element]]:
        parts = CITE_RE.split(text)
        head = parts[0]
        sups: list[etree.Element] = []
        for i in range(1, len(parts), 2):
            index, after = int(parts[i]), parts[i + 1]
            if in_heading or wants_element(index):
                sup = etree.Element("sup")
                sup.tail = after
                sups.append(sup)
                found.append((index, sup, in_heading))
            else:
                found.append((index, None, False))
                if sups:
                    sups[-1].tail += CITE.format(index) + after
                else:
                    head += CITE.format(index) + after
        return head, sups

    def visit(text: str, in_heading: bool) -> tuple[str, list[etree.Element]]:
        if not in_heading:
            indices = [int(i) for i in CITE_RE.findall(text)]
            if not any(wants_element(i) for i in indices):
                found.extend((i, None, False) for i in indices)
                return text, []
        return split(text, in_heading)

    def walk(el: etree.Element, in_heading: bool) -> None:
        in_heading = in_heading or el.tag in HEADINGS
        inserted = 0
        if el.text and CITE_START in el.text:
            el.text, sups = visit(el.text, in_heading)
            for i, sup in enumerate(sups):
                el.insert(i, sup)
            inserted = len(sups)
        for child in list(el)[inserted:]:
            walk(child, in_heading)
            if child.tail and CITE_START in child.tail:
                child.tail, sups = visit(child.tail, in_heading)
                if sups:
                    index = list(el).index(child) + 1
                    for i, sup in enumerate(sups):
                        el.insert(index + i, sup)

    walk(root, False)
    return found


@dataclass(frozen=True)
class PagePlan:
    """Everything a page's citations render to, as strings, in document order.

    A pure function of the citation groups (in order), the bibliography version, the style
    and the markup, so it is cached across builds: in the ``serve`` loop every unchanged
    page reuses its plan and only the tree is rebuilt from it.
    """

    #: Per citation site: ``<sup>`` class, ``<sup>`` id (or ""), inner HTML.
    citations: tuple[tuple[str, str, str], ...]
    #: Per References entry, by number: ``<li>`` class, ``<li>`` id, inner HTML.
    references: tuple[tuple[str, str, str], ...]
    #: The flag notice: serious?, flagged count, title, text, whether to link to the
    #: References list; ``None`` if nothing is flagged.
    notice: tuple[bool, int, str, str, bool] | None
    #: Cited keys missing from the bibliography, for diagnostics.
    unknown: tuple[str, ...]
    #: Per citation site: HTML before the ``<sup>`` (an in-text citation's author name), or "".
    leads: tuple[str, ...] = ()


#: Page plans by content, for the ``serve`` loop only (see :mod:`citereview.core.cache`).
_plans: BoundedCache[tuple, PagePlan] = BoundedCache("page-plans", 4096, rebuild_only=True)


def page_plan(key: tuple, groups: list[CiteGroup], bib: bibmod.Bibliography, formatter: Formatter,
              t: Templates, statuses: tuple[ClaimStatus, ...] | None) -> PagePlan:
    """The plan of a page's citation groups; ``key`` names them with everything else it
    depends on (bibliography version, style, markup, claim statuses)."""
    plan = _plans.get(key)
    return plan if plan is not None else _plans.remember(key, make_plan(groups, bib, formatter, t, statuses))


@dataclass(frozen=True)
class LatePage:
    """What a page's late citation markup is made from (MkDocs plugin, ``compact_pages``).

    MkDocs converts every page before it renders any and keeps each page's HTML until
    the build ends. Citations (each with its preview) and the References list were most
    of that HTML and most of a build's extra memory. With ``compact_pages`` they stay
    tokens in ``page.content``, and the plugin calls :func:`expand_late` just before the
    page is indexed and rendered; the strings exist for one page at a time.
    """

    #: The :func:`page_plan` key.
    key: tuple
    #: The citation groups in document order, the citation token of each, their claims.
    groups: tuple[CiteGroup, ...]
    indices: tuple[int, ...]
    statuses: tuple[ClaimStatus, ...] | None
    #: The block token of the References list, if the page has one.
    block: int | None
    bib: bibmod.Bibliography
    formatter: Formatter
    templates: Templates


def expand_late(text: str, late: LatePage) -> str:
    """``text`` with the page's late tokens swapped for their HTML, exactly the HTML
    :class:`RestoreTokens` would have put there."""
    t = late.templates
    plan = page_plan(late.key, list(late.groups), late.bib, late.formatter, t, late.statuses)
    cites = {index: (plan.leads[position] if plan.leads else "") + t.cite_sup(cls, inner)
             for position, (index, (cls, _, inner)) in enumerate(zip(late.indices, plan.citations, strict=True))}
    references = t.list_items(list(plan.references)) if late.block is not None else ""

    def swap(m: re.Match[str]) -> str:
        index = int(m.group(2))
        if m.group(1) == "block":
            return references if index == late.block else m.group(0)
        return cites.get(index, m.group(0))

    return ANY_RE.sub(swap, text)


class CitationTree(Treeprocessor):
    """Number citations by first use, add previews, the References list and the notice."""

    def __init__(self, md: Markdown, ext: CiteReviewExtension):
        super().__init__(md)
        self.ext = ext

    def run(self, root: etree.Element) -> None:
        tokens = self.ext.tokens
        if not tokens.groups:
            return
        groups = tokens.groups
        _out_of_links(root)
        sites = _token_sites(root, lambda index: groups[index].needed)
        if not sites:
            return
        bib = self.ext.bibliography()
        t = self.ext.templates
        formatter = self.ext.formatter()
        statuses = self._claim_statuses(sites, bib)
        # The source text of each group determines the group; strings hash once, fast.
        key = (bib.path, bib.digest, bib.loaded, formatter.style_name, t.key,
               tuple(tokens.sources[site[0]] for site in sites), statuses)
        site_groups = [groups[site[0]] for site in sites]
        page = current_page.get()  # set by the MkDocs plugin, which makes late markup
        late = STATE.late and page is not None
        # Late pages need a plan now only for the elements (headings, citation-needed markers);
        # otherwise numbering tells the tree all it needs, unless `serve` kept the plan.
        place = not late or any(el is not None for _, el, _ in sites)
        plan = page_plan(key, site_groups, bib, formatter, t, statuses) if place else _plans.get(key)
        if plan is not None:
            if place:
                self._place(root, sites, plan, render_inline=not late)
            has_references, notice, unknown = bool(plan.references), plan.notice, plan.unknown
        else:
            # Numbered again when the plan is made: kept until then, every page's numbering
            # would be alive at once (MkDocs converts all pages before rendering any).
            has_references, notice, unknown = number_citations(site_groups, bib, statuses).page_level(t.shown)
        block: int | None = None
        if has_references:
            self._references(root, t.list_items(list(plan.references)) if plan and not late else None)
            block = len(tokens.blocks) - 1
        if notice and self.ext.getConfig("notice"):
            self._notice(root, notice)
        if unknown and self.ext.page() is None:
            self._report_unknown(bib, list(unknown))
        if late and page is not None:
            # Citations in the text and the References list stay tokens until the plugin
            # calls expand_late (after conversion, only compact text is held).
            tokens.late.update(index for index, el, _ in sites if el is None)
            STATE.late_pages[page] = LatePage(key, tuple(site_groups), tuple(site[0] for site in sites), statuses,
                                              block, bib, formatter, t)

    def _place(self, root: etree.Element, sites: list[tuple[int, etree.Element | None, bool]], plan: PagePlan,
               render_inline: bool) -> None:
        """Put each citation's markup where it goes: elements now, text tokens at restore."""
        tokens = self.ext.tokens
        t = self.ext.templates
        for position, ((index, el, in_heading), (cls, id_, inner)) in enumerate(
                zip(sites, plan.citations, strict=True)):
            lead = plan.leads[position] if plan.leads else ""
            if el is None:
                if render_inline:
                    tokens.rendered[index] = lead + t.cite_sup(cls, inner)
                continue
            if lead:
                _put_before(root, el, lead, self.md)
            el.set("class", cls)
            el.set("data-search-exclude", "")
            if in_heading:
                # Python-Markdown's toc and MkDocs' page title leave out a heading's
                # <sup id="fnref…"> (footnote references): our citation stays out of the
                # heading's anchor, its TOC entry and the page title the same way.
                el.set("id", t.heading_id(position + 1))
                if id_:  # the citation-needed id moves to an inner element
                    el = etree.SubElement(el, "span", {"id": id_})
            elif id_:  # on the element, so links from the review queue validate
                el.set("id", id_)
            assert self.md is not None
            el.text = AtomicString(self.md.htmlStash.store(inner))

    def _claim_statuses(self, sites: list[tuple[int, etree.Element | None, bool]],
                        bib: bibmod.Bibliography) -> tuple[ClaimStatus, ...] | None:
        """Each cited item's claim status, in document order; ``None`` when no claim on the
        page was ever reviewed (then a claim's status is its source's, see make_plan)."""
        sentences = self.ext.tokens.sentences
        page = self.ext.page()
        if sentences is None or page is None:
            return None
        groups = self.ext.tokens.groups
        claims = [Claim(page, bib.resolve(item.key) or item.key, sentences[index], item.suffix)
                  for index, _, _ in sites if not groups[index].needed for item in groups[index].items]
        source = {c.key: ref.review.status for c in claims if (ref := bib.get(c.key)) is not None}
        return tuple(resolve(claims, source, self.ext.reviews()))

    # -- page-level markup --------------------------------------------------------------
    def _references(self, root: etree.Element, items_html: str | None) -> None:
        # Elements, for the TOC. Out of the search index: results should lead to prose, and
        # the site-wide References page indexes every entry once.
        t = self.ext.templates
        h2 = etree.SubElement(root, "h2", {"class": t.c("references-title"), "id": "references",
                                           "data-search-exclude": ""})
        h2.text = AtomicString(self.ext.getConfig("references_title"))
        ol = etree.SubElement(root, "ol", {"class": t.c("references"), "data-search-exclude": ""})
        # The entries as one block token, not one element each for every later tree
        # processor to walk. Their ids are linked to by our own markup only (citations, and
        # the review queue's finished HTML); the site crawl test checks every such link.
        ol.text = AtomicString(self.ext.tokens.defer(items_html))

    def _notice(self, root: etree.Element, notice: tuple[bool, int, str, str, bool]) -> None:
        serious, flagged, title, text, link = notice
        t = self.ext.templates
        box = etree.Element("div", {
            "class": t.notice_class(serious), "role": "note", t.data("flags"): str(flagged),
            # The same notice on most pages would crowd out the prose in search results.
            "data-search-exclude": "",
        })
        box.text = AtomicString(self.ext.tokens.defer(t.notice_body(title, text, link)))
        # Directly under the page's H1 when there is one, else at the very top.
        index = next((i + 1 for i, child in enumerate(root) if child.tag == "h1"), 0)
        root.insert(index, box)

    # -- diagnostics --------------------------------------------------------------------
    def _report_unknown(self, bib: bibmod.Bibliography, keys: list[str]) -> None:
        """Without a page path (plain Python-Markdown), find the unknown keys in the sources."""
        from .extension import report

        if not bib.loaded:
            return  # the bibliography's own error was reported; don't flood with every key
        unknown = set(keys)
        docs_dir = self.ext.path("docs_dir")
        found = False
        for rel in sources.list_pages(docs_dir):
            src = sources.read_page(docs_dir, rel)
            if src is None:
                continue
            for occ in src.occurrences:
                for item in occ.group.items:
                    if item.key in unknown:
                        found = True
                        report(Diagnostic(self.ext.display_path(rel), occ.line,
                                          unknown_key_message(item.key, bib.references), col=occ.col,
                                          code="unknown-key"))
        if not found:
            for key in sorted(unknown):
                report(Diagnostic("<page>", 1, unknown_key_message(key, bib.references), code="unknown-key"))


#: One cited item, numbered: the item, its reference (``None`` if unknown), its number on
#: the page, which use of that reference on the page it is (1, 2, …) and its claim status.
NumberedItem = tuple[CiteItem, Reference | None, int, int, ClaimStatus | None]


@dataclass(frozen=True)
class Numbering:
    """A page's citations numbered by first use (AMA), before any markup is made.

    Cheap, and all the tree needs when the markup is made late (:class:`LatePage`): whether
    there is a References list, the flag notice and the unknown keys.
    """

    state: PageCitations
    #: Per citation site: the number of a ``[citation needed]`` marker, or the group's items.
    sites: tuple[int | tuple[NumberedItem, ...], ...]

    def page_level(self, shown: frozenset[str]) -> tuple[bool, tuple[bool, int, str, str, bool] | None,
                                                          tuple[str, ...]]:
        """What the page gets besides its citations: whether it has a References list, its
        flag notice (:func:`_notice_plan`) and its unknown keys."""
        return bool(self.state.numbers), _notice_plan(self.state, shown), tuple(self.state.unknown)


def number_citations(groups: list[CiteGroup], bib: bibmod.Bibliography,
                     statuses: tuple[ClaimStatus, ...] | None = None) -> Numbering:
    """Number a page's citation groups, in document order, each item with its claim status.

    ``statuses``: the claim status of each cited item in order (:mod:`citereview.core.claims`);
    without, each claim has its source's status (no claim on the page was reviewed).
    """
    state = PageCitations()
    claims = iter(statuses) if statuses is not None else None
    sites: list[int | tuple[NumberedItem, ...]] = []
    for group in groups:
        if group.needed:
            state.needed += 1
            sites.append(state.needed)
            continue
        items: list[NumberedItem] = []
        for item in group.items:
            ref = bib.get(item.key)
            claim = next(claims) if claims is not None else None
            if ref is None:
                state.unknown.append(item.key)
                items.append((item, None, 0, 0, None))
                continue
            if claim is None:
                claim = derive(ref.review.status)
            state.statuses.append(claim.status)
            state.uses[ref.id] = use = state.uses.get(ref.id, 0) + 1
            items.append((item, ref, state.number_for(ref.id), use, claim))
        sites.append(tuple(items))
    return Numbering(state, tuple(sites))


def make_plan(groups: list[CiteGroup], bib: bibmod.Bibliography, formatter: Formatter,
              t: Templates, statuses: tuple[ClaimStatus, ...] | None = None) -> PagePlan:
    """Render a page's citation groups, in document order (AMA: numbered by first use);
    ``statuses`` as for :func:`number_citations`."""
    numbering = number_citations(groups, bib, statuses)
    state = numbering.state
    citations: list[tuple[str, str, str]] = []
    for group, site in zip(groups, numbering.sites, strict=True):
        if isinstance(site, int):
            citations.append((t.cite_class(needed=True), f"needed-{site}", t.needed(site)))
        else:
            cls = t.narrative_class() if group.narrative else t.cite_class()
            citations.append((cls, "", _group_html(site, bib, formatter, t)))
    references = []
    for key, number in sorted(state.numbers.items(), key=lambda kv: kv[1]):
        fixed = ref_parts(bib.references[key], bib, formatter, t)
        anchors = [f"cite-{fixed.slug}-{use}" for use in range(1, state.uses[key] + 1)]
        references.append((t.reference_class(fixed.status), f"ref-{fixed.slug}",
                           fixed.entry + t.backlinks(number, anchors)))
    leads = tuple(_narrative_lead(group, bib, t) for group in groups) if any(
        group.narrative for group in groups) else ()
    _, notice, unknown = numbering.page_level(t.shown)
    return PagePlan(tuple(citations), tuple(references), notice, unknown, leads)


def _narrative_lead(group: CiteGroup, bib: bibmod.Bibliography, t: Templates) -> str:
    """An in-text citation's author name (AMA: "Zarate et al"), before its number."""
    if not group.narrative:
        return ""
    ref = bib.get(group.items[0].key)
    return t.narrative_name(narrative_name(ref.csl)) if ref is not None else ""


def _put_before(root: etree.Element, el: etree.Element, markup: str, md: Markdown | None) -> None:
    """Put finished HTML just before ``el`` (an in-text citation's name before its ``<sup>``
    in a heading, where the ``<sup>`` is an element)."""
    assert md is not None
    parent = next(p for p in root.iter() if any(child is el for child in p))
    index = list(parent).index(el)
    stashed = md.htmlStash.store(markup)
    if index == 0:
        parent.text = AtomicString((parent.text or "") + stashed)
    else:
        before = parent[index - 1]
        before.tail = AtomicString((before.tail or "") + stashed)


@dataclass(frozen=True, slots=True)
class RefParts:
    """The parts of a reference's markup that do not depend on the page citing it.

    The formatted reference is the formatter's own, not a copy: a References entry is
    joined with its badges where a page's list is made, which makes a new string anyway.
    """

    slug: str
    #: The source's status (a fact about the source, not about any sentence).
    status: str
    formatted: Formatted
    #: After the formatted reference (with links) in a References entry.
    badges: str

    @property
    def preview(self) -> str:
        """A citation's preview before the claim's status: the formatted reference."""
        return self.formatted.preview

    @property
    def entry(self) -> str:
        """A References entry before its back-links: formatted reference with links, badges."""
        return self.formatted.html + self.badges


#: Reference parts by (bibliography version, style, markup, key): each reference is cited on
#: many pages, and its parts are the same on all of them.
_ref_parts: BoundedCache[tuple, RefParts] = BoundedCache("reference-parts", 20000)


def ref_parts(ref: Reference, bib: bibmod.Bibliography, formatter: Formatter, t: Templates) -> RefParts:
    key = (bib.digest, formatter.style_name, t.p, t.evidence, ref.id)
    parts = _ref_parts.get(key)
    if parts is None:
        from .extension import report

        formatted, problem = formatter.format_checked(ref, bib.digest, bib.path)
        if problem is not None:
            report(problem, once=True)
        parts = _ref_parts.remember(key, RefParts(
            slug=slug(ref.id),
            status=ref.review.status,
            formatted=formatted,
            badges=t.badges(ref),
        ))
    return parts


def _group_html(items: tuple[NumberedItem, ...], bib: bibmod.Bibliography, formatter: Formatter,
                t: Templates) -> str:
    """The inside of a citation's ``<sup>``: numbers, previews, locators."""
    parts: list[str] = []
    for item, ref, number, use, claim in items:
        if ref is None or claim is None:
            parts.append(t.missing(item.prefix, item.key))
            continue
        fixed = ref_parts(ref, bib, formatter, t)
        parts.append(t.citation(prefix=item.prefix, status=claim.status, slug=fixed.slug,
                                anchor_id=f"cite-{fixed.slug}-{use}", number=number, label=claim.label,
                                tip_id=f"tip-{fixed.slug}-{use}",
                                tip_html=t.preview(ref, fixed.preview, claim.description), locator=item.suffix))
    return ",".join(parts)


#: How the notice names claims of each status other than verified and unreviewed: the
#: singular and the plural form.
_NOTICE_PHRASES: dict[str, tuple[str, str]] = {
    "stale": ("has changed since a reviewer checked it", "have changed since a reviewer checked them"),
    "partly": ("is only partly supported by its source, according to a reviewer",
               "are only partly supported by their source, according to a reviewer"),
    "disputed": ("is disputed (a reviewer found its source does not support it, or the source is disputed)",
                 "are disputed (a reviewer found their source does not support them, or the source is "
                 "disputed)"),
    "retracted": ("cites a retracted source", "cite a retracted source"),
    "outdated": ("cites an outdated source", "cite an outdated source"),
}


def _notice_plan(state: PageCitations, shown: frozenset[str]) -> tuple[bool, int, str, str, bool] | None:
    """The counts shown near the title: serious?, flagged count, title, text, link?

    It counts claims (each cited item in its sentence), not references: a reviewer checks
    that a source supports a sentence, and each sentence carries its own status. Statuses
    the site does not show (``show_statuses``) are not counted as flagged.
    """
    counts: dict[str, int] = {}
    for status in state.statuses:
        if status in shown or status == "verified":
            counts[status] = counts.get(status, 0) + 1
    total = len(state.statuses)
    unverified = sum(counts.values()) - counts.get("verified", 0)
    serious = {s: n for s, n in counts.items() if s in ("disputed", "retracted", "outdated")}
    if not unverified and not state.needed and not state.unknown:
        return None
    parts = []
    if unverified:
        parts.append(f"{unverified} of {total} cited claim{'s' if total != 1 else ''} on this page "
                     f"{'has' if unverified == 1 else 'have'} not been verified by a human reviewer")
    for status, (one, many) in _NOTICE_PHRASES.items():
        n = counts.get(status, 0)
        if n:
            parts.append(f"{n} {one if n == 1 else many}")
    if state.needed:
        parts.append(f"{state.needed} statement{'s' if state.needed != 1 else ''} "
                     f"{'are' if state.needed != 1 else 'is'} marked “citation needed”")
    unknown = len(set(state.unknown))
    if unknown:
        parts.append(f"{unknown} citation{'s' if unknown != 1 else ''} "
                     "could not be matched to the bibliography")
    title = "Sources still being checked" if not serious else "Some sources have problems"
    return (bool(serious), unverified + state.needed, title, "; ".join(parts) + ". ", bool(total))


class MarkerBlock(BlockProcessor):
    """A reserved marker alone in a paragraph, expanded into site-wide content.

    ``[bibliography]``: every reference with status and citing pages (bibpage.py);
    ``[review-queue]``: everything still to review (queuepage.py).
    """

    MARKERS = ("bibliography", "review-queue")
    #: Up to three spaces of indentation: four make an indented code block, shown as written.
    MARKER_RE = re.compile(r"^ {0,3}\[(" + "|".join(map(re.escape, MARKERS)) + r")\]\s*$", re.I)
    #: Longer blocks cannot be a marker: most paragraphs are rejected without a regex.
    MAX_LEN = max(map(len, MARKERS)) + 16

    def __init__(self, parser, ext: CiteReviewExtension):
        super().__init__(parser)
        self.ext = ext

    def test(self, parent: etree.Element, block: str) -> bool:
        return len(block) <= self.MAX_LEN and bool(self.MARKER_RE.match(block))

    def run(self, parent: etree.Element, blocks: list[str]) -> None:
        m = self.MARKER_RE.match(blocks.pop(0))
        assert m is not None
        # Imported here, and only the one needed: most sites have one page with a marker, and
        # every cold build would otherwise import the review queue's modules too.
        if m.group(1).lower() == "bibliography":
            from .bibpage import build_bibliography

            build_bibliography(parent, self.ext)
        else:
            from .queuepage import build_queue

            build_queue(parent, self.ext)


__all__ = ["LatePage", "PagePlan", "RefParts", "esc", "expand_late", "make_plan", "number_citations",
           "page_plan", "ref_parts", "register"]
