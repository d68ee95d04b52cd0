"""``citereview verify [--online]``: check DOIs and PMIDs against Crossref and PubMed.

Reviewers decide; this command only reports. It never writes the bibliography. For each
reference with a DOI it asks the Crossref REST API, and for each PMID NCBI E-utilities
(esummary, batched), then compares title, year and first author's family name loosely (see
:mod:`citereview.textmatch`) and reports, each as one finding ``kind``:

* ``mismatch`` (field, ours vs theirs, including a DOI that PubMed gives differently) and
  ``unresolved`` (404 at Crossref, a PMID PubMed does not know);
* ``retraction`` (also withdrawal, removal), ``concern`` (expression of concern) and
  ``correction`` (correction, erratum, corrigendum...): Crossref ``updated-by`` on the cited
  work, whether deposited by the publisher or coming from the Retraction Watch database
  (``source: retraction-watch``), titles prefixed "RETRACTED:", and PubMed publication types
  ("Retracted Publication", "Expression of Concern", "Published Erratum", "Corrected and
  Republished Article");
* ``notice``: the cited DOI/PMID is itself a retraction notice or an expression of concern
  (Crossref ``update-to``, PubMed "Retraction of Publication");
* ``lookup-failed``: a service answered with an error after the retries.

The HTTP client (contact address, rate limit, retries, cache) is :mod:`.online`. Progress goes
to stderr ("checking 12/158 key ..."), and a host that cannot be resolved or connected to stops
the run at the first attempt instead of failing every entry in turn.

Exit codes: 0 all checked and fine (or no ``--online``), 1 a finding (mismatch, unresolved
identifier, retraction, concern or cited notice), 2 nothing found but some look-ups failed, the
network is unreachable, or the command could not run (no contact address, unknown ``--keys``).
"""

from __future__ import annotations

import argparse
import html
import json
import math
import re
import sys
import urllib.parse
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TextIO

from ..core.bibliography import Bibliography, parse_bibliography
from ..core.model import Reference
from ..core.textmatch import family_from_pubmed, normalize, titles_match
from .importer import CiteImportError, add_config_option, bibliography_path, read_site_config
from .online import (  # noqa: F401 - re-exported: callers and tests use them from here
    CONTACT_ENV,
    EMAIL_RE,
    RETRY_STATUSES,
    LookupFailedError,
    NetworkDownError,
    PoliteClient,
    TokenBucket,
    add_client_options,
    client_from_args,
    contact_problem,
    find_contact,
    retry_after_seconds,
)

CROSSREF_URL = "https://api.crossref.org"
EUTILS_URL = "https://eutils.ncbi.nlm.nih.gov/entrez/eutils"
PUBMED_BATCH = 100
#: Connection failures (timeouts, resets) in a row after which the run stops.
MAX_NETWORK_FAILURES = 3
#: Crossref update types that withdraw a work, and those that only warn about it.
RETRACTION_TYPES = frozenset({"retraction", "partial-retraction", "withdrawal", "removal"})
CONCERN_TYPES = frozenset({"expression-of-concern"})
CORRECTION_TYPES = frozenset({"correction", "erratum", "corrigendum", "addendum", "clarification",
                              "partial-correction"})
#: PubMed publication types (esummary ``pubtype``).
PUBMED_RETRACTED = frozenset({"retracted publication", "withdrawn publication"})
PUBMED_NOTICE = frozenset({"retraction of publication"})
PUBMED_CONCERN = frozenset({"expression of concern"})
PUBMED_CORRECTED = frozenset({"published erratum", "corrected and republished article"})
#: Findings that make the exit code 1.
FAILING_KINDS = frozenset({"mismatch", "unresolved", "retraction", "concern", "notice"})
#: Every finding kind, in the order reports list them.
KINDS = ("retraction", "concern", "notice", "correction", "mismatch", "unresolved", "lookup-failed")


