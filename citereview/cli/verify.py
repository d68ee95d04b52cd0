"""``citereview verify [--online]``: check DOIs and PMIDs against Crossref and PubMed.

Reviewers decide; this command only reports. It never writes the bibliography. For each
reference with a DOI it asks the Crossref REST API, and for each PMID NCBI E-utilities
(esummary, batched), then compares title, year and first author's family name loosely (see
:mod:`citereview.textmatch`) and reports:

* mismatches (field, ours vs theirs), identifiers that do not resolve (404 / unknown PMID),
* retractions, withdrawals and expressions of concern: Crossref ``updated-by`` on the cited
  work, ``update-to`` when the cited DOI is itself the notice, titles prefixed
  "RETRACTED:", and PubMed publication types such as "Retracted Publication".

Why the HTTP layer looks the way it does: both services ask for politeness. Every request
carries a contact address (Crossref ``mailto`` and User-Agent, NCBI ``tool``/``email``), goes
through a per-host token bucket (default 3 requests/s, NCBI's limit without an API key),
is retried with exponential backoff on 429/5xx honouring ``Retry-After``, and is cached on
disk (one JSON file per URL hash, with an expiry) so that a rerun asks nothing again.

Exit codes: 0 all checked and fine (or no ``--online``), 1 a finding (mismatch, unresolved
identifier, retraction or concern), 2 nothing found but some look-ups failed or the command
could not run (no contact address, unknown ``--keys``).
"""

from __future__ import annotations

import argparse
import email.utils
import hashlib
import html
import json
import os
import re
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .. import __version__
from ..core.bibliography import Bibliography, parse_bibliography
from ..core.model import Reference
from ..core.textmatch import family_from_pubmed, normalize, titles_match
from .importer import CiteImportError, add_config_option, bibliography_path, read_site_config

CROSSREF_URL = "https://api.crossref.org"
EUTILS_URL = "https://eutils.ncbi.nlm.nih.gov/entrez/eutils"
CONTACT_ENV = "CITEREVIEW_CONTACT"
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
PUBMED_BATCH = 100
#: Crossref update types that withdraw a work, and those that only warn about it.
RETRACTION_TYPES = frozenset({"retraction", "partial-retraction", "withdrawal", "removal"})
CONCERN_TYPES = frozenset({"expression-of-concern"})
CORRECTION_TYPES = frozenset({"correction", "erratum", "corrigendum", "addendum", "clarification"})
#: PubMed publication types (esummary ``pubtype``).
PUBMED_RETRACTED = frozenset({"retracted publication", "withdrawn publication"})
PUBMED_NOTICE = frozenset({"retraction of publication"})
PUBMED_CONCERN = frozenset({"expression of concern"})
#: Findings that make the exit code 1.
FAILING_KINDS = frozenset({"mismatch", "unresolved", "retraction", "concern", "notice"})


class LookupFailedError(Exception):
    """A request that could not be completed (network, HTTP error, not JSON)."""


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

    @property
    def level(self) -> str:
        if self.kind in FAILING_KINDS:
            return "error"
        return "warning" if self.kind == "lookup-failed" else "note"

    def format(self, path: str) -> str:
        return f"{path}:{self.line}:1: {self.level}: {self.key}: {self.message}"


# --------------------------------------------------------------------------- HTTP


