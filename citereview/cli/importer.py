"""``citereview import``: add BibTeX or CSL-JSON references to the site's bibliography.

``import FILE`` reads a Zotero/PubMed export; ``import --doi 10.x/y`` and ``import --pmid N``
fetch one work's metadata (doi.org content negotiation, NCBI E-utilities efetch; see
:mod:`.lookup`) with the same polite client, contact address and cache as ``verify`` and add
it the same way. An identifier already in the bibliography is refused before anything is
asked online, with the existing key to cite instead.

Why it works the way it does:

* Reviewers' work lives in the bibliography's ``review`` blocks and comments, so the file
  is never re-dumped: new entries are appended as text after the last item of the
  ``references:`` list, and every existing byte stays where it was.
* An entry that is already there (same id, or same DOI/PMID) is reported and skipped, never
  merged or overwritten. New entries are always ``review: {status: unreviewed}`` with the
  ``evidence: other`` placeholder: only a human decides the evidence kind and status.
* Keys follow the site's convention ``familyYEARword`` (lowercase ASCII; ``a``, ``b``...
  when taken). A key from the source is kept only when it already follows that convention,
  because Zotero/Better BibTeX keys such as ``zarateRandomizedTrial2006`` would mix two
  styles in the pages; ``--keep-keys`` keeps any valid Pandoc key from the source instead.
* The result is validated with :func:`citereview.bibliography.parse_bibliography` before it
  is written and re-read after; nothing is written if it would add an error.

BibTeX is read with pybtex (LaTeX accents via latexcodec); CSL-JSON with the standard
library. Problems in the input are reported as ``file:line:col: error: message``.
"""

from __future__ import annotations

import argparse
import codecs
import json
import os
import re
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import latexcodec  # noqa: F401 - registers the "ulatex" codec used by _latex_to_text
import yaml

from ..core.bibliography import CSL_TYPES, DOI_RE, PMID_RE, URL_RE, Bibliography, parse_bibliography
from ..core.model import Reference
from ..core.project import ConfigError, read_mkdocs_config
from ..core.project import bibliography_path as _bibliography_path
from ..core.syntax import KEY_RE
from ..core.textmatch import first_significant_word, key_part, literal_key_part, normalize
from . import lookup
from .lookup import DOI_URL, EUTILS_URL
from .online import (
    LookupFailedError,
    NetworkDownError,
    RateLimitedError,
    add_client_options,
    client_from_args,
    contact_problem,
    find_contact,
)

#: The site's key convention: family name, year, first significant title word, optional a/b...
CONVENTION_KEY_RE = re.compile(r"^[a-z]+\d{4}[a-z]+$")
#: CSL fields copied from CSL-JSON input, in the order they are written.
FIELD_ORDER = ("id", "type", "author", "editor", "title", "container-title", "publisher",
               "publisher-place", "issued", "volume", "issue", "page", "edition", "DOI", "PMID",
               "PMCID", "URL")

BIBTEX_TYPES = {
    "article": "article-journal", "book": "book", "booklet": "pamphlet", "inbook": "chapter",
    "incollection": "chapter", "inproceedings": "paper-conference", "conference": "paper-conference",
    "proceedings": "book", "manual": "report", "mastersthesis": "thesis", "phdthesis": "thesis",
    "thesis": "thesis", "techreport": "report", "report": "report", "unpublished": "manuscript",
    "online": "webpage", "electronic": "webpage", "www": "webpage", "misc": "document",
    "dataset": "dataset", "software": "software", "patent": "patent", "standard": "standard",
}
MONTHS = {m: i for i, m in enumerate(
    "jan feb mar apr may jun jul aug sep oct nov dec".split(), start=1)}
_FORMAT_CMD_RE = re.compile(r"\\(?:textit|textbf|emph|textsc|textrm|textsf|texttt|textup|mkbibemph|"
                            r"mkbibbold|textsuperscript|textsubscript|mathrm|url|href\{[^{}]*\})\s*\{([^{}]*)\}")
