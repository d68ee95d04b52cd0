"""The review queue: everything a reviewer still has to look at, by page and by reference.

The items are the findings of :mod:`citereview.core.findings` (the same the checker and
the build report); :func:`outline` groups them into one renderer-neutral outline that feeds
three outputs, so they never disagree:

* the site page (the ``[review-queue]`` block marker), rendered by
  :mod:`citereview.mdext.queuepage` from the page sources like the References page, so
  every engine shows it;
* ``citereview queue`` in a terminal, and ``--format markdown`` for a pull request's
  ``$GITHUB_STEP_SUMMARY`` (:mod:`citereview.cli.queue`).

Items link to the page's reference anchor (``page.md#ref-<slug>``) or citation-needed
anchor (``page.md#needed-N``), ids the extension emits, and to the source's edit page.
"""

from __future__ import annotations

import datetime as _dt
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from .bibliography import Bibliography
from .claims import human_date
from .facts import DEFAULT_MAX_AGE
from .facts import today as current_date
from .findings import NO_REVIEWS, PAGE_CODES, REFERENCE_CODES, Finding, bibliography_page, site_findings
from .model import Reference, slug
from .project import EditLinks, Project
from .reviews import ReviewBook
from .sources import SourcePage, read_site

#: Claim statuses in the order a reviewer deals with them: sentences changed since their
#: review and claims never reviewed first (the work of the day), then the problems found.
CITE_ORDER: tuple[str, ...] = ("stale", "unreviewed", "disputed", "partly", "retracted", "outdated")
#: How the counts at the top name the claims of each status.
CITE_COUNT_LABELS: dict[str, str] = {
    "stale": "claims changed since they were checked",
    "unreviewed": "claims not yet reviewed",
    "disputed": "claims a reviewer found unsupported, or citing disputed sources",
    "partly": "claims only partly supported by their source",
    "retracted": "claims citing retracted sources",
    "outdated": "claims citing outdated sources",
}
#: Lists longer than this are folded into ``<details>`` so the page stays usable.
FOLD_AFTER = 8


# -- the queue --------------------------------------------------------------------------
#: One thing to review: the findings are the queue's items.
Item = Finding


@dataclass
class Queue:
    """Every flagged item, plus what the renderers need to label and link them."""

    items: list[Item]
    bib: Bibliography
    pages: dict[str, SourcePage]
    today: _dt.date
    edit: EditLinks = field(default_factory=EditLinks)
    docs_prefix: str = "docs"
    bib_page: str | None = None
    bib_docs_path: str | None = None

    def of(self, kind: str, status: str | None = None) -> list[Item]:
        return [i for i in self.items if i.code == kind and (status is None or i.status == status)]

    def counts(self) -> list[tuple[str, str, int]]:
        """(code, label, count) for the summary at the top, in a stable order, zeros included."""
        rows: list[tuple[str, str, int]] = []
        for status in CITE_ORDER:
            cites = self.of("cite", status)
            refs = len({i.key for i in cites})
            label = CITE_COUNT_LABELS[status]
            rows.append((status, label + (f" ({refs} reference{'s' if refs != 1 else ''})" if refs else ""),
                         len(cites)))
        for kind, label in (
            ("needed", "statements marked citation needed"),
            ("unknown-key", "unknown citation keys"),
            ("fact-expired", "dated facts past their end date"),
            ("fact-overage", "dated facts older than the maximum age"),
            ("no-identifier", "references without DOI, PMID or URL"),
            ("page-overdue", "pages overdue for review"),
            ("page-unreviewed", "pages never reviewed"),
            ("unused", "unused references"),
        ):
            rows.append((kind, label, len(self.of(kind))))
        duplicates = len(self.of("duplicate-identifier"))
        if duplicates:  # an anomaly: counted only when there is one
            rows.append(("duplicate-identifier", "references entered twice (same DOI or PMID)", duplicates))
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
        return f"{key}: {ref.short()}" if ref else key

    def ref_short(self, key: str) -> str:
        """``Zanos et al, 2018 [zanos2018ketamine]``: enough to find it, short enough for a phone."""
        ref = self.bib.get(key)
        who = ref.short(with_title=False) if ref else ""
        return f"{who} [{key}]" if who else key


