"""Claims and their review status: the one place a citation's status is derived.

A *claim* is one citation occurrence: the page, the sentence that carries it (as written,
citation markup removed, whitespace normalised), the cited key and the locator. Its status:

1. facts about the **source** come first: a ``retracted``, ``outdated`` or ``disputed``
   reference makes every claim citing it show that status;
2. else the claim's **review** (:mod:`citereview.core.reviews`): ``verified`` (the source
   supports the sentence), ``partly``, ``disputed`` (it does not);
3. ``stale`` when a review of this citation exists but the sentence has changed since;
4. else ``unreviewed``.

Choices worth knowing:

* A record matches by page, key, locator and the sentence's fingerprint: moving a sentence
  (another line, another paragraph) keeps its review; changing one word makes it stale;
  undoing the change restores the review.
* The same sentence citing the same source twice on one page (identical wording) is one
  claim: one review covers both places. Two citations of one source in one sentence are one
  claim unless their locators differ (``[@a, p. 3] … [@a, p. 9]`` are two).
* A claim with no matching record is stale only if a record of the same page, key and
  locator matches no current sentence (its sentence was edited); when several such records
  exist, the most similar wording is the one shown as "before".
"""

from __future__ import annotations

import datetime as _dt
import difflib
import functools
import hashlib
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from . import facts

if TYPE_CHECKING:
    from .reviews import ReviewBook, ReviewRecord

#: Verdicts a reviewer records, and the status each gives the claim.
VERDICTS: dict[str, str] = {"supports": "verified", "partly": "partly", "does-not-support": "disputed"}
#: Every status a rendered citation can carry (``data-review``), most reassuring first.
CLAIM_STATUSES: tuple[str, ...] = ("verified", "partly", "unreviewed", "stale", "disputed", "retracted",
                                   "outdated")
#: Reference-level statuses: facts about the source that override any claim review.
SOURCE_STATUSES: frozenset[str] = frozenset({"retracted", "outdated", "disputed"})

_MD_LINK_RE = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_SPACE_BEFORE_PUNCT_RE = re.compile(r"\s+([.,;:!?)])")


def claim_text(sentence: str) -> str:
    """The sentence as a reader sees it and as a review stores it: link text without URLs,
    no gap left by the removed citation, whitespace collapsed, Unicode NFC."""
    text = _MD_LINK_RE.sub(r"\1", sentence)
    text = _SPACE_BEFORE_PUNCT_RE.sub(r"\1", text)
    return unicodedata.normalize("NFC", " ".join(text.split()))


def fingerprint(sentence: str) -> str:
    """A short, stable fingerprint of a sentence's wording (12 hex digits of SHA-256)."""
    return hashlib.sha256(claim_text(sentence).encode("utf-8")).hexdigest()[:12]


@dataclass(frozen=True)
class Claim:
    """One citation occurrence of ``key`` on ``page``, in ``sentence``."""

    page: str
    key: str
    sentence: str
    locator: str = ""
    line: int = 0
    col: int = 0

    @property
    def ident(self) -> tuple[str, str, str]:
        return (self.page, self.key, self.locator)

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.sentence)


def human_date(iso: str) -> str:
    """``2026-11-02`` -> ``2 November 2026`` (unchanged if it is not a date)."""
    try:
        return facts.human_date(_dt.date.fromisoformat(iso))
    except (TypeError, ValueError):
        return str(iso)


@dataclass(frozen=True)
class ClaimStatus:
    """A claim's status and the record behind it (the matching review, or the stale one)."""

    status: str
    record: ReviewRecord | None = None
    #: The reference-level status when it decided (retracted, outdated, disputed source).
    source: bool = False

    # Cached: a page asks each cited item's status for its label and description, and most
    # items share one status object (:data:`UNREVIEWED`), whose words never change.
    @functools.cached_property
    def date(self) -> str:
        return human_date(self.record.date) if self.record else ""

    @functools.cached_property
    def label(self) -> str:
        """Short, for a citation's accessible name ("Reference 3, …")."""
        if self.source:
            return f"{self.status} source"
        return {
            "unreviewed": "not yet reviewed",
            "verified": f"verified by a reviewer on {self.date}",
            "partly": f"partly supported by the source, checked on {self.date}",
            "disputed": f"not supported by the source, checked on {self.date}",
            "stale": f"changed since checked on {self.date}",
        }.get(self.status, self.status)

    @functools.cached_property
    def description(self) -> str:
        """A sentence for previews and the queue."""
        if self.source:
            return {"retracted": "The source has been retracted",
                    "outdated": "The source is outdated",
                    "disputed": "The source is disputed"}.get(self.status, self.status)
        by = f" by {self.record.reviewer}" if self.record else ""
        return {
            "unreviewed": "Not yet reviewed",
            "verified": f"Checked{by} on {self.date}: the source supports this sentence",
            "partly": f"Checked{by} on {self.date}: the source partly supports this sentence",
            "disputed": f"Checked{by} on {self.date}: the source does not support this sentence",
            "stale": f"Changed since checked on {self.date}; not yet checked again",
        }.get(self.status, self.status)

    @property
    def flagged(self) -> bool:
        return self.status != "verified"


