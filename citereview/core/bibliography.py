"""Load and validate the CSL-YAML bibliography, once per build.

Validation lives here and only here: the Markdown extension, the checker and the review
queue all read :class:`Bibliography` and report its :attr:`Bibliography.diagnostics`.
Every problem names the file and the line of the offending entry or field.

The parsed bibliography is cached at module level, keyed on the file's path and content
hash. Engines build one extension instance per page, so without this cache a 400-entry
bibliography would be parsed (and formatted) once per page instead of once per build.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import difflib
import gc
import hashlib
import os
import re
import shlex
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .model import EVIDENCE_KINDS, REVIEW_STATUSES, Diagnostic, Reference, Review
from .syntax import KEY_RE, identifier
from .yamlnodes import TextDatesLoader, duplicate_keys

#: CSL 1.0.2 item types.
CSL_TYPES = frozenset(
    """article article-journal article-magazine article-newspaper bill book broadcast chapter
    classic collection dataset document entry entry-dictionary entry-encyclopedia event figure
    graphic hearing interview legal_case legislation manuscript map motion_picture
    musical_score pamphlet paper-conference patent performance periodical personal_communication
    post post-weblog regulation report review review-book software song speech standard thesis
    treaty webpage""".split()
)
REQUIRED_FIELDS = ("id", "type", "title")
#: CSL name variables (lists of names) and date variables.
NAME_FIELDS = frozenset(
    """author chair collection-editor compiler composer container-author contributor curator
    director editor editorial-director executive-producer guest host illustrator interviewer
    narrator organizer original-author performer producer recipient reviewed-author
    script-writer series-creator translator""".split())
DATE_FIELDS = frozenset("accessed available-date event-date issued original-date submitted".split())
_ISO_DATE_RE = re.compile(r"^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?$")
DOI_RE = re.compile(r"^10\.\d{4,9}/\S+$")
PMID_RE = re.compile(r"^[1-9]\d{0,8}$")
PMCID_RE = re.compile(r"^PMC\d+$")
URL_RE = re.compile(r"^https?://\S+$")
REVIEW_FIELDS = frozenset({"status", "reviewer", "date", "note"})


@dataclass
class Bibliography:
    """All references of the site, plus every problem found while reading them."""

    path: str
    references: dict[str, Reference] = field(default_factory=dict)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    digest: str = ""
    #: False when the file could not be read or parsed at all.
    loaded: bool = True

    def get(self, key: str) -> Reference | None:
        """The entry cited as ``key``: its id, or ``doi:…`` / ``pmid:…`` (see :meth:`resolve`)."""
        ref = self.references.get(key)
        if ref is None and ":" in key:
            found = self.resolve(key)
            return self.references[found] if found else None
        return ref

    def resolve(self, key: str) -> str | None:
        """The id of the entry a citation key names, ``None`` if none.

        ``doi:10.x/y`` and ``pmid:N`` (Manubot's prefixes) name the entry with that DOI
        (matched case-insensitively) or PMID, so a citation by identifier counts as a
        citation of that entry everywhere: numbering, previews, "cited on", unused
        references. Two entries with one identifier: the first in the file.
        """
        if key in self.references:
            return key
        ident = identifier(key)
        return self._identifiers().get(ident) if ident else None

    def knows_all(self, keys: Iterable[str]) -> bool:
        return all(k in self.references or self.resolve(k) for k in keys)

    def _identifiers(self) -> dict[tuple[str, str], str]:
        index = self.__dict__.get("_ids")
        if index is None:
            index = {}
            shared: dict[str, list[tuple[str, str]]] = {}
            for ref in self.references.values():
                for ident in (("doi", str(ref.doi).lower()) if ref.doi else None,
                              ("pmid", str(ref.pmid)) if ref.pmid else None):
                    if ident is not None and index.setdefault(ident, ref.id) != ref.id:
                        shared.setdefault(ref.id, []).append((ident[0], index[ident]))
            self.__dict__["_ids"], self.__dict__["_shared_ids"] = index, shared
        return index

    def shared_identifiers(self) -> dict[str, list[tuple[str, str]]]:
        """Entries whose DOI or PMID an earlier entry already has: id -> [(``"doi"`` or
        ``"pmid"``, the earlier entry's id)]. A citation by that identifier cites the earlier one."""
        self._identifiers()
        return self.__dict__["_shared_ids"]

    def __contains__(self, key: object) -> bool:
        return key in self.references

    def __len__(self) -> int:
        return len(self.references)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.level == "error"]

    def add_problem(self, line: int, message: str, code: str, level: str = "error") -> None:
        """Record a problem at ``line`` of the bibliography file (what the parsers report)."""
        self.diagnostics.append(Diagnostic(self.path, line, message, level=level, code=code))


#: Per path: the file's stat stamp when it was last read, when that was, and the parsed
#: result (whose ``digest`` names the content). One version per file: `mkdocs serve` edits
#: replace it.
_cache: dict[str, tuple[tuple[int, int, int, int], int, Bibliography]] = {}
_lock = threading.Lock()
#: A stamp is trusted only for files last changed this long before they were read: a
#: rewrite within the file system's timestamp granularity could keep the stamp (Git's
#: "racily clean" problem), so recently changed files are hashed on every call.
RACY_NS = 2_000_000_000


def load(path: str | Path, evidence: bool = False) -> Bibliography:
    """Return the bibliography at ``path``, parsing it only when its content changed.

    Called for every page: an unchanged file (same stat stamp, changed long enough before
    it was last read) is recognised without reading it. ``evidence``: every entry must
    name its evidence kind (the extension's ``evidence`` option).
    """
    name = os.fspath(path)
    cache_key = f"{name}\0{int(evidence)}"
    try:
        st = os.stat(name)
        stamp = (st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino)
        known = _cache.get(cache_key)
        if known and known[0] == stamp and stamp[0] < known[1] - RACY_NS:
            return known[2]
        read_at = time.time_ns()
        data = Path(name).read_bytes()
    except OSError as exc:
        bib = Bibliography(path=str(path), loaded=False)
        bib.add_problem(1, f"cannot read bibliography: {exc.strerror or exc}", "bib-read")
        return bib
    digest = hashlib.sha256(data).hexdigest()
    with _lock:
        known = _cache.get(cache_key)
        bib = known[2] if known and known[2].digest == digest else None
        if bib is None:
            try:
                text = data.decode("utf-8-sig")
            except UnicodeDecodeError as exc:
                bib = Bibliography(path=str(path), loaded=False)
                line = data[: exc.start].count(b"\n") + 1
                bib.add_problem(line, f"not valid UTF-8 (byte {data[exc.start]:#04x}); save the file as UTF-8",
                                "bib-encoding")
            else:
                with _gc_paused():
                    bib = parse_bibliography(text, str(path), evidence=evidence)
            bib.digest = digest
        _cache[cache_key] = (stamp, read_at, bib)
        return bib


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """Hold off Python's cyclic garbage collector while a bibliography is parsed.

    Parsing builds a YAML node for every field (about 19,000 for 400 references) and the
    entries' dicts and lists, none of them garbage in a cycle. The collector runs every 700 new
    container objects, so it ran about a hundred times during the parse, one of them a full
    collection that set off another later in the build: 0.04-0.06 s of a 4 s benchmark
    build, collecting nothing. The same measure Mercurial takes around building large
    containers (``util.nogc``). The collector is switched back on only if it was on, and
    nothing is lost: the next collection finds any cycle made meanwhile.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def parse_bibliography(text: str, path: str = "bibliography.yaml", evidence: bool = False) -> Bibliography:
    """Parse CSL-YAML (a ``references:`` list, or a bare list as in CSL-JSON).

    Names and dates in the shapes Pandoc and citeproc accept are normalised to CSL's
    canonical ones (``issued: 2000`` becomes ``{date-parts: [[2000]]}``, ``author: "Doe,
    Jane"`` a list of one name); anything else is an error naming the entry's line and
    showing the accepted form, and the field is left out, so nothing downstream crashes.
    """
    by_entry = _parse_by_entry(text, path, evidence)
    return by_entry if by_entry is not None else _parse_whole(text, path, evidence)


#: A usual CSL-YAML file up to its first entry: comments, ``references:``, comments.
_HEADER_RE = re.compile(r"(?:[ \t]*(?:#[^\n]*)?\n)*(?:references:[ \t]*(?:#[^\n]*)?\n)?(?:[ \t]*(?:#[^\n]*)?\n)*")
_ITEM_RE = re.compile(r"( *)-[ \n]")


def _parse_by_entry(text: str, path: str, evidence: bool) -> Bibliography | None:
    """:func:`parse_bibliography` one entry at a time, for a file of the usual shape.

    Composed whole, a 400-entry file is about 19,000 YAML nodes with their marks, all alive
    at once: that took 9 MiB at the start of a build (more than formatting every entry),
    and that high-water mark stayed. In the usual shape (``references:`` and then its
    entries, each starting with ``-`` at one indentation, nothing else at that indentation
    or less but comments) each entry's text is composed alone, with line numbers
    offset. Anything else (flow style as in CSL-JSON, anchors across entries, a YAML error,
    an entry libyaml reads otherwise) returns ``None``, and the file is read whole, as
    before: that way reports every problem exactly as before.
    """
    if "\r" in text or "\t" in text:
        return None
    first = _HEADER_RE.match(text).end()  # type: ignore[union-attr]  # it matches the empty string
    item = _ITEM_RE.match(text, first)
    if item is None:
        return None
    indent = item.group(1)
    # Every line at the entries' indentation or less, other than comments, starts an entry.
    starts = []
    for m in re.compile(rf"^ {{0,{len(indent)}}}[^ \n#]", re.M).finditer(text, first):
        if not text.startswith(f"{indent}-", m.start()) or text[m.start() + len(indent) + 1: m.start() + len(
                indent) + 2] not in (" ", "\n"):
            return None
        starts.append(m.start())
    bib = Bibliography(path=path)
    err = bib.add_problem

    constructor = _Constructor()
    line = text.count("\n", 0, first)
    for start, end in zip(starts, [*starts[1:], len(text)], strict=True):
        chunk = text[start:end]
        try:
            seq = yaml.compose(chunk, Loader=TextDatesLoader)
            if not isinstance(seq, yaml.SequenceNode) or len(seq.value) != 1:
                return None
            _read_entry(seq.value[0], bib, err, constructor, evidence, offset=line)
        except (yaml.YAMLError, ValueError):
            return None
        constructor.constructed_objects.clear()  # it maps each node to its value
        line += chunk.count("\n")
    return bib


def _parse_whole(text: str, path: str, evidence: bool) -> Bibliography:
    """:func:`parse_bibliography` on the whole document at once (any shape)."""
    bib = Bibliography(path=path)
    err = bib.add_problem

    try:
        root = yaml.compose(text, Loader=TextDatesLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 1 if mark else 1
        problem = getattr(exc, "problem", None) or str(exc)
        err(line, f"malformed YAML: {problem}", "bib-yaml")
        bib.loaded = False
        return bib
    if root is None:
        err(1, "bibliography is empty: expected a 'references:' list", "bib-shape")
        return bib

    seq = root
    if isinstance(root, yaml.MappingNode):
        for dup in duplicate_keys(root, deep=False):
            err(dup.line, dup.message(), "bib-duplicate-key")
        seq = None
        for key_node, value_node in root.value:
            if key_node.value == "references":
                seq = value_node
        if seq is None:
            err(root.start_mark.line + 1, "expected a top-level 'references:' list", "bib-shape")
            bib.loaded = False
            return bib
    if not isinstance(seq, yaml.SequenceNode):
        err(seq.start_mark.line + 1, "'references' must be a list of entries", "bib-shape")
        bib.loaded = False
        return bib

    constructor = _Constructor()
    for node in seq.value:
        _read_entry(node, bib, err, constructor, evidence)
    return bib


class _Constructor(yaml.constructor.SafeConstructor):
    """Builds Python values from already-composed nodes (entry by entry, for line numbers)."""


def _construct(node: yaml.Node, constructor: _Constructor) -> Any:
    return constructor.construct_object(node, deep=True)


def _plain(value: Any) -> Any:
    """YAML turns ``2026-11-24`` into a date; CSL and JSON want strings."""
    if isinstance(value, (_dt.date, _dt.datetime)):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _read_entry(node: yaml.Node, bib: Bibliography, err, constructor: _Constructor, evidence: bool,
                offset: int | None = None) -> None:
    """Read one entry's node. With ``offset`` (lines before the entry's own text, which was
    composed alone), a YAML error is raised rather than reported: its message would name
    lines of the entry's text, so the caller reads the file whole instead."""
    line = node.start_mark.line + 1 + (offset or 0)
    if not isinstance(node, yaml.MappingNode):
        err(line, "each reference must be a mapping of fields (id, type, title, ...)", "bib-shape")
        return
    field_lines = {k.value: k.start_mark.line + 1 + (offset or 0) for k, _ in node.value
                   if isinstance(k, yaml.ScalarNode)}
    try:
        data = _plain(_construct(node, constructor))
    except (yaml.YAMLError, ValueError) as exc:
        if offset is not None:
            raise
        err(line, f"cannot read entry: {exc}", "bib-yaml")
        return

    key = data.get("id")
    label = f"reference '{key}'" if key else "reference"
    for dup in duplicate_keys(node, line_offset=offset or 0):
        err(dup.line, f"{label}: {dup.message()}", "bib-duplicate-key")
    if not isinstance(data, dict):
        err(line, "each reference must be a mapping of fields (id, type, title, ...)", "bib-shape")
        return
    required = (*REQUIRED_FIELDS, "evidence") if evidence else REQUIRED_FIELDS
    missing = [f for f in required if data.get(f) in (None, "", [])]
    if missing:
        err(line, f"{label} is missing required field(s): {', '.join(missing)}", "bib-required")
    if not key:
        return
    key = sys.intern(str(key))  # shared with every page's cited keys (sources.py)
    if not KEY_RE.fullmatch(key):
        err(field_lines.get("id", line), f"{label}: id is not a valid citation key "
            "(letters, digits, '_' and internal :.#$%&-+?<>~/)", "bib-id")
        return
    if key in bib.references:
        first = bib.references[key].line
        err(line, f"duplicate id '{key}' (first defined on line {first})", "bib-duplicate")
        return

    csl_type = data.get("type")
    if csl_type and csl_type not in CSL_TYPES:
        err(field_lines.get("type", line), f"{label}: unknown CSL type '{csl_type}'", "bib-type")

    kind = str(data.pop("evidence", "") or "other")
    if "evidence" in field_lines and kind not in EVIDENCE_KINDS:
        err(field_lines["evidence"], f"{label}: unknown evidence kind '{kind}' "
            f"(expected one of: {', '.join(EVIDENCE_KINDS)})", "bib-evidence")
        kind = "other"

    for name in list(data):
        where = field_lines.get(name, line)
        if name in NAME_FIELDS:
            value, problem = normalise_names(data[name])
        elif name in DATE_FIELDS:
            value, problem = normalise_date(data[name])
        elif name == "title" and not isinstance(data[name], str):
            value, problem = (str(data[name]), None) if isinstance(data[name], (int, float)) else (
                None, "must be text")
        else:
            continue
        if problem:
            err(where, f"{label}: '{name}' {problem}", "bib-value")
            del data[name]
        else:
            data[name] = value

    for name, pattern, hint in (
        ("DOI", DOI_RE, "a DOI looks like 10.NNNN/suffix, without https://doi.org/"),
        ("PMID", PMID_RE, "a PMID is a number"),
        ("PMCID", PMCID_RE, "a PMCID looks like PMC1234567"),
        ("URL", URL_RE, "a URL starts with http:// or https://"),
    ):
        if name in data:
            value = str(data[name]).strip()
            if not pattern.match(value):
                err(field_lines.get(name, line), f"{label}: invalid {name} '{value}': {hint}", "bib-identifier")
                del data[name]
            else:
                data[name] = value

    review = _read_review(data.pop("review", None), label, field_lines.get("review", line), err)
    data["id"] = key
    bib.references[key] = Reference(id=key, csl=data, evidence=kind, review=review, line=line)


def _read_review(raw: Any, label: str, line: int, err) -> Review:
    if raw is None:
        return Review()
    if not isinstance(raw, dict):
        err(line, f"{label}: 'review' must be a mapping with status, reviewer, date, note", "bib-review")
        return Review()
    unknown = sorted(set(raw) - REVIEW_FIELDS)
    if unknown:
        err(line, f"{label}: unknown review field(s): {', '.join(unknown)}", "bib-review")
    status = str(raw.get("status") or "unreviewed")
    if status not in REVIEW_STATUSES and status != "verified":
        err(line, f"{label}: unknown review status '{status}' (expected one of: "
            f"{', '.join(REVIEW_STATUSES)})", "bib-status")
        status = "unreviewed"
    date = raw.get("date")
    if date is not None:
        date = str(date)
        try:
            _dt.date.fromisoformat(date)
        except ValueError:
            err(line, f"{label}: review date '{date}' is not a date (YYYY-MM-DD)", "bib-review")
    if status == "verified":
        # Reviews belong to claims now: a reference-level "verified" would vouch for every
        # sentence citing the source, also those written after the review.
        err(line, f"{label}: 'status: verified' on a reference no longer records a review; a review "
            "belongs to each sentence citing it. Record one per claim with `python -m citereview review "
            "--key KEY ...` (see CONTRIBUTING.md), then set this status to unreviewed", "bib-verified")
        status = "unreviewed"
    return Review(
        status=status,
        reviewer=str(raw["reviewer"]) if raw.get("reviewer") else None,
        date=date,
        note=str(raw["note"]) if raw.get("note") else None,
    )


_NAME_PARTS = frozenset({"family", "given", "literal", "suffix", "dropping-particle", "non-dropping-particle",
                         "comma-suffix", "static-ordering", "parse-names"})
_NAMES_HINT = ("must be a list of names, e.g. '- family: Berman' / '  given: Robert M.', or "
               "'- literal: World Health Organization'")


def normalise_names(value: Any) -> tuple[Any, str | None]:
    """CSL names from the shapes people write: a list of name mappings (canonical), one
    mapping, a ``"Family, Given"`` string, or a list of such strings. A string without a
    comma is kept whole as a ``literal`` name (an organisation, or "Berman RM")."""
    items = value if isinstance(value, list) else [value]
    names = []
    for item in items:
        if isinstance(item, str) and item.strip():
            family, sep, given = item.partition(",")
            names.append({"family": family.strip(), "given": given.strip()} if sep and family.strip()
                         else {"literal": item.strip()})
        elif isinstance(item, dict) and item and set(item) <= _NAME_PARTS and all(
                isinstance(v, (str, int, bool)) for v in item.values()) and (
                item.get("family") or item.get("literal") or item.get("given")):
            names.append({k: v if isinstance(v, bool) else str(v) for k, v in item.items()})
        else:
            return None, _NAMES_HINT
    return names, None


_DATE_HINT = ("must be a date: 2000, '2000-02', '2000-02-15', or 'date-parts: [[2000, 2, 15]]'")


def normalise_date(value: Any) -> tuple[Any, str | None]:
    """A CSL date from a year, an ISO date string (``2000``, ``2000-02``, ``2000-02-15``, a
    range ``2000/2001``), or the canonical ``{date-parts: [[y, m, d]]}`` (``literal`` and
    ``raw`` kept as citeproc reads them)."""
    if isinstance(value, bool):
        return None, _DATE_HINT
    if isinstance(value, int):
        return {"date-parts": [[value]]}, None
    if isinstance(value, str):
        parts = []
        for piece in value.strip().split("/"):
            m = _ISO_DATE_RE.match(piece.strip())
            if not m:
                return None, _DATE_HINT + f" (found '{value}')"
            parts.append([int(p) for p in m.groups() if p is not None])
        return _checked_parts(parts, value)
    if isinstance(value, dict):
        if "date-parts" in value:
            raw = value["date-parts"]
            try:
                parts = [[int(p) for p in row] for row in raw] if isinstance(raw, list) and all(
                    isinstance(row, list) and row for row in raw) else None
            except (TypeError, ValueError):
                parts = None
            if not parts:
                return None, _DATE_HINT
            checked, problem = _checked_parts(parts, raw)
            return ({**value, **checked} if checked else None), problem
        if isinstance(value.get("literal"), str) or isinstance(value.get("raw"), str):
            return ({k: str(v) for k, v in value.items()}), None
    return None, _DATE_HINT


def _checked_parts(parts: list[list[int]], shown: Any) -> tuple[Any, str | None]:
    for row in parts:
        if len(row) > 3 or (len(row) > 1 and not 1 <= row[1] <= 12) or (len(row) > 2 and not 1 <= row[2] <= 31):
            return None, f"is not a valid date: {shown!r} (year, month 1-12, day 1-31)"
    return {"date-parts": parts}, None


def unknown_key_message(key: str, known: Iterable[str]) -> str:
    """The message for a key the bibliography lacks, with the closest existing keys."""
    ident = identifier(key)
    if ident is not None:
        kind = ident[0]
        name = "DOI" if kind == "doi" else "PMID"
        shown = key.partition(":")[2]
        return (f"no reference with {name} {shown} in the bibliography; add it with: "
                f"python -m citereview import --{kind} {shlex.quote(shown)}")
    close = difflib.get_close_matches(key, list(known), n=3, cutoff=0.6)
    hint = f"; did you mean {', '.join(close)}?" if close else "; no similar key in the bibliography"
    return f"unknown citation key '{key}'{hint}"