def compute_queue(bib: Bibliography, pages: Iterable[SourcePage], *, today: _dt.date | None = None,
                  changed: set[str] | None = None, bibliography_changed: bool = True,
                  edit: EditLinks | None = None, docs_prefix: str = "docs",
                  bib_docs_path: str | None = None, book: ReviewBook = NO_REVIEWS,
                  fact_max_age: int = DEFAULT_MAX_AGE) -> Queue:
    """The queue: the review findings of the site, with what renderers need to link them.

    ``changed`` (docs-relative page paths) limits page items to those pages and reference
    items to references cited there (all references when ``bibliography_changed``).
    """
    today = today or current_date()
    all_pages = list(pages)
    prefix = docs_prefix.rstrip("/")
    bib_display = f"{prefix}/{bib_docs_path}" if bib_docs_path else bib.path
    kinds = set(PAGE_CODES) | set(REFERENCE_CODES)
    items = [f for f in site_findings(bib, all_pages, bib_display=bib_display,
                                      page_display=lambda p: f"{prefix}/{p}" if prefix else p, today=today,
                                      changed=changed, bibliography_changed=bibliography_changed, book=book,
                                      fact_max_age=fact_max_age)
             if f.code in kinds]
    return Queue(items, bib, {p.path: p for p in all_pages}, today, edit or EditLinks(), prefix,
                 bibliography_page(all_pages), bib_docs_path)


def project_queue(project: Project, *, changed: Iterable[str] | None = None,
                  today: _dt.date | None = None) -> Queue:
    """The queue of a project on disk, as ``citereview queue`` shows it."""
    from . import bibliography as bibmod
    from . import reviews as reviewmod

    bib = bibmod.load(project.bibliography)
    book = reviewmod.load(project.reviews, project.display(project.reviews))
    pages = read_site(project.docs_dir) if project.docs_dir.is_dir() else []
    policy = project.fact_policy(today)
    return compute_queue(bib, pages, today=policy.today, fact_max_age=policy.max_age,
                         changed=project.changed_pages(changed),
                         bibliography_changed=project.bibliography_changed(changed),
                         edit=EditLinks.from_config(project.config), docs_prefix=project.display(project.docs_dir),
                         bib_docs_path=project.bibliography_in_docs, book=book)


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
    #: For a claim changed since its review: the sentence as reviewed, and the review's date.
    before: str = ""
    reviewed: str = ""


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