_PMID_IN_NOTE_RE = re.compile(r"\bPMID:?\s*(\d{1,9})\b", re.I)
_PMCID_IN_NOTE_RE = re.compile(r"\bPMCID:?\s*(PMC\d+)\b", re.I)


class CiteImportError(Exception):
    """A problem in the input or the bibliography, already worded for the user."""


# --------------------------------------------------------------------------- configuration


def read_site_config(config: str | Path) -> dict[str, Any]:
    """mkdocs.yml as a dict ({} when absent), via the shared reader in config.py."""
    try:
        return read_mkdocs_config(config, missing_ok=True)
    except ConfigError as exc:
        raise CiteImportError(f"{exc.where}: error: {exc.problem}") from exc


def bibliography_path(config: str | Path, override: str | None = None) -> Path:
    """``--bibliography`` if given, else the extension's ``bibliography`` option, relative to
    mkdocs.yml's folder (where ``mkdocs build`` runs)."""
    return Path(override) if override else _bibliography_path(config, read_site_config(config))


# --------------------------------------------------------------------------- reading input


def _latex_to_text(value: str) -> str:
    """BibTeX field -> plain Unicode: accents (``{\\"u}``), escapes, protecting braces."""
    previous = None
    while previous != value:  # nested \textit{\emph{x}}
        previous, value = value, _FORMAT_CMD_RE.sub(r"\1", value)
    try:
        value = codecs.decode(value, "ulatex")
    except (UnicodeDecodeError, ValueError):
        pass
    value = re.sub(r"(?<!\\)[{}]", "", value).replace("\\{", "{").replace("\\}", "}")
    value = value.replace("~", " ")
    return " ".join(value.split())


def _bibtex_line(text: str, key: str) -> int:
    match = re.search(r"@\w+\s*[{(]\s*" + re.escape(key) + r"\s*,", text)
    return text.count("\n", 0, match.start()) + 1 if match else 1


def read_bibtex(path: Path) -> list[tuple[dict[str, Any], str, int]]:
    """(CSL item, source key, line) for each BibTeX entry."""
    from pybtex.database import parse_string
    from pybtex.exceptions import PybtexError

    text = path.read_text(encoding="utf-8-sig")
    try:
        data = parse_string(text, "bibtex")
    except PybtexError as exc:
        line = getattr(exc, "lineno", None) or 1
        message = re.sub(r"^syntax error in line \d+: ", "", str(exc))
        starts = [m for m in re.finditer(r"^[ \t]*@\w+\s*[{(]\s*([^,\s]*)", text, re.M)
                  if text.count("\n", 0, m.start()) + 1 <= line]
        where = ""
        if starts:
            entry_line = text.count("\n", 0, starts[-1].start()) + 1
            where = f" (in entry '{starts[-1].group(1)}' starting on line {entry_line})"
        raise CiteImportError(f"{path}:{line}:1: error: malformed BibTeX: {message}{where}") from None
    if not data.entries:
        raise CiteImportError(f"{path}:1:1: error: no BibTeX entries found (expected @article{{key, ...}})")
    items = []
    for key, entry in data.entries.items():
        items.append((_bibtex_to_csl(entry), key, _bibtex_line(text, key)))
    return items


def _person(person: Any) -> dict[str, str]:
    last = _latex_to_text(" ".join(person.prelast_names + person.last_names))
    given = _latex_to_text(" ".join(person.first_names + person.middle_names))
    if not given and not person.prelast_names and " " in last:
        return {"literal": last}  # {World Health Organization}
    name: dict[str, str] = {"family": last}
    if given:
        name["given"] = given
    if person.lineage_names:
        name["suffix"] = _latex_to_text(" ".join(person.lineage_names))
    return name


