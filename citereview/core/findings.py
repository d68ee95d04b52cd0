"""Every content rule, in one place: what is wrong or still to review, and how serious it is.

Each consumer reads these findings instead of applying rules of its own, so they cannot
disagree:

* ``citereview check`` prints them as ``file:line:col`` diagnostics and exits 1 on errors;
* the build (the Markdown extension, under every engine) logs each page's errors as
  warnings, so ``mkdocs build --strict`` fails on exactly the inputs ``check`` fails on;
* the review queue (site page, terminal, pull-request summary) lists them by page and by
  reference;
* the References page and each page's notice count them.

Levels: ``error`` fails both ``check`` and the strict build; ``warning`` is shown by both
and fails neither; ``notice`` is something to review (a flagged citation, a page never
reviewed), shown by ``check`` and the queue.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

from . import facts as factmod
from .bibliography import Bibliography, unknown_key_message
from .claims import Claim, ClaimStatus, claim_text, derive, resolve, unmatched
from .frontmatter import read_front_matter
from .model import Diagnostic, slug
from .reviews import ReviewBook
from .sources import SourcePage
from .syntax import mask_code

LEVELS: tuple[str, ...] = ("error", "warning", "notice")

#: Finding codes. ``cite`` is a claim (a citation in its sentence) that is not verified: its
#: status says why (:mod:`citereview.core.claims`); the rest name themselves.
PAGE_CODES = ("cite", "needed", "unknown-key", "page-overdue", "page-unreviewed", "fact-expired", "fact-overage")
#: Dated facts (``[as of …]``): past their ``until`` date, older than the maximum age, or
#: not a valid marker.
FACT_CODES = ("fact-expired", "fact-overage", "fact-malformed")
REFERENCE_CODES = ("no-identifier", "duplicate-identifier", "unused")
REVIEW_CODES = ("review-unused",)

#: A site without review records.
NO_REVIEWS = ReviewBook("reviews.yaml")

_BIB_MARKER_RE = re.compile(r"^\s*\[bibliography\]\s*$", re.I | re.M)


@dataclass(frozen=True)
class Finding:
    """One thing wrong or to review. ``page`` is docs-relative (``None``: the bibliography)."""

    code: str
    level: str
    file: str
    line: int
    col: int = 1
    message: str = ""
    page: str | None = None
    key: str | None = None
    status: str | None = None
    #: The sentence a citation supports, as a reader sees it (for reviewers).
    sentence: str = ""
    #: An id on the rendered page to link to (``ref-<slug>``, ``needed-N``).
    anchor: str = ""
    #: A due date, a reviewer's note: what the queue shows beside the item.
    detail: str = ""
    #: For a claim changed since its review: the sentence as reviewed, and when.
    before: str = ""
    reviewed: str = ""

    def diagnostic(self) -> Diagnostic:
        code = {"cite": f"cite-{self.status}", "needed": "citation-needed"}.get(self.code, self.code)
        return Diagnostic(self.file, self.line, self.message, level=self.level, col=self.col, code=code)


def from_diagnostic(d: Diagnostic, page: str | None = None) -> Finding:
    """A validation problem (bibliography, front matter) as a finding; ``info`` is a notice."""
    level = "notice" if d.level == "info" else d.level
    return Finding(d.code or "problem", level, d.file, d.line, d.col, d.message, page=page)


def bibliography_findings(bib: Bibliography, display: str | None = None) -> list[Finding]:
    """The bibliography's own validation problems, reported under ``display``."""
    found = [from_diagnostic(d) for d in bib.diagnostics]
    return found if display is None else [replace(f, file=display) for f in found]


def page_claims(page: SourcePage, bib: Bibliography | None = None) -> list[Claim]:
    """Every claim of a page in source order: one per cited item (``[citation needed]`` is
    not a claim: it has no source to check). With ``bib``, a citation by identifier
    (``doi:…``, ``pmid:…``) is a claim citing the entry's key."""
    def key(k: str) -> str:
        return (bib.resolve(k) or k) if bib is not None else k

    return [Claim(page.path, key(item.key), claim_text(occ.sentence), item.suffix, occ.line, occ.col)
            for occ in page.occurrences if not occ.group.needed for item in occ.group.items]