UNREVIEWED = ClaimStatus("unreviewed")


def derive(source_status: str, record: ReviewRecord | None = None, stale: ReviewRecord | None = None) -> ClaimStatus:
    """The one rule: source facts, then the claim's review, then stale, else unreviewed."""
    if source_status in SOURCE_STATUSES:
        return ClaimStatus(source_status, record, source=True)
    if record is not None:
        return ClaimStatus(VERDICTS[record.verdict], record)
    if stale is not None:
        return ClaimStatus("stale", stale)
    return UNREVIEWED


def source_only(source_status: str) -> ClaimStatus:
    """The status of a claim on a page without any review record (no sentence needed)."""
    return derive(source_status)


def resolve(claims: Sequence[Claim], source_status: Mapping[str, str], book: ReviewBook) -> list[ClaimStatus]:
    """The status of each claim of one page (or several), in order."""
    out: list[ClaimStatus] = []
    current: dict[tuple[str, str, str], set[str]] = {}
    for c in claims:
        current.setdefault(c.ident, set()).add(c.fingerprint)
    for c in claims:
        status = source_status.get(c.key, "unreviewed")
        records = book.about(*c.ident)
        if not records:
            out.append(derive(status))
            continue
        fp = c.fingerprint
        match = next((r for r in records if r.fingerprint == fp), None)
        stale = None
        if match is None:
            orphans = [r for r in records if r.fingerprint not in current[c.ident]]
            stale = _most_similar(c.sentence, orphans)
        out.append(derive(status, match, stale))
    return out


def _most_similar(sentence: str, records: list[ReviewRecord]) -> ReviewRecord | None:
    if len(records) <= 1:
        return records[0] if records else None
    words = sentence.split()
    return max(records, key=lambda r: (difflib.SequenceMatcher(None, words, r.sentence.split()).ratio(), r.date))


def unmatched(book: ReviewBook, claims: Iterable[Claim], pages: set[str]) -> list[ReviewRecord]:
    """Records no current claim uses, not even as the "before" of a changed sentence: the
    sentence's page, citation or locator is gone. Records of pages not in ``pages`` (pages
    that were not read) are left out."""
    current: dict[tuple[str, str, str], set[str]] = {}
    for c in claims:
        current.setdefault(c.ident, set()).add(c.fingerprint)
    out = []
    for r in book.records:
        if r.page not in pages:
            continue
        now = current.get(r.ident, set())
        if r.fingerprint in now:
            continue
        if now - {x.fingerprint for x in book.about(*r.ident)}:
            continue  # a changed sentence of this citation shows this record as "before"
        out.append(r)
    return out


def word_diff(old: str, new: str) -> list[tuple[str, str]]:
    """(op, text) runs of a word diff: op is ``=``, ``-`` (only in old) or ``+`` (only in new)."""
    a, b = old.split(), new.split()
    runs: list[tuple[str, str]] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            runs.append(("=", " ".join(a[i1:i2])))
            continue
        if tag in ("replace", "delete"):
            runs.append(("-", " ".join(a[i1:i2])))
        if tag in ("replace", "insert"):
            runs.append(("+", " ".join(b[j1:j2])))
    return runs


def plain_diff(old: str, new: str) -> str:
    """A word diff as text, wdiff style: ``[-removed-]{+added+}``."""
    marks = {"=": "{}", "-": "[-{}-]", "+": "{{+{}+}}"}
    return " ".join(marks[op].format(text) for op, text in word_diff(old, new))