@dataclass
class Finding:
    """One thing a reviewer should look at, tied to the entry's line in the bibliography."""

    key: str
    line: int
    kind: str  # mismatch | unresolved | retraction | concern | notice | correction | lookup-failed
    source: str  # "Crossref" or "PubMed"
    message: str
    field: str | None = None
    ours: str | None = None
    theirs: str | None = None
    related: str | None = None  # DOI of the retraction notice / retracted work
    origin: str | None = None  # who recorded an update: "publisher", "retraction-watch", ...

    @property
    def level(self) -> str:
        if self.kind in FAILING_KINDS:
            return "error"
        return "warning" if self.kind == "lookup-failed" else "note"

    def format(self, path: str) -> str:
        return f"{path}:{self.line}:1: {self.level}: {self.key}: {self.message}"


# --------------------------------------------------------------------------- comparison


def _our_year(ref: Reference) -> int | None:
    return _year_of(ref.csl.get("issued"))


def _our_first_author(ref: Reference) -> str | None:
    authors = ref.csl.get("author") or []
    if not authors or not isinstance(authors[0], dict):
        return None
    first = authors[0]
    return first.get("family") or first.get("literal")


def families_match(ours: str, theirs: str) -> bool:
    """Loose: case/accents/punctuation ignored; a particle present on one side only is fine
    ("van der Berg" vs "Berg", "Al Jurdi" vs "Jurdi")."""
    a, b = normalize(ours), normalize(theirs)
    if not a or not b:
        return True
    if a == b or a.replace(" ", "") == b.replace(" ", ""):
        return True
    short, long_ = sorted((a, b), key=len)
    return long_.endswith(" " + short)


def _year_of(value: Any) -> int | None:
    if isinstance(value, dict):
        parts = value.get("date-parts") or [[]]
        try:
            return int(parts[0][0])
        except (IndexError, TypeError, ValueError):
            return None
    match = re.match(r"\s*(\d{4})", str(value or ""))
    return int(match.group(1)) if match else None


def _compare(ref: Reference, source: str, ident: str, title: str | None, subtitle: str | None,
             years: Iterable[int | None], first_author: str | None) -> list[Finding]:
    findings = []

    def mismatch(name: str, ours: Any, theirs: Any) -> None:
        findings.append(Finding(ref.id, ref.line, "mismatch", source,
                                f"{name} differs from {source} ({ident}): ours {str(ours)!r}, "
                                f"theirs {str(theirs)!r}", field=name, ours=str(ours), theirs=str(theirs)))

    if title and ref.title and not titles_match(ref.title, title, subtitle):
        mismatch("title", ref.title, _plain_title(title))
    year = _our_year(ref)
    theirs_years = [y for y in years if y]
    if year and theirs_years and year not in theirs_years:
        mismatch("year", year, theirs_years[0])
    ours_author = _our_first_author(ref)
    if ours_author and first_author and not families_match(ours_author, first_author):
        mismatch("first author", ours_author, first_author)
    return findings


def _plain_title(title: str) -> str:
    """Crossref titles may carry JATS/HTML markup (<i>, <scp>) and entities."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", title)).split())


def _kind(update_type: str) -> str | None:
    t = update_type.strip().lower().replace("_", "-").replace(" ", "-")
    if t in RETRACTION_TYPES:
        return "retraction"
    if t in CONCERN_TYPES:
        return "concern"
    if t in CORRECTION_TYPES:
        return "correction"
    return None


def check_crossref(ref: Reference, status: int, body: Any) -> list[Finding]:
    """Findings for one DOI from Crossref's ``/works/{doi}`` answer."""
    doi = ref.doi or ""
    ident = f"DOI {doi}"
    if status == 404 or not isinstance(body, dict) or not isinstance(body.get("message"), dict):
        return [Finding(ref.id, ref.line, "unresolved", "Crossref",
                        f"{ident} does not resolve at Crossref (not found)", field="DOI", ours=doi)]
    msg = body["message"]
    findings: list[Finding] = []
    title = (msg.get("title") or [None])[0]
    subtitle = (msg.get("subtitle") or [None])[0]
    if title and re.match(r"^\s*(retracted|withdrawn)\b\s*[:.-]?", _plain_title(title), re.I):
        findings.append(Finding(ref.id, ref.line, "retraction", "Crossref",
                                f"{ident}: Crossref title is marked {title.split(':')[0].strip()!r}"))
        title = re.sub(r"^\s*(retracted|withdrawn)\b\s*[:.-]?\s*", "", _plain_title(title), flags=re.I)
    authors = [a for a in msg.get("author") or [] if isinstance(a, dict)]
    first = next((a for a in authors if a.get("sequence") == "first"), authors[0] if authors else None)
    first_name = (first.get("family") or first.get("name")) if first else None
    years = [_year_of(msg.get(k)) for k in ("issued", "published", "published-print", "published-online")]
    findings += _compare(ref, "Crossref", ident, title, subtitle, years, first_name)
    findings += _updates(ref, ident, msg)
    return findings


