"""The review queue: everything a reviewer still has to look at, by page and by reference.

One computation (:func:`compute_queue`) feeds three outputs so they never disagree:

* the site page (the ``[review-queue]`` block marker, :func:`build_queue`), built by the
  Markdown extension from the page sources like the References page, so every engine
  shows it;
* ``citereview queue`` in a terminal (text);
* ``citereview queue --format markdown`` for a pull request's ``$GITHUB_STEP_SUMMARY``.

Items link to the page's reference anchor (``page.md#ref-<slug>``) or citation-needed
anchor (``page.md#needed-N``), ids the extension emits, and to the source's edit page.
"""

from __future__ import annotations

import datetime as _dt
import html
import re
import xml.etree.ElementTree as etree
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from posixpath import dirname, relpath
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin

from markdown.util import AtomicString

from . import site
from .bibliography import Bibliography
from .frontmatter import read_front_matter
from .model import STATUS_LABELS, Reference
from .parse import mask_code
from .urls import directory_urls, link_from, page_url

if TYPE_CHECKING:
    from .check import Project
    from .extension import CiteReviewExtension

#: Citation statuses in the order a reviewer should deal with them.
CITE_ORDER: tuple[str, ...] = ("retracted", "disputed", "outdated", "unreviewed")
#: Lists longer than this are folded into ``<details>`` so the page stays usable.
FOLD_AFTER = 8
_MARKER_RE = re.compile(r"^\s*\[bibliography\]\s*$", re.I | re.M)
_MD_LINK_RE = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")


def _slug(key: str) -> str:
    from .extension import slug

    return slug(key)


# -- edit links -------------------------------------------------------------------------
@dataclass(frozen=True)
class EditLinks:
    """``repo_url`` + ``edit_uri`` (or ``edit_uri_template``) + path, as MkDocs builds them."""

    repo_url: str | None = None
    edit_uri: str | None = None
    edit_uri_template: str | None = None

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> EditLinks:
        repo = config.get("repo_url")
        repo = str(repo) if repo else None
        edit_uri = config.get("edit_uri")
        if edit_uri is None and repo:
            # MkDocs' defaults for the big forges; elsewhere there is no edit link.
            host = repo.lower()
            if "github.com" in host or "gitlab.com" in host:
                edit_uri = "edit/master/docs/"
            elif "bitbucket.org" in host:
                edit_uri = "src/default/docs/"
        template = config.get("edit_uri_template")
        return cls(repo, str(edit_uri) if edit_uri else None, str(template) if template else None)

    def url(self, docs_path: str) -> str | None:
        """Edit URL of a file, given its path relative to docs_dir."""
        if self.edit_uri_template:
            uri = self.edit_uri_template.format(path=docs_path, path_noext=PurePosixPath(docs_path).with_suffix(""))
        elif self.edit_uri:
            uri = self.edit_uri + docs_path
        else:
            return None
        if self.repo_url:
            return urljoin(self.repo_url.rstrip("/") + "/", uri)
        return uri if re.match(r"^https?://", uri) else None


# -- the queue --------------------------------------------------------------------------
@dataclass(frozen=True)
class Item:
    """One thing to review. ``page`` is docs-relative; ``anchor`` an id on that page."""

    kind: str  # cite | needed | unknown-key | page-overdue | page-unreviewed | no-identifier | unused
    page: str | None = None
    line: int = 0
    col: int = 0
    key: str | None = None
    status: str | None = None
    sentence: str = ""
    anchor: str = ""
    detail: str = ""