def _bibtex_to_csl(entry: Any) -> dict[str, Any]:
    fields = {k.lower(): _latex_to_text(str(v)) for k, v in entry.fields.items()}
    item: dict[str, Any] = {"type": BIBTEX_TYPES.get(entry.type.lower(), "document")}
    for role in ("author", "editor"):
        if entry.persons.get(role):
            item[role] = [_person(p) for p in entry.persons[role]]
    if fields.get("title"):
        item["title"] = fields["title"]
    container = fields.get("journal") or fields.get("journaltitle") or fields.get("booktitle")
    if container:
        item["container-title"] = container
    if fields.get("publisher") or fields.get("institution") or fields.get("school"):
        item["publisher"] = fields.get("publisher") or fields.get("institution") or fields.get("school")
    issued = _bibtex_date(fields)
    if issued:
        item["issued"] = {"date-parts": [issued]}
    for src, dst in (("volume", "volume"), ("number", "issue"), ("issue", "issue"), ("edition", "edition")):
        if fields.get(src) and dst not in item:
            item[dst] = fields[src]
    if fields.get("pages"):
        item["page"] = re.sub(r"\s*[-–—]+\s*", "-", fields["pages"])
    notes = " ".join(fields.get(k, "") for k in ("note", "annote", "annotation", "extra"))
    pmid = fields.get("pmid") or (m.group(1) if (m := _PMID_IN_NOTE_RE.search(notes)) else None)
    pmcid = fields.get("pmcid") or (m.group(1) if (m := _PMCID_IN_NOTE_RE.search(notes)) else None)
    if fields.get("doi"):
        item["DOI"] = fields["doi"]
    if pmid:
        item["PMID"] = pmid
    if pmcid:
        item["PMCID"] = pmcid
    if fields.get("url"):
        item["URL"] = fields["url"]
    return item


def _bibtex_date(fields: dict[str, str]) -> list[int]:
    date = fields.get("date", "")
    if re.match(r"^\d{4}", date):
        return [int(p) for p in re.findall(r"\d+", date)[:3]]
    year = re.search(r"\d{4}", fields.get("year", ""))
    if not year:
        return []
    parts = [int(year.group())]
    month = fields.get("month", "").strip().lower()
    if month.isdigit() and 1 <= int(month) <= 12:
        parts.append(int(month))
    elif month[:3] in MONTHS:
        parts.append(MONTHS[month[:3]])
    return parts


def read_csl_json(path: Path) -> list[tuple[dict[str, Any], str, int]]:
    """(CSL item, source key, line) for each CSL-JSON item (a list or a single object)."""
    text = path.read_text(encoding="utf-8-sig")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CiteImportError(f"{path}:{exc.lineno}:{exc.colno}: error: malformed JSON: {exc.msg}") from None
    if isinstance(data, dict) and isinstance(data.get("items"), list):
        data = data["items"]
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list) or not data:
        raise CiteImportError(f"{path}:1:1: error: expected a CSL-JSON list of items")
    items = []
    for index, raw in enumerate(data):
        if not isinstance(raw, dict):
            raise CiteImportError(f"{path}:1:1: error: item {index + 1} is not a JSON object")
        key = str(raw.get("id", "") or raw.get("citation-key", "") or "")
        match = re.search(r'"id"\s*:\s*' + re.escape(json.dumps(raw.get("id"))), text) if "id" in raw else None
        line = text.count("\n", 0, match.start()) + 1 if match else 1
        items.append((_clean_csl(raw), key, line))
    return items


def _clean_csl(raw: dict[str, Any]) -> dict[str, Any]:
    item: dict[str, Any] = {}
    for name in FIELD_ORDER:
        if name == "id" or raw.get(name) in (None, "", []):
            continue
        value = raw[name]
        if name in ("author", "editor") and isinstance(value, list):
            value = [{k: str(v) for k, v in p.items() if k in ("family", "given", "literal", "suffix",
                                                                 "non-dropping-particle",
                                                                 "dropping-particle")}
                     for p in value if isinstance(p, dict)]
        elif name == "issued" and isinstance(value, dict):
            parts = value.get("date-parts")
            if not parts and value.get("raw"):
                parts = [[int(p) for p in re.findall(r"\d+", str(value["raw"]))[:3]]]
            if not parts or not parts[0]:
                continue
            value = {"date-parts": [[int(p) for p in parts[0]]]}
        elif not isinstance(value, (list, dict)):
            value = str(value)
        item[name] = value
    if raw.get("type") not in CSL_TYPES:
        item["type"] = "document"
    return item