def _relations(msg: dict[str, Any], name: str) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """``updated-by``/``update-to`` entries grouped by (finding kind, related DOI).

    The same retraction is often listed twice, once deposited by the publisher and once from
    the Retraction Watch database (``source: retraction-watch``); a reviewer needs one line
    naming both sources, not two findings.
    """
    grouped: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for update in msg.get(name) or []:
        if not isinstance(update, dict):
            continue
        kind = _kind(str(update.get("type", "")))
        if kind:
            grouped.setdefault((kind, str(update.get("DOI") or "?")), []).append(update)
    return grouped


def _origin(updates: list[dict[str, Any]]) -> str | None:
    sources = sorted({str(u["source"]) for u in updates if u.get("source")})
    return ", ".join(sources) or None


def _updates(ref: Reference, ident: str, msg: dict[str, Any]) -> list[Finding]:
    """Retractions, concerns and corrections of the cited work, and notices cited as works."""
    findings = []
    for (kind, notice), updates in _relations(msg, "updated-by").items():
        label = updates[0].get("label") or str(updates[0].get("type"))
        origin = _origin(updates)
        via = f"Crossref updated-by, source {origin}" if origin else "Crossref updated-by"
        findings.append(Finding(ref.id, ref.line, kind, "Crossref", f"{ident}: {label} notice {notice} ({via})",
                                related=notice, origin=origin))
    for (kind, target), updates in _relations(msg, "update-to").items():
        label = str(updates[0].get("label") or updates[0].get("type")).lower()
        origin = _origin(updates)
        if kind in ("retraction", "concern"):
            findings.append(Finding(ref.id, ref.line, "notice", "Crossref",
                                    f"{ident} is itself a {label} notice for {target}: cite the "
                                    "original work and record its status", related=target, origin=origin))
        else:
            findings.append(Finding(ref.id, ref.line, "correction", "Crossref",
                                    f"{ident} is itself a {label} notice for {target} (Crossref update-to)",
                                    related=target, origin=origin))
    return findings


def check_pubmed(ref: Reference, summary: dict[str, Any] | None) -> list[Finding]:
    """Findings for one PMID from its esummary record (None when PubMed does not know it)."""
    pmid = str(ref.pmid)
    ident = f"PMID {pmid}"
    if not summary or summary.get("error"):
        return [Finding(ref.id, ref.line, "unresolved", "PubMed", f"{ident} does not resolve at PubMed"
                        + (f" ({summary['error']})" if summary and summary.get("error") else ""),
                        field="PMID", ours=pmid)]
    findings: list[Finding] = []
    authors = [a for a in summary.get("authors") or [] if isinstance(a, dict)]
    first = next((a for a in authors if a.get("authtype", "Author") == "Author"), authors[0] if authors else None)
    first_name = None
    if first and first.get("name"):
        first_name = first["name"] if first.get("authtype") == "CollectiveName" else family_from_pubmed(first["name"])
    years = [_year_of(summary.get("pubdate")), _year_of(summary.get("epubdate"))]
    title = summary.get("title")
    findings += _compare(ref, "PubMed", ident, title, None, years, first_name)
    their_doi = next((str(i.get("value")) for i in summary.get("articleids") or []
                      if isinstance(i, dict) and i.get("idtype") == "doi"), None)
    if ref.doi and their_doi and their_doi.lower() != ref.doi.lower():
        findings.append(Finding(ref.id, ref.line, "mismatch", "PubMed",
                                f"DOI differs from PubMed ({ident}): ours {ref.doi!r}, theirs {their_doi!r}",
                                field="DOI", ours=ref.doi, theirs=their_doi))
    for pubtype in summary.get("pubtype") or []:
        lower = str(pubtype).lower()
        if lower in PUBMED_RETRACTED:
            findings.append(Finding(ref.id, ref.line, "retraction", "PubMed",
                                    f"{ident} is marked {pubtype!r} in PubMed"))
        elif lower in PUBMED_NOTICE:
            findings.append(Finding(ref.id, ref.line, "notice", "PubMed",
                                    f"{ident} is itself a {pubtype!r}: cite the original work and record "
                                    "its status"))
        elif lower in PUBMED_CONCERN:
            findings.append(Finding(ref.id, ref.line, "concern", "PubMed", f"{ident} is marked {pubtype!r}"))
        elif lower in PUBMED_CORRECTED:
            findings.append(Finding(ref.id, ref.line, "correction", "PubMed",
                                    f"{ident} is marked {pubtype!r} in PubMed"))
    return findings