def outline(q: Queue) -> list[Section]:
    """Group the items by page and by reference, most serious first."""
    sections: list[Section] = []

    def cite_entry(i: Item, *, show_page: bool = False) -> Entry:
        assert i.page is not None
        label = (f"{q.title(i.page)}: " if show_page else "") + (
            q.ref_short(i.key or "") if i.code == "cite" else f"Unknown citation key {i.key}")
        if i.status == "stale":
            label = f"Changed since checked on {human_date(i.reviewed)}: {label}"
        note = i.detail if i.code == "cite" and i.status != "unreviewed" else ""
        return Entry(label, f"{i.page}#{i.anchor}" if i.anchor else i.page, i.sentence,
                     f"{q.file(i.page)}:{i.line}:{i.col}", q.edit.url(i.page), note,
                     before=i.before, reviewed=i.reviewed)

    # By page
    by_page: dict[str, list[Item]] = {}
    for i in q.items:
        if i.page is not None and i.code not in REFERENCE_CODES:
            by_page.setdefault(i.page, []).append(i)
    groups: list[Group] = []
    for page in sorted(by_page, key=lambda p: (q.title(p).casefold(), p)):
        its = by_page[page]
        state = next((i for i in its if i.code.startswith("page-")), None)
        intro = ""
        if state is not None and state.code == "page-overdue":
            intro = f"Page review overdue since {state.detail}."
        elif state is not None:
            intro = "Page never reviewed."
        group = Group(q.title(page), [], intro, page, q.edit.url(page))
        group.entries += [cite_entry(i) for i in its if i.code == "cite" and i.status == "stale"]
        unreviewed = [cite_entry(i) for i in its if i.code == "cite" and i.status == "unreviewed"]
        if unreviewed:
            group.entries.append(Entry(f"{len(unreviewed)} claim{'s' if len(unreviewed) != 1 else ''} "
                                       "not yet reviewed", children=unreviewed))
        for status in CITE_ORDER[2:]:
            group.entries += [cite_entry(i) for i in its if i.code == "cite" and i.status == status]
        group.entries += [cite_entry(i) for i in its if i.code == "unknown-key"]
        group.entries += [Entry("Citation needed", f"{page}#{i.anchor}", i.sentence,
                                f"{q.file(page)}:{i.line}:{i.col}", q.edit.url(page))
                          for i in its if i.code == "needed"]
        group.entries += [fact_entry(q, i) for i in its if i.code in ("fact-expired", "fact-overage")]
        groups.append(group)
    sections.append(Section("By page", "queue-by-page", groups,
                            "" if groups else "Nothing flagged on any page."))

    # By reference
    groups = []
    bib_target = (lambda key: f"{q.bib_page}#ref-{slug(key)}") if q.bib_page else (lambda key: None)
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
            if status in ("unreviewed", "stale"):
                # The sentences are listed by page above; here only where, to keep it short.
                kids = [Entry(f"{q.title(i.page or '')}, line {i.line}", k.target, where=k.where)
                        for k, i in zip(kids, per_ref[key], strict=True)]
            entries.append(Entry(f"{q.ref_label(key)} (cited {len(kids)} time{'s' if len(kids) != 1 else ''})",
                                 bib_target(key), where=_bib_where(q, ref),
                                 edit=_bib_edit(q), note=note, children=kids))
        groups.append(Group(f"{CITE_COUNT_LABELS[status].capitalize()} ({len(entries)} "
                            f"reference{'s' if len(entries) != 1 else ''})", entries))
    sections.append(Section("By reference", "queue-by-reference", groups,
                            "" if groups else "Every cited claim has been verified."))

    for kind, title, sid, empty in (
        ("no-identifier", "References without DOI, PMID or URL", "queue-no-identifier",
         "Every reference has a DOI, PMID or URL."),
        # Listed only when there are any: an anomaly to fix, not a routine check.
        ("duplicate-identifier", "References entered twice (same DOI or PMID)", "queue-duplicate-identifier", None),
        ("unused", "Unused references", "queue-unused", "Every reference is cited somewhere."),
    ):
        entries = [Entry(q.ref_label(i.key or ""), bib_target(i.key or ""), where=_bib_where(q, q.bib.get(i.key or "")),
                         edit=_bib_edit(q)) for i in sorted(q.of(kind), key=lambda i: i.key or "")]
        if not entries and empty is None:
            continue
        sections.append(Section(title, sid, [Group("", entries)] if entries else [], "" if entries else empty))
    return sections


def fact_entry(q: Queue, i: Item) -> Entry:
    """A dated fact that may be out of date, with the statement to re-check."""
    assert i.page is not None
    label = ("Dated fact past its end date" if i.code == "fact-expired"
             else "Dated fact older than the maximum age") + f" ({i.detail})"
    return Entry(label, f"{i.page}#{i.anchor}", i.sentence, f"{q.file(i.page)}:{i.line}:{i.col}",
                 q.edit.url(i.page))


def _bib_where(q: Queue, ref: Reference | None) -> str:
    path = f"{q.docs_prefix}/{q.bib_docs_path}" if q.bib_docs_path else q.bib.path
    return f"{path}:{ref.line}:1" if ref else path


def _bib_edit(q: Queue) -> str | None:
    return q.edit.url(q.bib_docs_path) if q.bib_docs_path else None




def change_items(q: Queue, lines: dict[str, set[int]]) -> tuple[list[Item], list[Item]]:
    """What a change does to the review work: the reviews it invalidates (claims changed
    since their review) and the new or edited claims that nobody reviewed, on changed lines."""
    invalidated = [i for i in q.items if i.code == "cite" and i.status == "stale"]
    new = [i for i in q.items if i.code == "cite" and i.status != "stale" and i.line in lines.get(i.file, ())]
    return invalidated, new


def counts_by_status(q: Queue) -> Counter[str]:
    """Flagged citations per status (handy for tests and summaries)."""
    return Counter(i.status for i in q.of("cite"))