def read_source(path: Path) -> list[tuple[dict[str, Any], str, int]]:
    """Dispatch on the extension: ``.json`` is CSL-JSON, anything else BibTeX."""
    try:
        if path.suffix.lower() == ".json":
            return read_csl_json(path)
        return read_bibtex(path)
    except FileNotFoundError:
        raise CiteImportError(f"{path}:1:1: error: no such file") from None
    except UnicodeDecodeError as exc:
        raise CiteImportError(f"{path}:1:1: error: not UTF-8 text ({exc.reason})") from None


# --------------------------------------------------------------------------- planning


def _normalise_identifiers(item: dict[str, Any]) -> None:
    """Strip resolver prefixes; drop values the bibliography would reject."""
    if "DOI" in item:
        doi = re.sub(r"^(https?://(dx\.)?doi\.org/|doi:\s*)", "", str(item["DOI"]).strip(), flags=re.I)
        if DOI_RE.match(doi):
            item["DOI"] = doi
        else:
            del item["DOI"]
    if "PMID" in item:
        pmid = str(item["PMID"]).strip()
        if PMID_RE.match(pmid):
            item["PMID"] = pmid
        else:
            del item["PMID"]
    if "URL" in item and not URL_RE.match(str(item["URL"]).strip()):
        del item["URL"]


def convention_key(item: dict[str, Any]) -> str:
    """``familyYEARword``: first author's family name (or an organisation's acronym)."""
    authors = item.get("author") or item.get("editor") or []
    first = authors[0] if authors else {}
    if first.get("family"):
        name = key_part(first["family"]) or "anonymous"
    elif first.get("literal"):
        name = literal_key_part(first["literal"])
    else:
        name = "anonymous"
    parts = (item.get("issued") or {}).get("date-parts") or [[]]
    year = str(parts[0][0]) if parts and parts[0] else "nd"
    return f"{name}{year}{first_significant_word(str(item.get('title', '')))}"


@dataclass
class Plan:
    """What an import would do; ``run`` prints it and, unless ``--dry-run``, applies ``added``."""

    added: list[dict[str, Any]] = field(default_factory=list)
    renamed: dict[str, str] = field(default_factory=dict)  # new id -> source key
    skipped: list[str] = field(default_factory=list)  # ids already present
    duplicates: list[tuple[str, str, str]] = field(default_factory=list)  # (source key, existing id, why)


def plan_import(sources: list[tuple[dict[str, Any], str, int]], existing: dict[str, Reference],
                keep_keys: bool = False) -> Plan:
    """Decide the id of every new item and which ones are already in the bibliography."""
    plan = Plan()
    taken = set(existing)
    by_doi = {r.doi.lower(): r.id for r in existing.values() if r.doi}
    by_pmid = {str(r.pmid): r.id for r in existing.values() if r.pmid}
    titles = {r.id: normalize(r.title) for r in existing.values()}
    for raw, source_key, _line in sources:
        item = dict(raw)
        _normalise_identifiers(item)
        label = source_key or item.get("title", "?")
        keep = bool(source_key) and KEY_RE.fullmatch(source_key) is not None and (
            keep_keys or CONVENTION_KEY_RE.match(source_key) is not None)
        base = source_key if keep else convention_key(item)
        # "Already present": a kept source key that is taken, or a generated key whose existing
        # entry has the same title. A generated key taken by another work gets a/b... instead.
        same_id = base in existing and (keep or titles.get(base) == normalize(item.get("title")))
        if same_id or (base in taken and base not in existing and keep):
            plan.skipped.append(base)
            continue
        doi, pmid = str(item.get("DOI", "")).lower(), str(item.get("PMID", ""))
        if doi and doi in by_doi:
            plan.duplicates.append((label, by_doi[doi], f"DOI {item['DOI']}"))
            continue
        if pmid and pmid in by_pmid:
            plan.duplicates.append((label, by_pmid[pmid], f"PMID {pmid}"))
            continue
        key = base
        suffix = iter("abcdefghijklmnopqrstuvwxyz")
        while key in taken:
            try:
                key = base + next(suffix)
            except StopIteration:
                raise CiteImportError(f"cannot find a free id for '{base}' (a to z all taken)") from None
        taken.add(key)
        if doi:
            by_doi[doi] = key
        if pmid:
            by_pmid[pmid] = key
        if source_key and source_key != key:
            plan.renamed[key] = source_key
        entry: dict[str, Any] = {"id": key, "type": item.get("type", "document")}
        entry.update({k: item[k] for k in FIELD_ORDER[2:] if k in item})
        entry.setdefault("title", "[untitled]")
        # PubMed ends titles with a period; CSL styles add their own punctuation.
        title = str(entry["title"])
        if title.endswith(".") and not title.endswith("..") and len(title) > 1:
            entry["title"] = title[:-1]
        entry["evidence"] = "other"
        entry["review"] = {"status": "unreviewed"}
        plan.added.append(entry)
    return plan