@dataclass
class Queue:
    """Every flagged item, plus what the renderers need to label and link them."""

    items: list[Item]
    bib: Bibliography
    pages: dict[str, site.SourcePage]
    today: _dt.date
    edit: EditLinks = field(default_factory=EditLinks)
    docs_prefix: str = "docs"
    bib_page: str | None = None
    bib_docs_path: str | None = None

    def of(self, kind: str, status: str | None = None) -> list[Item]:
        return [i for i in self.items if i.kind == kind and (status is None or i.status == status)]

    def counts(self) -> list[tuple[str, str, int]]:
        """(code, label, count) for the summary at the top, in a stable order, zeros included."""
        rows: list[tuple[str, str, int]] = []
        for status in CITE_ORDER:
            cites = self.of("cite", status)
            refs = len({i.key for i in cites})
            label = f"citations of {status} references"
            rows.append((status, label + (f" ({refs} reference{'s' if refs != 1 else ''})" if refs else ""),
                         len(cites)))
        for kind, label in (
            ("needed", "statements marked citation needed"),
            ("unknown-key", "unknown citation keys"),
            ("no-identifier", "references without DOI, PMID or URL"),
            ("page-overdue", "pages overdue for review"),
            ("page-unreviewed", "pages never reviewed"),
            ("unused", "unused references"),
        ):
            rows.append((kind, label, len(self.of(kind))))
        return rows

    @property
    def total(self) -> int:
        return len(self.items)

    def title(self, page: str) -> str:
        return self.pages[page].title if page in self.pages else page

    def file(self, page: str) -> str:
        return f"{self.docs_prefix}/{page}" if self.docs_prefix else page

    def ref_label(self, key: str) -> str:
        ref = self.bib.get(key)
        return f"{key}: {short_reference(ref)}" if ref else key

    def ref_short(self, key: str) -> str:
        """``Zanos et al, 2018 [zanos2018ketamine]``: enough to find it, short enough for a phone."""
        ref = self.bib.get(key)
        who = short_reference(ref, with_title=False) if ref else ""
        return f"{who} [{key}]" if who else key


def short_reference(ref: Reference, *, with_title: bool = True) -> str:
    """``Zanos et al, 2018. Title`` for lists where the full AMA entry would be too long."""
    authors = ref.csl.get("author") or []
    first = authors[0] if authors else {}
    name = first.get("family") or first.get("literal") or ""
    if name and len(authors) > 1:
        name += " et al"
    parts = (ref.csl.get("issued") or {}).get("date-parts") or [[None]]
    year = parts[0][0] if parts and parts[0] else None
    who = ", ".join(str(p) for p in (name, year) if p)
    if not with_title:
        return who
    return f"{who}. {ref.title}" if who else ref.title


def _clean_sentence(text: str) -> str:
    """The sentence as a reader sees it: link text without URLs, no gap left by the citation."""
    text = _MD_LINK_RE.sub(r"\1", text)
    return re.sub(r"\s+([.,;:!?)])", r"\1", text).strip()


def _is_content_page(page: site.SourcePage, has_review_fields: bool) -> bool:
    """Pages that make claims are reviewed: they cite sources or declare authors."""
    return bool(page.occurrences) or has_review_fields