def claim_statuses(page: SourcePage, bib: Bibliography, book: ReviewBook) -> list[ClaimStatus]:
    """The status of each of :func:`page_claims`, derived in :mod:`citereview.core.claims`."""
    claims = page_claims(page, bib)
    source = {c.key: ref.review.status for c in claims if (ref := bib.get(c.key)) is not None}
    if not book.has_page(page.path):
        return [derive(source.get(c.key, "unreviewed")) for c in claims]
    return resolve(claims, source, book)


def _claim_finding(claim: Claim, status: ClaimStatus, display: str, note: str) -> Finding:
    rec = status.record
    common = {"page": claim.page, "key": claim.key, "status": status.status, "sentence": claim.sentence,
              "anchor": f"ref-{slug(claim.key)}"}
    if status.status == "stale" and rec is not None:
        return Finding("cite", "warning", display, claim.line, claim.col,
                       f"claim citing '{claim.key}' changed since it was checked on {rec.date} "
                       f"(verdict: {rec.verdict}, by {rec.reviewer}): was “{rec.sentence}”; now “{claim.sentence}”; "
                       "review it again", before=rec.sentence, reviewed=rec.date, detail=rec.note, **common)
    if status.source:
        suffix = f": {note}" if note else ""
        return Finding("cite", "notice", display, claim.line, claim.col,
                       f"cites '{claim.key}', which is {status.status}{suffix}", detail=note, **common)
    if rec is not None:  # partly / does not support
        return Finding("cite", "notice", display, claim.line, claim.col,
                       f"claim citing '{claim.key}': {status.description.lower()}", reviewed=rec.date,
                       detail=rec.note, **common)
    return Finding("cite", "notice", display, claim.line, claim.col,
                   f"claim citing '{claim.key}' not yet reviewed", **common)


def encoding_findings(page: SourcePage, display: str) -> list[Finding]:
    """A page that is not UTF-8: one error at its first bad byte (engines would otherwise
    stop with a traceback naming no line, or, like the checker once, skip the page)."""
    if page.undecodable is None:
        return []
    line, col, byte = page.undecodable
    return [Finding("page-encoding", "error", display, line, col,
                    f"not valid UTF-8 (byte {byte:#04x}); save the file as UTF-8", page=page.path)]


def placement_findings(page: SourcePage, display: str) -> list[Finding]:
    """Citations readers would see as literal brackets: inside raw HTML, an attribute or an
    abbreviation definition (an error: nothing counts or links them, so the author must move
    them), or with a bracket never closed in its paragraph (a warning: it may be prose)."""
    out: list[Finding] = []
    for p in page.misplaced:
        if p.place is None:
            out.append(Finding("cite-unclosed", "warning", display, p.line, p.col,
                               f"unclosed citation bracket '{p.text}' is shown as text; "
                               "close it with ']' before the end of the paragraph", page=page.path))
        else:
            out.append(Finding("cite-unrendered", "error", display, p.line, p.col,
                               f"citation {p.text} inside {p.place} is not rendered (readers would "
                               "see the brackets); move it into the text", page=page.path))
    return out