# --------------------------------------------------------------------------- writing


def render_entries(entries: list[dict[str, Any]], indent: int = 0) -> str:
    """YAML list items in the file's own style (PyYAML block style, 100 columns)."""
    text = yaml.safe_dump(entries, sort_keys=False, allow_unicode=True, default_flow_style=False,
                          width=100, indent=2)
    if indent:
        text = "".join(" " * indent + line if line.strip() else line for line in text.splitlines(True))
    return text


def insertion_point(text: str, path: str) -> tuple[int, int]:
    """(offset, indent) at which new list items go: right after the last ``references`` item."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        raise CiteImportError(f"{path}:1:1: error: the bibliography is not valid YAML ({exc}); "
                            "fix it before importing") from None
    if root is None:
        raise CiteImportError(f"{path}:1:1: error: the bibliography is empty: expected 'references:'")
    seq, after = root, None
    if isinstance(root, yaml.MappingNode):
        seq = None
        for index, (key_node, value_node) in enumerate(root.value):
            if key_node.value == "references":
                seq = value_node
                if index + 1 < len(root.value):
                    after = root.value[index + 1][0]
        if seq is None:
            raise CiteImportError(f"{path}:1:1: error: no top-level 'references:' list")
    if not isinstance(seq, yaml.SequenceNode) or seq.flow_style or not seq.value:
        line = seq.start_mark.line + 1 if seq is not None else 1
        raise CiteImportError(f"{path}:{line}:1: error: 'references' must be a non-empty block list "
                            "('- id: ...' items) for entries to be appended")
    indent = max(seq.value[0].start_mark.column - 2, 0)
    if after is None:
        return len(text), indent
    # Another top-level key follows: insert before it and the comments/blank lines above it.
    offset = text.rfind("\n", 0, after.start_mark.index) + 1
    while offset > 0:
        previous = text.rfind("\n", 0, offset - 1) + 1
        if text[previous:offset].strip() and not text[previous:offset].lstrip().startswith("#"):
            break
        offset = previous
    return offset, indent


def apply_plan(path: Path, plan: Plan, before: Bibliography) -> str:
    """Insert the new entries textually; validate; write atomically; re-read from disk."""
    original = path.read_bytes().decode("utf-8")
    offset, indent = insertion_point(original, str(path))
    head, tail = original[:offset], original[offset:]
    if head and not head.endswith("\n"):
        head += "\n"
    new_text = head + render_entries(plan.added, indent) + tail
    _check(new_text, path, plan, before)
    fd, tmp = tempfile.mkstemp(prefix=".import-", suffix=".yaml", dir=str(path.parent))
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(new_text.encode("utf-8"))
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    _check(path.read_bytes().decode("utf-8"), path, plan, before)
    return new_text


def _check(text: str, path: Path, plan: Plan, before: Bibliography) -> None:
    after = parse_bibliography(text, str(path))
    old = {(d.code, d.message) for d in before.errors}
    new_errors = [d for d in after.errors if (d.code, d.message) not in old]
    missing = [e["id"] for e in plan.added if e["id"] not in after.references]
    if new_errors or missing or not after.loaded:
        detail = "; ".join(str(d) for d in new_errors) or f"entries not found after writing: {missing}"
        raise CiteImportError(f"{path}:1:1: error: refusing to write: the result would not validate: {detail}")


# --------------------------------------------------------------------------- command


def add_config_option(parser: argparse.ArgumentParser) -> None:
    """``--config/-f`` unless the CLI already put it on this subparser (then keep theirs)."""
    try:
        parser.add_argument("--config", "-f", default="mkdocs.yml",
                            help="path to mkdocs.yml (default: %(default)s)")
    except argparse.ArgumentError:
        pass


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``citereview import``: a FILE, or one ``--doi``/``--pmid`` fetched online."""
    add_config_option(parser)
    parser.add_argument("file", metavar="FILE", nargs="?",
                        help="BibTeX (.bib) or CSL-JSON (.json) file to import")
    parser.add_argument("--doi", help="fetch this DOI's metadata from doi.org and add it")
    parser.add_argument("--pmid", help="fetch this PubMed id's metadata from NCBI E-utilities and add it")
    parser.add_argument("--bibliography", help="bibliography to append to (default: from mkdocs.yml)")
    parser.add_argument("--dry-run", action="store_true", help="print what would be added; write nothing")
    parser.add_argument("--keep-keys", action="store_true",
                        help="keep any valid citation key from the source instead of the site's "
                             "familyYEARword convention")
    online = parser.add_argument_group("with --doi or --pmid")
    add_client_options(online)
    online.add_argument("--doi-url", default=DOI_URL, help="DOI resolver base URL (content negotiation)")
    online.add_argument("--eutils-url", default=EUTILS_URL, help="NCBI E-utilities base URL")


