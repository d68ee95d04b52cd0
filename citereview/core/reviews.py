"""Claim review records: who checked which sentence against which source, and what they found.

What a reviewer checks is a *claim*: one sentence of one page, with one citation (key and
locator), against that source. A record keeps the sentence **as reviewed** and its
fingerprint, so that a later change of wording is seen (the claim turns ``stale``) while
moving the sentence to another line or paragraph is not.

The records live in one YAML file under version control (the ``reviews`` option; by default
``reviews.yaml`` beside the bibliography), one entry per claim, sorted by page, key,
locator and sentence so that diffs stay small and two reviewers' additions rarely touch
the same lines::

    reviews:
    - page: claims.md                 # docs-relative path of the page
      key: berman2000antidepressant   # the cited reference
      locator: p. 352                 # only when the citation has one
      sentence: Ketamine lifted depressive symptoms within hours in a small trial.
      fingerprint: 1f0c2b5a9e7d       # of the sentence, see claims.fingerprint()
      verdict: supports               # supports | partly | does-not-support
      reviewer: Jane Doe
      date: 2026-12-03
      note: Table 2.                  # optional

``python -m citereview review`` writes this file; people may edit it by hand, and every
problem in it is an error naming its line, for the checker and the build alike.
"""

from __future__ import annotations

import datetime as _dt
import os
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from .claims import VERDICTS, claim_text, fingerprint
from .model import Diagnostic
from .yamlnodes import TextDatesLoader, duplicate_keys

#: Fields of a record, in the order they are written.
FIELDS: tuple[str, ...] = ("page", "key", "locator", "sentence", "fingerprint", "verdict", "reviewer",
                           "date", "note")
REQUIRED: frozenset[str] = frozenset({"page", "key", "sentence", "fingerprint", "verdict", "reviewer", "date"})

HEADER = """\
# Claim reviews: one entry per claim (a sentence, the source it cites and the locator) that a
# person checked against the source. Written by `python -m citereview review`; see
# CONTRIBUTING.md. A changed sentence no longer matches its fingerprint and shows as
# "changed since checked" until it is reviewed again.
"""


@dataclass(frozen=True)
class ReviewRecord:
    """One reviewed claim. ``line`` is where the entry starts in the file (0: not from a file)."""

    page: str
    key: str
    sentence: str
    fingerprint: str
    verdict: str
    reviewer: str
    date: str
    locator: str = ""
    note: str = ""
    line: int = 0

    @property
    def ident(self) -> tuple[str, str, str]:
        """What a review is about, apart from the wording: page, key, locator."""
        return (self.page, self.key, self.locator)

    def as_yaml(self) -> dict[str, str]:
        data = {name: getattr(self, name) for name in FIELDS}
        return {k: v for k, v in data.items() if v or k in REQUIRED}


@dataclass
class ReviewBook:
    """Every record of a site, indexed the ways the build and the checker look them up."""

    path: str
    records: list[ReviewRecord] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    #: Whether the file exists: a site without one simply has no reviews yet.
    exists: bool = False
    #: Names this version of the file's content (for caches keyed on the records).
    version: str = ""

    def __post_init__(self) -> None:
        self._by_ident: dict[tuple[str, str, str], list[ReviewRecord]] = {}
        self._pages: set[str] = set()
        for rec in self.records:
            self._by_ident.setdefault(rec.ident, []).append(rec)
            self._pages.add(rec.page)

    def has_page(self, page: str | None) -> bool:
        """Whether any claim on ``page`` was reviewed (else every claim there is unreviewed,
        and nobody needs the sentences: the build skips finding them)."""
        return page is not None and page in self._pages

    def about(self, page: str, key: str, locator: str) -> list[ReviewRecord]:
        return self._by_ident.get((page, key, locator), [])


_cache: dict[str, tuple[tuple[int, int], ReviewBook]] = {}
_lock = threading.Lock()


def default_path(bibliography: str | Path) -> Path:
    """``reviews.yaml`` beside the bibliography."""
    return Path(bibliography).with_name("reviews.yaml")


def load(path: str | Path, display: str | None = None) -> ReviewBook:
    """The records at ``path`` (an empty book when there is no file), re-read when it changes.

    ``display`` is the path shown in diagnostics (relative to the project, as editors want).
    """
    name = os.fspath(path)
    shown = display or name
    try:
        st = os.stat(name)
    except FileNotFoundError:
        return ReviewBook(shown)
    except OSError as exc:
        return ReviewBook(shown, diagnostics=[Diagnostic(shown, 1, f"cannot read reviews: {exc.strerror or exc}",
                                                         code="review-file")])
    stamp = (st.st_mtime_ns, st.st_size)
    key = f"{name}\0{shown}"
    with _lock:
        known = _cache.get(key)
        if known and known[0] == stamp:
            return known[1]
        try:
            data = Path(name).read_bytes()
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            book = ReviewBook(shown, exists=True, diagnostics=[Diagnostic(
                shown, line, f"not valid UTF-8 (byte {data[exc.start]:#04x}); save the file as UTF-8",
                code="review-file")])
        except OSError as exc:
            book = ReviewBook(shown, diagnostics=[Diagnostic(shown, 1, f"cannot read reviews: {exc.strerror or exc}",
                                                             code="review-file")])
        else:
            book = parse(text, shown)
        book.version = f"{stamp[0]}:{stamp[1]}:{hash(data)}"
        _cache[key] = (stamp, book)
        return book