# --------------------------------------------------------------------------- running


@dataclass
class Report:
    """Everything ``verify --online`` found, plus counts for the summary line."""

    findings: list[Finding] = field(default_factory=list)
    dois: int = 0
    pmids: int = 0
    requests: int = 0
    #: Why the run stopped early (network unreachable), or None when every look-up was tried.
    aborted: str | None = None

    @property
    def exit_code(self) -> int:
        if self.aborted:
            return 2
        if any(f.kind in FAILING_KINDS for f in self.findings):
            return 1
        return 2 if any(f.kind == "lookup-failed" for f in self.findings) else 0

    def counts(self) -> dict[str, int]:
        """Findings per kind, every kind listed (0 included) so that consumers need no defaults."""
        return {kind: sum(1 for f in self.findings if f.kind == kind) for kind in KINDS}


class Progress:
    """"checking 12/158 key ..." on stderr while the look-ups run.

    On a terminal one line is rewritten in place; in a CI log (not a TTY) about ten lines are
    printed in all, the first at once, so that a slow or hanging run shows what it is doing
    without flooding the log.
    """

    def __init__(self, total: int, stream: TextIO | None = None, enabled: bool = True):
        self.total = total
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = enabled and total > 0
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.step = max(1, math.ceil(total / 10))
        self.shown = -1
        self.dirty = False

    def update(self, done: int, label: str) -> None:
        """Announce look-up number ``done`` (1-based) of ``total``, about to start."""
        if not self.enabled:
            return
        text = f"verify: checking {done}/{self.total} {label}"
        if self.tty:
            self.stream.write("\r\x1b[K" + text)
            self.dirty = True
        elif self.shown < 0 or done == self.total or done // self.step > self.shown // self.step:
            self.stream.write(text + "\n")
        else:
            return
        self.shown = done
        self.stream.flush()

    def close(self) -> None:
        if self.dirty:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self.dirty = False


class _StopRunError(Exception):
    """Raised inside :func:`verify_references` to end the run; carries the reason."""


class _Guard:
    """Stops the run on an unreachable host, or after several connection failures in a row."""

    def __init__(self) -> None:
        self.in_a_row = 0

    def failed(self, exc: LookupFailedError) -> None:
        if isinstance(exc, NetworkDownError):
            raise _StopRunError(str(exc))
        self.in_a_row = self.in_a_row + 1 if exc.network else 0
        if self.in_a_row >= MAX_NETWORK_FAILURES:
            raise _StopRunError(f"{self.in_a_row} look-ups in a row failed on the connection (last: {exc})")

    def succeeded(self) -> None:
        self.in_a_row = 0