def compute_queue(bib: Bibliography, pages: Iterable[site.SourcePage], *, today: _dt.date | None = None,
                  changed: set[str] | None = None, bibliography_changed: bool = True,
                  edit: EditLinks | None = None, docs_prefix: str = "docs",
                  bib_docs_path: str | None = None) -> Queue:
    """Compute every flagged item.

    ``changed`` (docs-relative page paths) limits page items to those pages and reference
    items to references cited there (all references when ``bibliography_changed``).
    """
    today = today or _dt.datetime.now(_dt.UTC).date()
    all_pages = list(pages)
    items: list[Item] = []
    keep = (lambda p: True) if changed is None else (lambda p: p in changed)
    # The page holding the [bibliography] marker has every reference's #ref-<slug> anchor.
    bib_page = next((p.path for p in all_pages if _MARKER_RE.search(mask_code(p.text))), None)

    for page in all_pages:
        if not keep(page.path):
            continue
        review, _ = read_front_matter(page.path, page.text, today=today)
        if _is_content_page(page, bool(review.lines)):
            due = review.due
            if not review.reviewed:
                items.append(Item("page-unreviewed", page.path, 1, 1, detail="never reviewed"))
            elif due is not None and today > due:
                items.append(Item("page-overdue", page.path, review.line_of("next_review",
                                  review.line_of("last_reviewed")), 1, detail=due.isoformat()))
        needed = 0
        for occ in page.occurrences:
            sentence = _clean_sentence(occ.sentence)
            if occ.group.needed:
                needed += 1
                items.append(Item("needed", page.path, occ.line, occ.col, sentence=sentence,
                                  anchor=f"needed-{needed}"))
                continue
            for cite in occ.group.items:
                ref = bib.get(cite.key)
                if ref is None:
                    if bib.loaded:
                        items.append(Item("unknown-key", page.path, occ.line, occ.col, key=cite.key,
                                          sentence=sentence))
                    continue
                if ref.review.flagged:
                    items.append(Item("cite", page.path, occ.line, occ.col, key=ref.id,
                                      status=ref.review.status, sentence=sentence,
                                      anchor=f"ref-{_slug(ref.id)}", detail=ref.review.note or ""))

    used = {key for page in all_pages for key in page.keys()}
    in_scope = None if changed is None or bibliography_changed else {
        key for page in all_pages if page.path in changed for key in page.keys()}
    for ref in bib.references.values():
        if in_scope is not None and ref.id not in in_scope:
            continue
        anchor = f"ref-{_slug(ref.id)}"
        if not ref.has_identifier:
            items.append(Item("no-identifier", bib_page, ref.line, 1, key=ref.id, status=ref.review.status,
                              anchor=anchor))
        if ref.id not in used:
            items.append(Item("unused", bib_page, ref.line, 1, key=ref.id, status=ref.review.status,
                              anchor=anchor))
    return Queue(items, bib, {p.path: p for p in all_pages}, today, edit or EditLinks(), docs_prefix,
                 bib_page, bib_docs_path)


def project_queue(project: Project, *, changed: Iterable[str] | None = None,
                  today: _dt.date | None = None) -> Queue:
    """The queue of a project on disk, as ``citereview queue`` shows it."""
    from . import bibliography as bibmod

    bib = bibmod.load(project.bibliography)
    pages = site.read_site(project.docs_dir) if project.docs_dir.is_dir() else []
    docs_prefix = project.display(project.docs_dir)
    bib_docs = None
    try:
        bib_docs = project.bibliography.resolve().relative_to(project.docs_dir.resolve()).as_posix()
    except ValueError:
        pass
    return compute_queue(bib, pages, today=today, changed=project.changed_pages(changed),
                         bibliography_changed=project.bibliography_changed(changed),
                         edit=EditLinks.from_config(project.config), docs_prefix=docs_prefix,
                         bib_docs_path=bib_docs)


# -- a renderer-neutral outline ---------------------------------------------------------
@dataclass
class Entry:
    """One list entry: label, optional quoted sentence, a link into the site, an edit link."""

    label: str
    target: str | None = None  # docs-relative path with #anchor
    quote: str = ""
    where: str = ""  # file:line:col, for the terminal
    edit: str | None = None
    note: str = ""
    children: list[Entry] = field(default_factory=list)


@dataclass
class Group:
    title: str
    entries: list[Entry]
    intro: str = ""
    target: str | None = None
    edit: str | None = None


@dataclass
class Section:
    title: str
    id: str
    groups: list[Group]
    intro: str = ""


_CITE_PHRASE = {
    "retracted": "Cites a retracted reference",
    "disputed": "Cites a disputed reference",
    "outdated": "Cites an outdated reference",
    "unreviewed": "Cites a reference not yet reviewed",
}