class UsageError(CiteImportError):
    """The command cannot run as given, or the service could not be reached: exit code 2."""


def run(args: argparse.Namespace) -> int:
    """0 on success (including "nothing new"), 1 on a content error (also: identifier not
    found, already in the bibliography), 2 when the command cannot run (bad options, no
    contact address, network unreachable, rate limited); printed without traceback."""
    try:
        return _run(args)
    except UsageError as exc:
        print(exc, file=sys.stderr)
        return 2
    except CiteImportError as exc:
        print(exc, file=sys.stderr)
        return 1


def _load_bibliography(args: argparse.Namespace) -> tuple[Path, Bibliography]:
    bib_path = bibliography_path(getattr(args, "config", "mkdocs.yml"), getattr(args, "bibliography", None))
    try:
        existing_text = bib_path.read_bytes().decode("utf-8")
    except OSError as exc:
        raise CiteImportError(f"{bib_path}:1:1: error: cannot read bibliography: "
                            f"{exc.strerror or exc}") from None
    before = parse_bibliography(existing_text, str(bib_path))
    if not before.loaded:
        for diag in before.diagnostics:
            print(diag, file=sys.stderr)
        raise CiteImportError(f"{bib_path}:1:1: error: fix the bibliography before importing")
    return bib_path, before


def _run(args: argparse.Namespace) -> int:
    wanted = [n for n in ("file", "doi", "pmid") if getattr(args, n, None)]
    if len(wanted) != 1:
        raise UsageError("error: import needs exactly one of FILE, --doi 10.x/y or --pmid N"
                         + (f" (got {', '.join(wanted)})" if wanted else ""))
    if wanted[0] != "file":
        return _run_identifier(args)
    bib_path, before = _load_bibliography(args)
    sources = read_source(Path(args.file))
    plan = plan_import(sources, before.references, keep_keys=getattr(args, "keep_keys", False))
    _apply_and_report(plan, bib_path, before, getattr(args, "dry_run", False))
    return 0