def verify_references(refs: list[Reference], client: PoliteClient, crossref_url: str = CROSSREF_URL,
                      eutils_url: str = EUTILS_URL, progress: Progress | None = None) -> Report:
    """Look up every DOI and PMID of ``refs`` and compare; never touches the bibliography.

    When the network turns out to be unreachable the report comes back with ``aborted`` set
    and the findings gathered so far.
    """
    report = Report()
    with_doi = [r for r in refs if r.doi]
    with_pmid = [r for r in refs if r.pmid]
    progress = progress or Progress(len(with_doi) + len(with_pmid), enabled=False)
    guard = _Guard()
    try:
        _verify_dois(with_doi, client, crossref_url, report, progress, guard)
        _verify_pmids(with_pmid, client, eutils_url, report, progress, guard, offset=len(with_doi))
    except _StopRunError as stop:
        report.aborted = str(stop)
    finally:
        progress.close()
    report.requests = client.sent
    return report


def _verify_dois(refs: list[Reference], client: PoliteClient, crossref_url: str, report: Report,
                 progress: Progress, guard: _Guard) -> None:
    polite = {"mailto": client.contact}
    for number, ref in enumerate(refs, 1):
        progress.update(number, f"{ref.id} (DOI {ref.doi}, Crossref)")
        report.dois += 1
        url = f"{crossref_url.rstrip('/')}/works/{urllib.parse.quote(str(ref.doi), safe='/')}"
        try:
            status, body = client.get_json(url, {}, polite)
        except LookupFailedError as exc:
            if not isinstance(exc, NetworkDownError):  # that one is the run's closing message
                report.findings.append(Finding(ref.id, ref.line, "lookup-failed", "Crossref",
                                               f"DOI {ref.doi}: could not check: {exc}"))
            guard.failed(exc)
            continue
        guard.succeeded()
        report.findings += check_crossref(ref, status, body)