def outline(q: Queue) -> list[Section]:
    """Group the items by page and by reference, most serious first."""
    sections: list[Section] = []

    def cite_entry(i: Item, *, show_page: bool = False) -> Entry:
        assert i.page is not None
        label = (f"{q.title(i.page)}: " if show_page else "") + (
            q.ref_short(i.key or "") if i.kind == "cite" else f"Unknown citation key {i.key}")
        note = i.detail if i.kind == "cite" and i.status != "unreviewed" else ""
        return Entry(label, f"{i.page}#{i.anchor}" if i.anchor else i.page, i.sentence,
                     f"{q.file(i.page)}:{i.line}:{i.col}", q.edit.url(i.page), note)

    # By page
    by_page: dict[str, list[Item]] = {}
    for i in q.items:
        if i.page is not None and i.kind not in ("no-identifier", "unused"):
            by_page.setdefault(i.page, []).append(i)
    groups: list[Group] = []
    for page in sorted(by_page, key=lambda p: (q.title(p).casefold(), p)):
        its = by_page[page]
        state = next((i for i in its if i.kind.startswith("page-")), None)
        intro = ""
        if state is not None and state.kind == "page-overdue":
            intro = f"Page review overdue since {state.detail}."
        elif state is not None:
            intro = "Page never reviewed."
        group = Group(q.title(page), [], intro, page, q.edit.url(page))
        for status in CITE_ORDER[:-1]:
            group.entries += [cite_entry(i) for i in its if i.kind == "cite" and i.status == status]
        group.entries += [cite_entry(i) for i in its if i.kind == "unknown-key"]
        group.entries += [Entry("Citation needed", f"{page}#{i.anchor}", i.sentence,
                                f"{q.file(page)}:{i.line}:{i.col}", q.edit.url(page))
                          for i in its if i.kind == "needed"]
        unreviewed = [cite_entry(i) for i in its if i.kind == "cite" and i.status == "unreviewed"]
        if unreviewed:
            group.entries.append(Entry(f"{len(unreviewed)} citation{'s' if len(unreviewed) != 1 else ''} "
                                       "of references not yet reviewed", children=unreviewed))
        groups.append(group)
    sections.append(Section("By page", "queue-by-page", groups,
                            "" if groups else "Nothing flagged on any page."))

    # By reference
    groups = []
    bib_target = (lambda key: f"{q.bib_page}#ref-{_slug(key)}") if q.bib_page else (lambda key: None)
    for status in CITE_ORDER:
        cites = q.of("cite", status)
        if not cites:
            continue
        per_ref: dict[str, list[Item]] = {}
        for i in cites:
            per_ref.setdefault(i.key or "", []).append(i)
        entries = []
        for key in sorted(per_ref):
            ref = q.bib.get(key)
            note = ref.review.note if ref and ref.review.note and status != "unreviewed" else ""
            kids = [cite_entry(i, show_page=True) for i in per_ref[key]]
            if status == "unreviewed":
                # The sentences are listed by page above; here only where, to keep it short.
                kids = [Entry(f"{q.title(i.page or '')}, line {i.line}", k.target, where=k.where)
                        for k, i in zip(kids, per_ref[key], strict=True)]
            entries.append(Entry(f"{q.ref_label(key)} (cited {len(kids)} time{'s' if len(kids) != 1 else ''})",
                                 bib_target(key), where=_bib_where(q, ref),
                                 edit=_bib_edit(q), note=note, children=kids))
        groups.append(Group(f"{STATUS_LABELS.get(status, status)} ({len(entries)})", entries))
    sections.append(Section("By reference", "queue-by-reference", groups,
                            "" if groups else "Every cited reference has been verified."))

    for kind, title, sid, empty in (
        ("no-identifier", "References without DOI, PMID or URL", "queue-no-identifier",
         "Every reference has a DOI, PMID or URL."),
        ("unused", "Unused references", "queue-unused", "Every reference is cited somewhere."),
    ):
        entries = [Entry(q.ref_label(i.key or ""), bib_target(i.key or ""), where=_bib_where(q, q.bib.get(i.key or "")),
                         edit=_bib_edit(q)) for i in sorted(q.of(kind), key=lambda i: i.key or "")]
        sections.append(Section(title, sid, [Group("", entries)] if entries else [], "" if entries else empty))
    return sections


def _bib_where(q: Queue, ref: Reference | None) -> str:
    path = f"{q.docs_prefix}/{q.bib_docs_path}" if q.bib_docs_path else q.bib.path
    return f"{path}:{ref.line}:1" if ref else path


def _bib_edit(q: Queue) -> str | None:
    return q.edit.url(q.bib_docs_path) if q.bib_docs_path else None