def _apply_and_report(plan: Plan, bib_path: Path, before: Bibliography, dry: bool) -> None:
    verb = "would add" if dry else "added"
    for entry in plan.added:
        origin = f" (source key {plan.renamed[entry['id']]})" if entry["id"] in plan.renamed else ""
        print(f"{verb} {entry['id']}{origin}: {entry.get('title', '')}")
    for key in plan.skipped:
        print(f"skipped {key}: already present")
    for source, existing_id, why in plan.duplicates:
        print(f"duplicate {source}: same {why} as existing '{existing_id}'")
    if dry and plan.added:
        print(f"--- entries that would be appended to {bib_path}:")
        print(render_entries(plan.added), end="")
    if plan.added and not dry:
        apply_plan(bib_path, plan, before)
    print(f"{len(plan.added)} {verb}, {len(plan.skipped)} skipped (already present), "
          f"{len(plan.duplicates)} duplicates (by DOI/PMID)" + (" [dry run]" if dry else ""))


def _existing(before: Bibliography, doi: str | None, pmid: str | None) -> Reference | None:
    for ref in before.references.values():
        if doi and ref.doi and str(ref.doi).lower() == doi.lower():
            return ref
        if pmid and ref.pmid and str(ref.pmid) == pmid:
            return ref
    return None


def _run_identifier(args: argparse.Namespace) -> int:
    """``import --doi``/``--pmid``: refuse duplicates before asking anyone, then fetch, plan, write."""
    doi = lookup.normalise_doi(args.doi) if args.doi else None
    pmid = lookup.normalise_pmid(args.pmid) if args.pmid else None
    if args.doi and not doi:
        raise UsageError(f"error: --doi {args.doi!r} is not a DOI (expected 10.NNNN/suffix)")
    if args.pmid and not pmid:
        raise UsageError(f"error: --pmid {args.pmid!r} is not a PubMed id (expected a number)")
    ident = f"DOI {doi}" if doi else f"PMID {pmid}"
    bib_path, before = _load_bibliography(args)
    if (ref := _existing(before, doi, pmid)) is not None:
        raise CiteImportError(f"{bib_path}:{ref.line}:1: error: {ident} is already in the bibliography as "
                              f"'{ref.id}': cite it as [@{ref.id}]; nothing was added")
    config = getattr(args, "config", "mkdocs.yml") or "mkdocs.yml"
    contact = find_contact(args, read_site_config(config))
    problem = contact_problem(contact, f"import --{'doi' if doi else 'pmid'}", config)
    if problem or not contact:
        raise UsageError(str(problem))
    client = client_from_args(args, contact, "bibliography import")
    service = "doi.org" if doi else "NCBI E-utilities"
    try:
        if doi:
            fetched = lookup.fetch_doi(client, doi, getattr(args, "doi_url", DOI_URL))
        else:
            fetched = lookup.fetch_pmid(client, str(pmid), getattr(args, "eutils_url", EUTILS_URL))
    except lookup.NotFoundError as exc:
        raise CiteImportError(f"error: {exc}: check it for typos; nothing was added") from None
    except lookup.UnusableRecordError as exc:
        raise CiteImportError(f"error: {exc}; nothing was added") from None
    except NetworkDownError as exc:
        raise UsageError(f"error: cannot import {ident}: {exc}. Check the network connection (or "
                         f"--{'doi' if doi else 'eutils'}-url); nothing was added") from None
    except RateLimitedError as exc:
        raise UsageError(f"error: cannot import {ident}: {service} is rate limiting requests ({exc}); "
                         "try again later; nothing was added") from None
    except LookupFailedError as exc:
        hint = (": this DOI's registration agency offers no CSL metadata; import it from a CSL-JSON or "
                "BibTeX export instead (citereview import FILE)") if exc.status == 406 else ""
        raise UsageError(f"error: cannot import {ident}: {exc}{hint}; nothing was added") from None
    for warning in fetched.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    plan = plan_import([(fetched.item, "", 1)], before.references)
    if plan.duplicates or plan.skipped:
        existing_id = plan.duplicates[0][1] if plan.duplicates else plan.skipped[0]
        why = f"same {plan.duplicates[0][2]}" if plan.duplicates else "same key and title"
        line = before.references[existing_id].line
        raise CiteImportError(f"{bib_path}:{line}:1: error: {ident} is already in the bibliography as "
                              f"'{existing_id}' ({why}): cite it as [@{existing_id}]; nothing was added")
    _apply_and_report(plan, bib_path, before, getattr(args, "dry_run", False))
    return 0