def _verify_pmids(refs: list[Reference], client: PoliteClient, eutils_url: str, report: Report,
                  progress: Progress, guard: _Guard, offset: int) -> None:
    polite = {"tool": "citereview", "email": client.contact}
    ids = sorted({str(r.pmid) for r in refs}, key=int)
    summaries: dict[str, Any] = {}
    failed: dict[str, str] = {}
    for start in range(0, len(ids), PUBMED_BATCH):
        batch = ids[start:start + PUBMED_BATCH]
        first, last = offset + start + 1, offset + start + len(batch)
        span = f"{first}-{last}" if last > first else str(first)
        progress.update(last, f"PMIDs (PubMed esummary, entries {span})")
        params = {"db": "pubmed", "id": ",".join(batch), "retmode": "json"}
        try:
            status, body = client.get_json(f"{eutils_url.rstrip('/')}/esummary.fcgi", params, polite)
            if status != 200 or not isinstance(body, dict) or not isinstance(body.get("result"), dict):
                raise LookupFailedError(f"unexpected esummary answer (HTTP {status})")
        except LookupFailedError as exc:
            guard.failed(exc)
            failed.update(dict.fromkeys(batch, str(exc)))
            continue
        guard.succeeded()
        summaries.update({k: v for k, v in body["result"].items() if k != "uids" and isinstance(v, dict)})
    for ref in refs:
        pmid = str(ref.pmid)
        report.pmids += 1
        if pmid in failed:
            report.findings.append(Finding(ref.id, ref.line, "lookup-failed", "PubMed",
                                           f"PMID {pmid}: could not check: {failed[pmid]}"))
        else:
            report.findings += check_pubmed(ref, summaries.get(pmid))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``citereview verify``."""
    add_config_option(parser)
    parser.add_argument("--online", action="store_true",
                        help="query Crossref and PubMed (without it, only list what would be checked)")
    parser.add_argument("--bibliography", help="bibliography to check (default: from mkdocs.yml)")
    add_client_options(parser)
    parser.add_argument("--crossref-url", default=CROSSREF_URL, help="Crossref REST API base URL")
    parser.add_argument("--eutils-url", default=EUTILS_URL, help="NCBI E-utilities base URL")
    parser.add_argument("--keys", help="comma-separated ids to check (default: all)")
    parser.add_argument("--format", choices=("text", "json"), default="text", help="output format")
    parser.add_argument("--no-progress", action="store_true", help="do not report progress on stderr")


def _select(bib: Bibliography, keys: str | None) -> tuple[list[Reference], list[str]]:
    if not keys:
        return list(bib.references.values()), []
    wanted = [k.strip().lstrip("@") for k in keys.split(",") if k.strip()]
    unknown = [k for k in wanted if k not in bib.references]
    return [bib.references[k] for k in wanted if k in bib.references], unknown


def run(args: argparse.Namespace) -> int:
    """Entry point called by the CLI; all problems are printed, never raised."""
    config = getattr(args, "config", "mkdocs.yml") or "mkdocs.yml"
    try:
        site = read_site_config(config)
        path = bibliography_path(config, getattr(args, "bibliography", None))
    except CiteImportError as exc:
        print(exc, file=sys.stderr)
        return 2
    try:
        text = path.read_bytes().decode("utf-8", errors="replace")
    except OSError as exc:
        print(f"{path}:1:1: error: cannot read bibliography: {exc.strerror or exc}", file=sys.stderr)
        return 2
    bib = parse_bibliography(text, str(path))
    if not bib.loaded:
        for diag in bib.diagnostics:
            print(diag, file=sys.stderr)
        return 1
    refs, unknown = _select(bib, getattr(args, "keys", None))
    if unknown:
        print(f"{path}:1:1: error: --keys names unknown id(s): {', '.join(unknown)}", file=sys.stderr)
        return 2
    fmt = getattr(args, "format", "text")
    if not getattr(args, "online", False):
        return _dry(refs, path, fmt)
    contact = find_contact(args, site)
    problem = contact_problem(contact, "verify --online", config)
    if problem or not contact:
        print(problem, file=sys.stderr)
        return 2
    client = client_from_args(args, contact, "bibliography checker")
    total = sum(1 for r in refs if r.doi) + sum(1 for r in refs if r.pmid)
    progress = Progress(total, enabled=not getattr(args, "no_progress", False))
    report = verify_references(refs, client, getattr(args, "crossref_url", CROSSREF_URL),
                               getattr(args, "eutils_url", EUTILS_URL), progress)
    _print_report(report, str(path), fmt)
    if report.aborted:
        print(f"error: verify --online stopped: {report.aborted}. Check the network connection (or "
              f"--crossref-url/--eutils-url); {len(report.findings)} finding(s) from before it stopped are "
              "reported, the rest was not checked.", file=sys.stderr)
    return report.exit_code


def _dry(refs: list[Reference], path: Path, fmt: str) -> int:
    dois = [(r.id, r.line, r.doi) for r in refs if r.doi]
    pmids = [(r.id, r.line, r.pmid) for r in refs if r.pmid]
    none = [r.id for r in refs if not r.doi and not r.pmid]
    if fmt == "json":
        print(json.dumps({"online": False, "doi": [{"key": k, "line": n, "DOI": d} for k, n, d in dois],
                          "pmid": [{"key": k, "line": n, "PMID": p} for k, n, p in pmids],
                          "no_identifier": none}, indent=2))
        return 0
    for key, line, doi in dois:
        print(f"{path}:{line}:1: would check DOI {doi} ({key}) at Crossref")
    for key, line, pmid in pmids:
        print(f"{path}:{line}:1: would check PMID {pmid} ({key}) at PubMed")
    print(f"{len(dois)} DOI(s) and {len(pmids)} PMID(s) would be checked; {len(none)} reference(s) have "
          "neither. Run with --online to query Crossref and PubMed.")
    return 0


def _print_report(report: Report, path: str, fmt: str) -> None:
    if fmt == "json":
        print(json.dumps({"online": True, "bibliography": path,
                          "checked": {"doi": report.dois, "pmid": report.pmids},
                          "requests": report.requests, "exit_code": report.exit_code,
                          "aborted": report.aborted, "counts": report.counts(),
                          "findings": [{**asdict(f), "level": f.level} for f in report.findings]},
                         indent=2, ensure_ascii=False))
        return
    for finding in report.findings:
        print(finding.format(path))
    detail = ", ".join(f"{n} {k}" for k, n in report.counts().items() if n) or "no findings"
    print(f"checked {report.dois} DOI(s) and {report.pmids} PMID(s) with {report.requests} request(s) "
          f"(the rest from cache): {detail}" + (" [stopped early]" if report.aborted else ""))