# -- renderers --------------------------------------------------------------------------
def render_text(q: Queue) -> str:
    """Plain text for a terminal: counts, then every item with its file:line:col."""
    out = [f"Review queue ({q.today.isoformat()}): {q.total} item(s)"]
    out += [f"  {n:5d}  {label}" for _, label, n in q.counts()]

    def entry(e: Entry, indent: str) -> None:
        head = f"{indent}- {e.label}"
        if e.where:
            head += f"  [{e.where}]"
        out.append(head)
        if e.quote:
            out.append(f"{indent}    “{e.quote}”")
        if e.note:
            out.append(f"{indent}    Reviewer note: {e.note}")
        for child in e.children:
            entry(child, indent + "  ")

    for section in outline(q):
        out += ["", f"== {section.title} =="]
        if section.intro:
            out.append(section.intro)
        for group in section.groups:
            if group.title:
                out += ["", f"-- {group.title}" + (f" ({q.file(group.target)})" if group.target else "")]
            if group.intro:
                out.append(group.intro)
            for e in group.entries:
                entry(e, "")
    return "\n".join(out) + "\n"


def _site_url(config: dict[str, Any] | None, target: str | None) -> str | None:
    """Absolute URL of a docs-relative ``page.md#anchor`` on the published site."""
    if not target or not config or not config.get("site_url"):
        return None
    path, _, anchor = target.partition("#")
    url = page_url(path, bool(config.get("use_directory_urls", True)))
    url = "" if url == "./" else url
    base = str(config["site_url"]).rstrip("/") + "/"
    return base + url + (f"#{anchor}" if anchor else "")


def render_markdown(q: Queue, config: dict[str, Any] | None = None) -> str:
    """GitHub-flavoured Markdown (for ``$GITHUB_STEP_SUMMARY``), large groups folded."""
    esc = lambda s: html.escape(s, quote=False).replace("|", "\\|").replace("[", "\\[")  # noqa: E731
    out = ["## Citation review queue", "", f"As of {q.today.isoformat()}:", "",
           "| Flag | Count |", "| --- | ---: |"]
    out += [f"| {esc(label)} | {n} |" for _, label, n in q.counts()]

    def link(text: str, target: str | None) -> str:
        url = _site_url(config, target)
        return f"[{esc(text)}]({url})" if url else esc(text)

    def entry(e: Entry, indent: str) -> None:
        line = f"{indent}- {link(e.label, e.target)}"
        if e.where:
            line += f" `{e.where}`"
        if e.edit:
            line += f" · [edit]({e.edit})"
        out.append(line)
        if e.quote:
            out.append(f"{indent}  > {esc(e.quote)}")
        if e.note:
            out.append(f"{indent}  Reviewer note: {esc(e.note)}")
        if e.children:
            folded = len(e.children) > FOLD_AFTER
            if folded:
                out.extend(["", f"{indent}  <details><summary>Show {len(e.children)}</summary>", ""])
            for child in e.children:
                entry(child, indent + "  ")
            if folded:
                out.extend(["", f"{indent}  </details>", ""])

    for section in outline(q):
        out += ["", f"### {section.title}", ""]
        if section.intro:
            out.append(esc(section.intro))
        for group in section.groups:
            folded = len(group.entries) > FOLD_AFTER
            title = link(group.title, group.target) if group.title else ""
            if folded:
                summary = html.escape(group.title or f"{len(group.entries)} references")
                out += ["", f"<details><summary>{summary} ({len(group.entries)} items)</summary>", ""]
            elif title:
                out += ["", f"#### {title}", ""]
            if group.intro:
                out += [esc(group.intro), ""]
            for e in group.entries:
                entry(e, "")
            if folded:
                out += ["", "</details>"]
    return "\n".join(out) + "\n"


def _sub(parent: etree.Element, tag: str, text: str | None = None, **attrs: str) -> etree.Element:
    el = etree.SubElement(parent, tag, {k.rstrip("_"): v for k, v in attrs.items()})
    if text is not None:
        el.text = AtomicString(text)
    return el