def parse(text: str, path: str = "reviews.yaml") -> ReviewBook:
    """Parse and validate the records; every problem is an error naming its line."""
    diags: list[Diagnostic] = []

    def err(line: int, message: str) -> None:
        diags.append(Diagnostic(path, line, message, code="review-record"))

    try:
        root = yaml.compose(text, Loader=TextDatesLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        err(mark.line + 1 if mark else 1, f"malformed YAML: {getattr(exc, 'problem', None) or exc}")
        return ReviewBook(path, diagnostics=diags, exists=True)
    if root is None:
        return ReviewBook(path, exists=True)
    seq = root
    if isinstance(root, yaml.MappingNode):
        seq = next((v for k, v in root.value if k.value == "reviews"), None)
    if not isinstance(seq, yaml.SequenceNode):
        if isinstance(seq, yaml.ScalarNode) and seq.value in ("", "~", "null"):
            return ReviewBook(path, exists=True)  # "reviews:" with nothing under it
        err((root.start_mark.line + 1), "expected a top-level 'reviews:' list of records")
        return ReviewBook(path, diagnostics=diags, exists=True)
    constructor = yaml.constructor.SafeConstructor()
    records: list[ReviewRecord] = []
    seen: dict[tuple[str, str, str, str], int] = {}
    for node in seq.value:
        line = node.start_mark.line + 1
        if not isinstance(node, yaml.MappingNode):
            err(line, "a review record must be a mapping (page, key, sentence, fingerprint, verdict, reviewer, date)")
            continue
        dupes = list(duplicate_keys(node))
        if dupes:
            for dup in dupes:
                err(dup.line, f"review record: {dup.message()}")
            continue
        raw: dict[str, Any] = constructor.construct_mapping(node, deep=True)
        rec = _record(raw, line, err)
        if rec is None:
            continue
        ident = (*rec.ident, rec.fingerprint)
        if ident in seen:
            err(line, f"duplicate review of the same claim (first recorded at line {seen[ident]}); keep one")
            continue
        seen[ident] = line
        records.append(rec)
    return ReviewBook(path, records, diags, exists=True)


def _record(raw: dict[str, Any], line: int, err) -> ReviewRecord | None:
    unknown = sorted(set(map(str, raw)) - set(FIELDS))
    if unknown:
        err(line, f"unknown review field(s): {', '.join(unknown)} (expected: {', '.join(FIELDS)})")
        return None
    missing = sorted(REQUIRED - {k for k, v in raw.items() if v not in (None, "")})
    if missing:
        err(line, f"review record is missing {', '.join(missing)}")
        return None
    values = {k: str(v).strip() for k, v in raw.items() if v is not None}
    if values["verdict"] not in VERDICTS:
        err(line, f"unknown verdict '{values['verdict']}' (expected one of: {', '.join(VERDICTS)})")
        return None
    try:
        _dt.date.fromisoformat(values["date"])
    except ValueError:
        err(line, f"review date '{values['date']}' is not a date (YYYY-MM-DD)")
        return None
    text = claim_text(values["sentence"])
    if fingerprint(text) != values["fingerprint"]:
        err(line, f"fingerprint {values['fingerprint']} does not match the recorded sentence (expected "
            f"{fingerprint(text)}); a record's sentence is the text as reviewed and must not be edited: "
            "review the claim again instead")
        return None
    return ReviewRecord(page=values["page"].replace("\\", "/"), key=values["key"], sentence=text,
                        fingerprint=values["fingerprint"], verdict=values["verdict"], reviewer=values["reviewer"],
                        date=values["date"], locator=values.get("locator", ""), note=values.get("note", ""),
                        line=line)


def dump(records: Iterable[ReviewRecord]) -> str:
    """The file's text: header, then the records sorted for small diffs."""
    ordered = sorted(records, key=lambda r: (r.page, r.key, r.locator, r.sentence, r.date))
    body = yaml.safe_dump({"reviews": [r.as_yaml() for r in ordered]}, allow_unicode=True, sort_keys=False,
                          width=100, default_flow_style=False)
    return HEADER + body


def add(path: str | Path, record: ReviewRecord, supersedes: ReviewRecord | None = None) -> ReviewRecord | None:
    """Write ``record``, replacing an earlier review of the same claim (same wording) and
    ``supersedes``, the review of an older wording of it (a stale claim reviewed again).
    Returns the record replaced, if any."""
    book = load(path)
    if book.diagnostics and any(d.level == "error" for d in book.diagnostics):
        raise ValueError(f"{book.path} has errors; fix them first:\n" + "\n".join(map(str, book.diagnostics)))
    kept: list[ReviewRecord] = []
    replaced = None
    for rec in book.records:
        same = rec.ident == record.ident and rec.fingerprint == record.fingerprint
        if same or (supersedes is not None and (rec.ident, rec.fingerprint) == (supersedes.ident,
                                                                                 supersedes.fingerprint)):
            replaced = replaced or rec
            continue
        kept.append(rec)
    kept.append(replace(record, line=0))
    target = Path(path)
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_text(dump(kept), encoding="utf-8")
    os.replace(tmp, target)
    return replaced