class TokenBucket:
    """At most ``rate`` requests per second on average, bursts of at most ``capacity``."""

    def __init__(self, rate: float, capacity: float = 1.0,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep):
        self.rate = rate
        self.capacity = capacity
        self.tokens = capacity
        self.clock = clock
        self.sleep = sleep
        self.updated = clock()

    def acquire(self) -> float:
        """Take one token, sleeping until one is available; returns the time slept."""
        now = self.clock()
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        waited = 0.0
        if self.tokens < 1.0:
            waited = (1.0 - self.tokens) / self.rate
            self.sleep(waited)
            self.updated = self.clock()
            self.tokens = 1.0
        self.tokens -= 1.0
        return waited


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """``Retry-After`` is either delta-seconds or an HTTP date (RFC 9110, 10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


class PoliteClient:
    """GET JSON with contact details, rate limit, retries, timeouts and an on-disk cache."""

    def __init__(self, contact: str, cache_dir: str | Path | None = ".cache/citereview", rate: float = 3.0,
                 timeout: float = 10.0, retries: int = 2, cache_days: float = 7.0,
                 sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic,
                 max_wait: float = 120.0, backoff: float = 1.0):
        self.contact = contact
        self.cache_dir = Path(cache_dir) if cache_dir else None
        self.rate = rate
        self.timeout = timeout
        self.retries = retries
        self.cache_seconds = cache_days * 86400
        self.sleep = sleep
        self.clock = clock
        self.max_wait = max_wait
        self.backoff = backoff
        self.buckets: dict[str, TokenBucket] = {}
        self.user_agent = f"citereview/{__version__} (bibliography checker; mailto:{contact})"
        #: Requests actually sent (not served from cache), for the summary line.
        self.sent = 0

    def _cache_file(self, key: str) -> Path | None:
        if not self.cache_dir:
            return None
        return self.cache_dir / (hashlib.sha256(key.encode("utf-8")).hexdigest() + ".json")

    def _cached(self, key: str) -> tuple[int, Any] | None:
        path = self._cache_file(key)
        if path is None or not path.is_file():
            return None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict) or data.get("key") != key:
            return None
        if time.time() - float(data.get("stored", 0)) > self.cache_seconds:
            return None
        return int(data["status"]), data.get("body")

    def _store(self, key: str, status: int, body: Any) -> None:
        path = self._cache_file(key)
        if path is None:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        record = {"key": key, "status": status, "stored": time.time(), "body": body}
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=str(path.parent))
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(record, handle)
        os.replace(tmp, path)

    def get_json(self, url: str, params: dict[str, str], polite: dict[str, str]) -> tuple[int, Any]:
        """(status, parsed JSON) for 200, (404, None) for not found; raises LookupFailedError.

        ``params`` identify the resource (and the cache entry); ``polite`` carry the contact
        details, so changing the address does not invalidate the cache.
        """
        key = url + ("?" + urllib.parse.urlencode(sorted(params.items())) if params else "")
        cached = self._cached(key)
        if cached is not None:
            return cached
        full = url + "?" + urllib.parse.urlencode({**params, **polite})
        host = urllib.parse.urlsplit(url).netloc
        bucket = self.buckets.setdefault(host, TokenBucket(self.rate, clock=self.clock, sleep=self.sleep))
        request = urllib.request.Request(full, headers={"User-Agent": self.user_agent,
                                                        "Accept": "application/json"})
        attempt = 0
        while True:
            bucket.acquire()
            self.sent += 1
            retry_wait: float | None = None
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    raw = response.read()
                try:
                    body = json.loads(raw.decode("utf-8"))
                except (UnicodeDecodeError, ValueError):
                    raise LookupFailedError(f"{host} answered with something that is not JSON") from None
                self._store(key, 200, body)
                return 200, body
            except urllib.error.HTTPError as exc:
                if exc.code == 404:
                    self._store(key, 404, None)
                    return 404, None
                if exc.code not in RETRY_STATUSES:
                    raise LookupFailedError(f"{host} answered HTTP {exc.code} {exc.reason}") from None
                retry_wait = retry_after_seconds(exc.headers.get("Retry-After") if exc.headers else None)
                problem = f"HTTP {exc.code}"
            except (urllib.error.URLError, TimeoutError, OSError) as exc:
                reason = getattr(exc, "reason", exc)
                problem = f"cannot reach {host}: {reason}"
            if attempt >= self.retries:
                raise LookupFailedError(f"{problem} (after {attempt + 1} attempts)")
            wait = self.backoff * (2 ** attempt) if retry_wait is None else retry_wait
            self.sleep(min(wait, self.max_wait))
            attempt += 1


# --------------------------------------------------------------------------- comparison


def _our_year(ref: Reference) -> int | None:
    parts = (ref.csl.get("issued") or {}).get("date-parts") or [[]]
    try:
        return int(parts[0][0])
    except (IndexError, TypeError, ValueError):
        return None


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
    for update in msg.get("updated-by") or []:
        kind = _kind(str(update.get("type", ""))) if isinstance(update, dict) else None
        if not kind:
            continue
        notice = update.get("DOI") or "?"
        label = update.get("label") or str(update.get("type"))
        findings.append(Finding(ref.id, ref.line, kind, "Crossref",
                                f"{ident}: {label} notice {notice} (Crossref updated-by)", related=notice))
    for update in msg.get("update-to") or []:
        kind = _kind(str(update.get("type", ""))) if isinstance(update, dict) else None
        if kind in ("retraction", "concern"):
            target = update.get("DOI") or "?"
            label = update.get("label") or str(update.get("type"))
            findings.append(Finding(ref.id, ref.line, "notice", "Crossref",
                                    f"{ident} is itself a {label.lower()} notice for {target}: cite the "
                                    "original work and record its status", related=target))
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
        elif lower == "published erratum":
            findings.append(Finding(ref.id, ref.line, "correction", "PubMed",
                                    f"{ident} is an erratum ({pubtype!r})"))
    return findings


# --------------------------------------------------------------------------- running


@dataclass
class Report:
    """Everything ``verify --online`` found, plus counts for the summary line."""

    findings: list[Finding] = field(default_factory=list)
    dois: int = 0
    pmids: int = 0
    requests: int = 0

    @property
    def exit_code(self) -> int:
        if any(f.kind in FAILING_KINDS for f in self.findings):
            return 1
        return 2 if any(f.kind == "lookup-failed" for f in self.findings) else 0


def verify_references(refs: list[Reference], client: PoliteClient, crossref_url: str = CROSSREF_URL,
                      eutils_url: str = EUTILS_URL) -> Report:
    """Look up every DOI and PMID of ``refs`` and compare; never touches the bibliography."""
    report = Report()
    polite_crossref = {"mailto": client.contact}
    for ref in refs:
        if not ref.doi:
            continue
        report.dois += 1
        url = f"{crossref_url.rstrip('/')}/works/{urllib.parse.quote(ref.doi, safe='/')}"
        try:
            status, body = client.get_json(url, {}, polite_crossref)
        except LookupFailedError as exc:
            report.findings.append(Finding(ref.id, ref.line, "lookup-failed", "Crossref",
                                           f"DOI {ref.doi}: could not check: {exc}"))
            continue
        report.findings += check_crossref(ref, status, body)

    with_pmid = [r for r in refs if r.pmid]
    report.pmids = len(with_pmid)
    polite_ncbi = {"tool": "citereview", "email": client.contact}
    ids = sorted({str(r.pmid) for r in with_pmid}, key=int)
    summaries: dict[str, Any] = {}
    failed: dict[str, str] = {}
    for start in range(0, len(ids), PUBMED_BATCH):
        batch = ids[start:start + PUBMED_BATCH]
        params = {"db": "pubmed", "id": ",".join(batch), "retmode": "json"}
        try:
            status, body = client.get_json(f"{eutils_url.rstrip('/')}/esummary.fcgi", params, polite_ncbi)
            if status != 200 or not isinstance(body, dict) or not isinstance(body.get("result"), dict):
                raise LookupFailedError(f"unexpected esummary answer (HTTP {status})")
        except LookupFailedError as exc:
            failed.update(dict.fromkeys(batch, str(exc)))
            continue
        summaries.update({k: v for k, v in body["result"].items() if k != "uids" and isinstance(v, dict)})
    for ref in with_pmid:
        pmid = str(ref.pmid)
        if pmid in failed:
            report.findings.append(Finding(ref.id, ref.line, "lookup-failed", "PubMed",
                                           f"PMID {pmid}: could not check: {failed[pmid]}"))
        else:
            report.findings += check_pubmed(ref, summaries.get(pmid))
    report.requests = client.sent
    return report


def find_contact(args: argparse.Namespace, site: dict[str, Any]) -> str | None:
    """``--contact``, else $CITEREVIEW_CONTACT, else mkdocs.yml ``extra: citereview: contact:``."""
    if getattr(args, "contact", None):
        return str(args.contact).strip()
    if os.environ.get(CONTACT_ENV):
        return os.environ[CONTACT_ENV].strip()
    extra = site.get("extra") or {}
    section = extra.get("citereview") if isinstance(extra, dict) else None
    if isinstance(section, dict) and section.get("contact"):
        return str(section["contact"]).strip()
    return None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``citereview verify``."""
    add_config_option(parser)
    parser.add_argument("--online", action="store_true",
                        help="query Crossref and PubMed (without it, only list what would be checked)")
    parser.add_argument("--bibliography", help="bibliography to check (default: from mkdocs.yml)")
    parser.add_argument("--contact", help=f"e-mail address sent to Crossref/NCBI (or ${CONTACT_ENV}, "
                                          "or mkdocs.yml extra.citereview.contact)")
    parser.add_argument("--cache-dir", default=".cache/citereview", help="on-disk response cache")
    parser.add_argument("--cache-days", type=float, default=7.0, help="cache expiry in days (default 7)")
    parser.add_argument("--no-cache", action="store_true", help="neither read nor write the cache")
    parser.add_argument("--rate", type=float, default=3.0, help="max requests per second per host (default 3)")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per request (default 10)")
    parser.add_argument("--retries", type=int, default=2, help="retries on 429/5xx/network errors (default 2)")
    parser.add_argument("--crossref-url", default=CROSSREF_URL, help="Crossref REST API base URL")
    parser.add_argument("--eutils-url", default=EUTILS_URL, help="NCBI E-utilities base URL")
    parser.add_argument("--keys", help="comma-separated ids to check (default: all)")
    parser.add_argument("--format", choices=("text", "json"), default="text", help="output format")


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
    if not contact or not EMAIL_RE.match(contact):
        shown = f" ({contact!r} is not an e-mail address)" if contact else ""
        print(f"error: verify --online needs a contact e-mail address{shown}: Crossref and NCBI ask "
              f"every client to identify itself. Pass --contact you@example.org, set ${CONTACT_ENV}, or "
              f"add to {config}:\n  extra:\n    citereview:\n      contact: you@example.org", file=sys.stderr)
        return 2
    cache = None if getattr(args, "no_cache", False) else getattr(args, "cache_dir", ".cache/citereview")
    client = PoliteClient(contact, cache_dir=cache, rate=max(float(getattr(args, "rate", 3.0)), 0.01),
                          timeout=float(getattr(args, "timeout", 10.0)), retries=int(getattr(args, "retries", 2)),
                          cache_days=float(getattr(args, "cache_days", 7.0)))
    report = verify_references(refs, client, getattr(args, "crossref_url", CROSSREF_URL),
                               getattr(args, "eutils_url", EUTILS_URL))
    _print_report(report, str(path), fmt)
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
        print(json.dumps({"online": True, "checked": {"doi": report.dois, "pmid": report.pmids},
                          "requests": report.requests, "exit_code": report.exit_code,
                          "findings": [{**asdict(f), "level": f.level} for f in report.findings]},
                         indent=2, ensure_ascii=False))
        return
    for finding in report.findings:
        print(finding.format(path))
    counts: dict[str, int] = {}
    for finding in report.findings:
        counts[finding.kind] = counts.get(finding.kind, 0) + 1
    detail = ", ".join(f"{n} {k}" for k, n in sorted(counts.items())) or "no findings"
    print(f"checked {report.dois} DOI(s) and {report.pmids} PMID(s) with {report.requests} request(s) "
          f"(the rest from cache): {detail}")