def render_tree(parent: etree.Element, q: Queue, here: str,
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
            _sub(el, "a", "Edit", href=url, class_="ke-queue__edit")

    def entry(ul: etree.Element, e: Entry) -> None:
        li = _sub(ul, "li", class_="ke-queue__item")
        if e.quote:
            # The sentence first, on its own line: it is what the reviewer checks the source against.
            _sub(_sub(li, "p", class_="ke-queue__sentence"), "q", e.quote)
        link(li, e.label, e.target)
        if e.edit:
            sep = _sub(li, "span", " · ", class_="ke-queue__sep")
            sep.set("aria-hidden", "true")
            edit_link(li, e.edit)
        if e.note:
            _sub(_sub(li, "p", class_="ke-queue__note"), "span", f"Reviewer note: {e.note}")
        if e.children:
            holder: etree.Element = li
            if len(e.children) > FOLD_AFTER:
                holder = _sub(li, "details", class_="ke-queue__fold")
                _sub(holder, "summary", f"Show all {len(e.children)}")
            sub = _sub(holder, "ul")
            for child in e.children:
                entry(sub, child)

    summary = _sub(parent, "p", class_="ke-queue-summary")
    summary.text = AtomicString(f"As of the build date, {q.today.isoformat()}: {q.total} item"
                                f"{'s' if q.total != 1 else ''} to review.")
    counts = _sub(parent, "ul", class_="ke-queue-counts")
    for code, label, n in q.counts():
        li = _sub(counts, "li", **{"data-ke-count": code})
        _sub(li, "strong", str(n)).tail = AtomicString(f" {label}")

    for section in outline(q):
        _sub(parent, "h2", section.title, id=section.id)
        if section.intro:
            _sub(parent, "p", section.intro)
        for n, group in enumerate(section.groups, start=1):
            container = parent
            if len(group.entries) > FOLD_AFTER:
                container = _sub(parent, "details", class_="ke-queue__fold")
                _sub(container, "summary", f"{group.title or section.title}: {len(group.entries)} items")
            elif group.title:
                h3 = _sub(parent, "h3", id=f"{section.id}-{_slug(group.target or str(n))}")
                link(h3, group.title, group.target)
            if group.intro or group.edit:
                p = _sub(container, "p", class_="ke-queue__page")
                if group.intro:
                    _sub(p, "span", group.intro + " ")
                edit_link(p, group.edit)
            if group.entries:
                ul = _sub(container, "ul", class_="ke-queue")
                for e in group.entries:
                    entry(ul, e)


def project_config(ext: CiteReviewExtension) -> dict[str, Any]:
    """mkdocs.yml next to docs_dir (or in the working directory), for edit links; {} if none."""
    from .check import ConfigError, Project

    docs = Path(ext.path("docs_dir")).resolve()
    for candidate in (docs.parent / "mkdocs.yml", Path.cwd() / "mkdocs.yml"):
        if candidate.is_file():
            try:
                return Project.load(candidate).config
            except ConfigError:
                return {}
    return {}


def build_queue(parent: etree.Element, ext: CiteReviewExtension) -> None:
    """Expand the ``[review-queue]`` marker: the whole queue as of the build date."""
    bib = ext.bibliography()
    docs_dir = Path(ext.path("docs_dir"))
    pages = site.read_site(docs_dir)
    config = project_config(ext)
    try:
        bib_docs = Path(ext.path("bibliography")).resolve().relative_to(docs_dir.resolve()).as_posix()
    except ValueError:
        bib_docs = None
    q = compute_queue(bib, pages, edit=EditLinks.from_config(config),
                      docs_prefix=str(ext.getConfig("docs_dir")).rstrip("/"), bib_docs_path=bib_docs)
    render_tree(parent, q, ext.page() or "review-queue.md", stash=ext.stash,
                use_dirs=directory_urls(ext))


def counts_by_status(q: Queue) -> Counter[str]:
    """Flagged citations per status (handy for tests and summaries)."""
    return Counter(i.status for i in q.of("cite"))
