"""The ``[review-queue]`` page: the review queue's outline as headings, lists and folds.

Built by the Markdown extension from the page sources (like the References page), so every
engine shows the same queue; the computation and the outline are in
:mod:`citereview.core.queue`.
"""

from __future__ import annotations

import html
import xml.etree.ElementTree as etree
from collections.abc import Callable
from posixpath import dirname, relpath
from typing import TYPE_CHECKING

from markdown.util import AtomicString

from ..core.claims import word_diff
from ..core.model import slug
from ..core.project import EditLinks, config_near, in_docs
from ..core.queue import FOLD_AFTER, Entry, Queue, compute_queue, outline
from ..core.sources import read_site
from ..core.urls import link_from
from .templates import Templates

if TYPE_CHECKING:
    from .extension import CiteReviewExtension


def _sub(parent: etree.Element, tag: str, text: str | None = None, **attrs: str) -> etree.Element:
    el = etree.SubElement(parent, tag, {k.rstrip("_"): v for k, v in attrs.items()})
    if text is not None:
        el.text = AtomicString(text)
    return el


def render_tree(parent: etree.Element, q: Queue, t: Templates, here: str,
                stash: Callable[[str], str] | None = None, use_dirs: bool = True) -> None:
    """The site page: counts, then sections as headings, lists and folded ``<details>``.

    Links are elements (the engine rewrites and checks them), except links to a reference
    entry (``#ref-…``): pages keep their reference lists as stashed HTML, where the engine
    sees no ids, so with ``stash`` those links are finished HTML with URLs computed here.
    """
    base = dirname(here) or "."

    def href(target: str | None) -> str | None:
        if not target:
            return None
        path, _, anchor = target.partition("#")
        return relpath(path, base) + (f"#{anchor}" if anchor else "")

    def link(el: etree.Element, text: str, target: str | None) -> etree.Element:
        if stash is not None and target and target.partition("#")[2].startswith("ref-"):
            span = _sub(el, "span")
            url = html.escape(link_from(here, target, use_dirs), quote=True)
            span.text = stash(f'<a href="{url}">{html.escape(text, quote=False)}</a>')
            return span
        h = href(target)
        return _sub(el, "a", text, href=h) if h else _sub(el, "span", text)

    def edit_link(el: etree.Element, url: str | None) -> None:
        if url:
            _sub(el, "a", "Edit", href=url, class_=t.c("queue__edit"))

    def entry(ul: etree.Element, e: Entry) -> None:
        li = _sub(ul, "li", class_=t.c("queue__item"))
        if e.quote:
            # The sentence first, on its own line: it is what the reviewer checks the source against.
            _sub(_sub(li, "p", class_=t.c("queue__sentence")), "q", e.quote)
        if e.before:
            # What changed since the review, word by word: the reviewer re-checks just that.
            p = _sub(li, "p", class_=t.c("queue__diff"))
            _sub(p, "span", "Changes since the review: ")
            for op, text in word_diff(e.before, e.quote):
                _sub(p, {"=": "span", "-": "del", "+": "ins"}[op], text).tail = " "
        link(li, e.label, e.target)
        if e.edit:
            sep = _sub(li, "span", " · ", class_=t.c("queue__sep"))
            sep.set("aria-hidden", "true")
            edit_link(li, e.edit)
        if e.note:
            _sub(_sub(li, "p", class_=t.c("queue__note")), "span", f"Reviewer note: {e.note}")
        if e.children:
            holder: etree.Element = li
            if len(e.children) > FOLD_AFTER:
                holder = _sub(li, "details", class_=t.c("queue__fold"))
                _sub(holder, "summary", f"Show all {len(e.children)}")
            sub = _sub(holder, "ul")
            for child in e.children:
                entry(sub, child)

    summary = _sub(parent, "p", class_=t.c("queue-summary"))
    summary.text = AtomicString(f"As of the build date, {q.today.isoformat()}: {q.total} item"
                                f"{'s' if q.total != 1 else ''} to review.")
    counts = _sub(parent, "ul", class_=t.c("queue-counts"))
    for code, label, n in q.counts():
        li = _sub(counts, "li", **{t.data("count"): code})
        _sub(li, "strong", str(n)).tail = AtomicString(f" {label}")

    for section in outline(q):
        _sub(parent, "h2", section.title, id=section.id)
        if section.intro:
            _sub(parent, "p", section.intro)
        for n, group in enumerate(section.groups, start=1):
            container = parent
            if len(group.entries) > FOLD_AFTER:
                container = _sub(parent, "details", class_=t.c("queue__fold"))
                _sub(container, "summary", f"{group.title or section.title}: {len(group.entries)} items")
            elif group.title:
                h3 = _sub(parent, "h3", id=f"{section.id}-{slug(group.target or str(n))}")
                link(h3, group.title, group.target)
            if group.intro or group.edit:
                p = _sub(container, "p", class_=t.c("queue__page"))
                if group.intro:
                    _sub(p, "span", group.intro + " ")
                edit_link(p, group.edit)
            if group.entries:
                ul = _sub(container, "ul", class_=t.c("queue"))
                for e in group.entries:
                    entry(ul, e)


def build_queue(parent: etree.Element, ext: CiteReviewExtension) -> None:
    """Expand the ``[review-queue]`` marker: the whole queue as of the build date."""
    bib = ext.bibliography()
    docs_dir = ext.path("docs_dir")
    policy = ext.fact_policy()
    q = compute_queue(bib, read_site(docs_dir), edit=EditLinks.from_config(config_near(docs_dir)),
                      today=policy.today, fact_max_age=policy.max_age,
                      docs_prefix=str(ext.getConfig("docs_dir")).rstrip("/"),
                      bib_docs_path=in_docs(ext.path("bibliography"), docs_dir), book=ext.reviews())
    render_tree(parent, q, ext.templates, ext.page() or "review-queue.md", stash=_stash(ext),
                use_dirs=ext.directory_urls())


def _stash(ext: CiteReviewExtension) -> Callable[[str], str]:
    """Finished HTML inside an element: the stash (atomic, so later inline passes skip it)."""
    def stash(markup: str) -> str:
        assert ext.md is not None
        return AtomicString(ext.md.htmlStash.store(markup))
    return stash