def page_findings(page: SourcePage, bib: Bibliography, *, display: str,
                  today: _dt.date | None = None, notices: bool = True,
                  book: ReviewBook = NO_REVIEWS, fact_max_age: int = factmod.DEFAULT_MAX_AGE) -> list[Finding]:
    """Everything about one page: its front matter and review dates, its dated facts, and
    each claim.

    ``notices=False`` (the build, on every page) leaves out what is only to review, and with
    it the work of locating every citation when none of its keys is unknown and no claim on
    the page was ever reviewed (only then can one be stale).
    """
    if page.undecodable is not None:
        return encoding_findings(page, display)
    today = today or factmod.today()
    out: list[Finding] = []
    review, diags = read_front_matter(display, page.text, today=today)
    out += [from_diagnostic(d, page.path) for d in diags]
    out += placement_findings(page, display)
    out += fact_findings(page, display=display, policy=factmod.FactPolicy(today, fact_max_age))
    if not notices:
        if (not bib.loaded or bib.knows_all(page.keys())) and not book.has_page(page.path):
            return [f for f in out if f.level != "notice"]
    elif page.occurrences or review.lines:  # pages that make claims are reviewed
        due = review.due
        if not review.reviewed:
            out.append(Finding("page-unreviewed", "notice", display, 1, 1, "page never reviewed",
                               page=page.path, detail="never reviewed"))
        elif due is not None and today > due:
            line = review.line_of("next_review", review.line_of("last_reviewed"))
            out.append(Finding("page-overdue", "notice", display, line, 1,
                               f"page review overdue since {due.isoformat()}", page=page.path,
                               detail=due.isoformat()))
    needed = 0
    statuses = iter(claim_statuses(page, bib, book))
    for occ in page.occurrences:  # only reached for the build when a key is unknown or reviewed
        sentence = claim_text(occ.sentence)
        if occ.group.needed:
            needed += 1
            out.append(Finding("needed", "notice", display, occ.line, occ.col,
                               "statement marked [citation needed]", page=page.path, sentence=sentence,
                               anchor=f"needed-{needed}"))
            continue
        for item in occ.group.items:
            status = next(statuses)
            ref = bib.get(item.key)
            if ref is None:
                if bib.loaded:  # else the bibliography's own error says it all
                    out.append(Finding("unknown-key", "error", display, occ.line, occ.col,
                                       unknown_key_message(item.key, bib.references), page=page.path,
                                       key=item.key, sentence=sentence))
                continue
            if status.flagged:
                claim = Claim(page.path, ref.id, sentence, item.suffix, occ.line, occ.col)
                note = ref.review.note or "" if status.source else ""
                out.append(_claim_finding(claim, status, display, note))
    return out if notices else [f for f in out if f.level != "notice"]


def fact_findings(page: SourcePage, *, display: str, policy: factmod.FactPolicy) -> list[Finding]:
    """Dated facts that may be out of date (warnings) and malformed markers (errors).

    Warnings, not errors: a fact's age says it needs re-checking, not that the page is
    broken, and the build must not start failing on the day a rule expires.
    """
    out: list[Finding] = []
    for occ in factmod.scan_facts(page.text):
        if occ.fact is None:
            out.append(Finding("fact-malformed", "error", display, occ.line, occ.col,
                               factmod.malformed_message(occ), page=page.path, sentence=claim_text(occ.sentence)))
            continue
        state = occ.fact.state(policy)
        if state == "current":
            continue
        fact = occ.fact
        if state == "expired":
            message = f"dated fact expired: {occ.text} ended on {fact.until_text}"
            detail = f"until {fact.until_text}"
        else:
            message = (f"dated fact older than {policy.max_age} months: {occ.text} "
                       f"(checked {fact.as_of_text}); re-check it against a source")
            detail = f"checked {fact.as_of_text}"
        out.append(Finding(f"fact-{state}", "warning", display, occ.line, occ.col, message, page=page.path,
                           sentence=claim_text(occ.sentence), anchor=f"fact-{occ.number}", detail=detail))
    return out


