"""Data model: references from the bibliography, citations found in pages, diagnostics.

Plain dataclasses so that the parser, the renderer, the checker and the tests share one
vocabulary and nothing depends on Markdown or MkDocs objects.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

#: Review states of a *source* (a bibliography entry). Whether a source supports a sentence
#: is recorded per claim (:mod:`citereview.core.reviews`); these are facts about the source.
REVIEW_STATUSES: tuple[str, ...] = ("unreviewed", "disputed", "retracted", "outdated")
#: States marked more strongly than plain ``unreviewed``.
SERIOUS_STATUSES: frozenset[str] = frozenset({"disputed", "retracted", "outdated"})

#: Evidence kinds, so that readers can tell a rat study from a trial.
EVIDENCE_KINDS: dict[str, str] = {
    "meta-analysis": "Meta-analysis",
    "systematic-review": "Systematic review",
    "randomised-trial": "Randomised trial",
    "observational-study": "Observational study",
    "case-report": "Case report or series",
    "animal-or-cell-study": "Animal or cell study",
    "narrative-review": "Narrative review",
    "guideline": "Guideline",
    "regulatory-document": "Regulatory document",
    "other": "Other",
}

STATUS_LABELS: dict[str, str] = {
    "unreviewed": "Not yet reviewed",
    "disputed": "Disputed",
    "retracted": "Retracted",
    "outdated": "Outdated",
}


@dataclass(frozen=True)
class Review:
    """The ``review`` block of a bibliography entry."""

    status: str = "unreviewed"
    reviewer: str | None = None
    date: str | None = None
    note: str | None = None

    @property
    def serious(self) -> bool:
        return self.status in SERIOUS_STATUSES


@dataclass(frozen=True)
class Reference:
    """One bibliography entry: CSL data plus our review metadata and where it was defined."""

    id: str
    csl: dict[str, Any]
    evidence: str
    review: Review
    line: int = 0

    @property
    def doi(self) -> str | None:
        return self.csl.get("DOI")

    @property
    def pmid(self) -> str | None:
        return self.csl.get("PMID")

    @property
    def url(self) -> str | None:
        return self.csl.get("URL")

    @property
    def has_identifier(self) -> bool:
        return bool(self.doi or self.pmid or self.url)

    @property
    def title(self) -> str:
        return str(self.csl.get("title", ""))

    @property
    def first_author(self) -> str:
        """Family name (or organisation) of the first author, "" if none."""
        return first_author(self.csl)

    @property
    def year(self) -> int | None:
        return issued_year(self.csl)

    def short(self, *, with_title: bool = True) -> str:
        """``Zanos et al, 2018. Title`` for lists where the full entry would be too long."""
        return short_citation(self.csl, with_title=with_title)

    @property
    def evidence_label(self) -> str:
        return EVIDENCE_KINDS.get(self.evidence, self.evidence)

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.review.status, self.review.status)


@dataclass(frozen=True, slots=True)
class CiteItem:
    """One ``@key`` inside a citation group, with Pandoc's prefix and suffix (locator)."""

    key: str
    prefix: str = ""
    suffix: str = ""


@dataclass(frozen=True, slots=True)
class CiteGroup:
    """A bracketed citation ``[see @a, p. 3; @b]``, the ``[citation needed]`` marker, or an
    in-text citation ``@a`` (``narrative``: one item, shown with the author's name)."""

    items: tuple[CiteItem, ...]
    needed: bool = False
    narrative: bool = False


@dataclass(frozen=True, slots=True)
class Occurrence:
    """A citation group found in a source file, with its 1-based line and column."""

    group: CiteGroup
    line: int
    col: int
    text: str
    sentence: str = ""


@dataclass(frozen=True)
class Diagnostic:
    """A problem in the content, reported as ``file:line:col: level: message``."""

    file: str
    line: int
    message: str
    level: str = "error"
    col: int = 1
    code: str = ""

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}: {self.level}: {self.message}"


@dataclass
class PageCitations:
    """Per-page numbering state, reset for every document the extension converts."""

    numbers: dict[str, int] = field(default_factory=dict)
    #: Citations of each key so far (each gets a back-link from the References list).
    uses: dict[str, int] = field(default_factory=dict)
    needed: int = 0
    unknown: list[str] = field(default_factory=list)
    #: The claim status of each cited item, in order (what the page notice counts).
    statuses: list[str] = field(default_factory=list)

    def number_for(self, key: str) -> int:
        """AMA/Vancouver numbering: first use decides the number; re-citing reuses it."""
        if key not in self.numbers:
            self.numbers[key] = len(self.numbers) + 1
        return self.numbers[key]


# -- "first author, year": the one implementation -----------------------------------------
# The bibliography loader normalises names and dates to CSL's canonical shapes, so these
# read plain dicts: the same helpers serve loaded references and entries being imported.
def first_author(csl: dict[str, Any]) -> str:
    """Family name, or literal name, of the first author (else editor); "" if none."""
    for role in ("author", "editor"):
        names = csl.get(role)
        if isinstance(names, list) and names and isinstance(names[0], dict):
            first = names[0]
            return str(first.get("family") or first.get("literal") or "")
    return ""


def issued_year(csl: dict[str, Any]) -> int | None:
    """Year of ``issued`` (``{"date-parts": [[2018, 5]]}``), ``None`` if not known."""
    issued = csl.get("issued")
    parts = issued.get("date-parts") if isinstance(issued, dict) else None
    try:
        return int(parts[0][0])
    except (TypeError, ValueError, IndexError):
        return None


def short_citation(csl: dict[str, Any], *, with_title: bool = True) -> str:
    """``Zanos et al, 2018`` (``. Title`` appended unless ``with_title`` is false)."""
    name = first_author(csl)
    names = csl.get("author") or csl.get("editor") or []
    if name and isinstance(names, list) and len(names) > 1:
        name += " et al"
    who = ", ".join(str(p) for p in (name, issued_year(csl)) if p)
    title = str(csl.get("title") or "")
    if not with_title:
        return who
    return f"{who}. {title}" if who else title


def narrative_name(csl: dict[str, Any]) -> str:
    """The author as an in-text citation names them, AMA style: ``Zarate`` (one author),
    ``Zarate and Singh`` (two), ``Zarate et al`` (three or more); an organisation by its
    name; the title when there is no author or editor."""
    for role in ("author", "editor"):
        names = csl.get(role)
        if isinstance(names, list) and names and all(isinstance(n, dict) for n in names):
            family = [str(n.get("family") or n.get("literal") or "") for n in names[:2]]
            if len(names) == 1:
                return family[0]
            if len(names) == 2:
                return f"{family[0]} and {family[1]}"
            return f"{family[0]} et al"
    return str(csl.get("title") or "")


def slug(key: str) -> str:
    """A key as an HTML id fragment: Pandoc keys may hold ``:/?#`` and friends."""
    return re.sub(r"[^A-Za-z0-9_-]+", "-", key).strip("-") or "key"
