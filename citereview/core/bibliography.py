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
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .model import EVIDENCE_KINDS, REVIEW_STATUSES, Diagnostic, Reference, Review
from .parse import KEY_RE

#: CSL 1.0.2 item types.
CSL_TYPES = frozenset(
    """article article-journal article-magazine article-newspaper bill book broadcast chapter
    classic collection dataset document entry entry-dictionary entry-encyclopedia event figure
    graphic hearing interview legal_case legislation manuscript map motion_picture
    musical_score pamphlet paper-conference patent performance periodical personal_communication
    post post-weblog regulation report review review-book software song speech standard thesis
    treaty webpage""".split()
)
REQUIRED_FIELDS = ("id", "type", "title", "evidence")
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
        return self.references.get(key)

    def __contains__(self, key: object) -> bool:
        return key in self.references

    def __len__(self) -> int:
        return len(self.references)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.level == "error"]


#: libyaml's C loader is about ten times faster and keeps line marks; fall back to Python's.
_Base: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_Base):  # type: ignore[misc, valid-type]
    """Safe loader that keeps dates as text: YAML's date parsing raises on ``2026-13-01``
    instead of letting us report it, and CSL wants strings anyway."""


_Loader.yaml_implicit_resolvers = {
    ch: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for ch, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}

#: Per path: the file's stat stamp when it was last read, when that was, and the parsed
#: result (whose ``digest`` names the content). One version per file: `mkdocs serve` edits
#: replace it.
_cache: dict[str, tuple[tuple[int, int, int, int], int, Bibliography]] = {}
_lock = threading.Lock()
#: A stamp is trusted only for files last changed this long before they were read: a
#: rewrite within the file system's timestamp granularity could keep the stamp (Git's
#: "racily clean" problem), so recently changed files are hashed on every call.
RACY_NS = 2_000_000_000


def load(path: str | Path) -> Bibliography:
    """Return the bibliography at ``path``, parsing it only when its content changed.

    Called for every page: an unchanged file (same stat stamp, changed long enough before
    it was last read) is recognised without reading it.
    """
    name = os.fspath(path)
    try:
        st = os.stat(name)
        stamp = (st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino)
        known = _cache.get(name)
        if known and known[0] == stamp and stamp[0] < known[1] - RACY_NS:
            return known[2]
        read_at = time.time_ns()
        data = Path(name).read_bytes()
    except OSError as exc:
        bib = Bibliography(path=str(path), loaded=False)
        bib.diagnostics.append(
            Diagnostic(str(path), 1, f"cannot read bibliography: {exc.strerror or exc}", code="bib-read")
        )
        return bib
    digest = hashlib.sha256(data).hexdigest()
    with _lock:
        known = _cache.get(name)
        bib = known[2] if known and known[2].digest == digest else None
        if bib is None:
            with _gc_paused():
                bib = parse_bibliography(data.decode("utf-8", errors="replace"), str(path))
            bib.digest = digest
        _cache[name] = (stamp, read_at, bib)
        return bib


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """Hold off Python's cyclic garbage collector while a bibliography is parsed.

    Parsing builds a YAML node for every field (about 19,000 for 400 references), all alive
    until the last entry is read and none of them garbage. The collector runs every 700 new
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


def parse_bibliography(text: str, path: str = "bibliography.yaml") -> Bibliography:
    """Parse CSL-YAML (a ``references:`` list, or a bare list as in CSL-JSON)."""
    bib = Bibliography(path=path)

    def err(line: int, message: str, code: str, level: str = "error") -> None:
        bib.diagnostics.append(Diagnostic(path, line, message, level=level, code=code))

    try:
        root = yaml.compose(text, Loader=_Loader)
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
        _read_entry(node, bib, err, constructor)
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


def _read_entry(node: yaml.Node, bib: Bibliography, err, constructor: _Constructor) -> None:
    line = node.start_mark.line + 1
    if not isinstance(node, yaml.MappingNode):
        err(line, "each reference must be a mapping of fields (id, type, title, ...)", "bib-shape")
        return
    field_lines = {k.value: k.start_mark.line + 1 for k, _ in node.value if isinstance(k, yaml.ScalarNode)}
    try:
        data = _plain(_construct(node, constructor))
    except (yaml.YAMLError, ValueError) as exc:
        err(line, f"cannot read entry: {exc}", "bib-yaml")
        return

    key = data.get("id")
    label = f"reference '{key}'" if key else "reference"
    missing = [f for f in REQUIRED_FIELDS if data.get(f) in (None, "", [])]
    if missing:
        err(line, f"{label} is missing required field(s): {', '.join(missing)}", "bib-required")
    if not key:
        return
    key = str(key)
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

    evidence = str(data.pop("evidence", "") or "other")
    if "evidence" in field_lines and evidence not in EVIDENCE_KINDS:
        err(field_lines["evidence"], f"{label}: unknown evidence kind '{evidence}' "
            f"(expected one of: {', '.join(EVIDENCE_KINDS)})", "bib-evidence")
        evidence = "other"

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
    bib.references[key] = Reference(id=key, csl=data, evidence=evidence, review=review, line=line)


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
    if status not in REVIEW_STATUSES:
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
    if status == "verified" and not (raw.get("reviewer") and date):
        err(line, f"{label}: status 'verified' needs the reviewer's name and the review date", "bib-review")
        status = "unreviewed"
    return Review(
        status=status,
        reviewer=str(raw["reviewer"]) if raw.get("reviewer") else None,
        date=date,
        note=str(raw["note"]) if raw.get("note") else None,
    )


def unknown_key_message(key: str, known: Iterable[str]) -> str:
    """The message for a key the bibliography lacks, with the closest existing keys."""
    close = difflib.get_close_matches(key, list(known), n=3, cutoff=0.6)
    hint = f"; did you mean {', '.join(close)}?" if close else "; no similar key in the bibliography"
    return f"unknown citation key '{key}'{hint}"