def reference_findings(bib: Bibliography, pages: Iterable[SourcePage], *, display: str,
                       in_scope: set[str] | None = None) -> list[Finding]:
    """References that readers cannot look up, entered twice (one DOI or PMID), and
    references no page cites.

    ``page`` of these findings is the page with the ``[bibliography]`` marker (where every
    reference has its ``#ref-<slug>`` anchor), if there is one.
    """
    if not bib.loaded:
        return []
    pages = list(pages)
    used = {bib.resolve(key) or key for page in pages for key in page.keys()}
    bib_page = bibliography_page(pages)
    out: list[Finding] = []
    shared = bib.shared_identifiers()
    for ref in bib.references.values():
        if in_scope is not None and ref.id not in in_scope:
            continue
        common = {"page": bib_page, "key": ref.id, "status": ref.review.status, "anchor": f"ref-{slug(ref.id)}"}
        if not ref.has_identifier:
            out.append(Finding("no-identifier", "notice", display, ref.line, 1,
                               f"reference '{ref.id}' has no DOI, PMID or URL", **common))
        for kind, first_id in shared.get(ref.id, ()):
            # Usually one source entered twice; [@doi:…] / [@pmid:…] can only cite one of them.
            kind, first = kind.upper(), bib.references[first_id]
            out.append(Finding("duplicate-identifier", "warning", display, ref.line, 1,
                               f"reference '{ref.id}' has the same {kind} as '{first.id}' (line {first.line}); "
                               f"a citation by that {kind} cites '{first.id}'", **common))
        if ref.id not in used:
            out.append(Finding("unused", "warning", display, ref.line, 1,
                               f"reference '{ref.id}' is not cited on any page", **common))
    return out


def bibliography_page(pages: Iterable[SourcePage]) -> str | None:
    """The page holding the ``[bibliography]`` marker, if any."""
    return next((p.path for p in pages if _BIB_MARKER_RE.search(mask_code(p.text))), None)


def review_findings(book: ReviewBook, bib: Bibliography, pages: list[SourcePage]) -> list[Finding]:
    """Problems of the review records: errors in the file, and records no claim uses any more
    (the sentence's citation or page is gone; delete the record, or cite again)."""
    out = [from_diagnostic(d) for d in book.diagnostics]
    if not book.records:
        return out
    claims = [c for page in pages if book.has_page(page.path) for c in page_claims(page, bib)]
    for rec in unmatched(book, claims, {p.path for p in pages}):
        out.append(Finding("review-unused", "notice", book.path, rec.line, 1,
                           f"review of '{rec.key}' on {rec.page} matches no citation there any more "
                           f"(“{rec.sentence}”); delete the record if the claim was removed",
                           page=rec.page, key=rec.key))
    known = {p.path for p in pages}
    for rec in book.records:
        if rec.page not in known:
            out.append(Finding("review-unused", "notice", book.path, rec.line, 1,
                               f"review of '{rec.key}' names page {rec.page}, which does not exist; delete "
                               "the record, or fix the page path if the page was renamed",
                               key=rec.key))
        elif rec.key not in bib.references and bib.loaded:
            out.append(Finding("review-unused", "notice", book.path, rec.line, 1,
                               f"review names '{rec.key}', which is not in the bibliography", key=rec.key))
    return out


def site_findings(bib: Bibliography, pages: Iterable[SourcePage], *, bib_display: str,
                  page_display: Callable[[str], str], today: _dt.date | None = None,
                  changed: set[str] | None = None, bibliography_changed: bool = True,
                  book: ReviewBook = NO_REVIEWS, fact_max_age: int = factmod.DEFAULT_MAX_AGE) -> list[Finding]:
    """Every finding of a site, in a stable order (by file and position).

    ``changed`` (docs-relative page paths) limits page findings to those pages and reference
    findings to references cited there (all references when ``bibliography_changed``);
    the bibliography's errors are always included.
    """
    pages = list(pages)
    out = [f for f in bibliography_findings(bib, bib_display) if bibliography_changed or f.level == "error"]
    for page in pages:
        if changed is None or page.path in changed:
            out += page_findings(page, bib, display=page_display(page.path), today=today, book=book,
                                 fact_max_age=fact_max_age)
    reviewed = review_findings(book, bib, pages)
    out += reviewed if changed is None else [f for f in reviewed if f.level == "error" or f.page in changed]
    in_scope = None if changed is None or bibliography_changed else {
        bib.resolve(key) or key for page in pages if page.path in changed for key in page.keys()}
    out += reference_findings(bib, pages, display=bib_display, in_scope=in_scope)
    # Stable: findings at one position keep the order of the items in the citation.
    order = {lvl: i for i, lvl in enumerate(LEVELS)}
    out.sort(key=lambda f: (f.file, f.line, f.col, order.get(f.level, 9)))
    return out
