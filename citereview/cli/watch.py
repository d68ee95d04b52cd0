"""``citereview watch``: the body of the one "source watch" issue, from verify's and check's JSON.

The scheduled workflow (``.github/workflows/watch.yml``) runs ``verify --online --format
json`` and ``check --format json`` and hands both files here; this command turns them into
Markdown grouped by what a reviewer has to do (retractions first), and the workflow opens or
updates a single issue with it. Keeping the rendering here rather than in shell inside YAML
makes it testable and keeps the workflow a few ``gh`` calls long.

Why the body carries hidden fingerprints: the issue is rewritten every week, so a reviewer
needs to see what changed. Each item's fingerprint (kind, key, related DOI...) is stored in
an HTML comment; the next run reads the previous body, marks items it has not seen as
**new**, and reports their number so that the workflow can comment (an edited body notifies
nobody, a comment does).

Text from outside (Crossref titles, PubMed names) is escaped: an ``@name`` in a title must not
ping a GitHub user, and HTML in it must stay text.

It never reads or writes content: it only reads the two JSON files and a previous body.
Exit codes: 0 rendered, 2 an input is missing or malformed, or verify stopped early (then
nothing is rendered, so a network outage never overwrites the issue with a partial list).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import hashlib
import html
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MARKER = "<!-- citereview source watch -->"
IDS_RE = re.compile(r"<!-- source-watch-ids: ([0-9a-f ]*) -->")
#: check's codes for dated facts whose date has passed or that are older than the maximum age.
FACT_CODES = ("fact-expired", "fact-overage")
#: GitHub refuses issue bodies over 65,536 characters.
MAX_BODY = 60000

#: (title, verify kinds, what a reviewer does about it), in the order the issue lists them.
SECTIONS: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("Retractions", ("retraction",), "Set the reference's review status to `retracted` and revise "
                                     "every claim that relies on it."),
    ("Expressions of concern", ("concern",), "Read the notice; consider `disputed` and say so where "
                                             "the work is cited."),
    ("Notices cited as sources", ("notice",), "The bibliography cites a retraction notice or an "
                                              "expression of concern itself: cite the original work."),
    ("Corrections", ("correction",), "Check whether the correction changes what the site says."),
    ("Identifier mismatches", ("mismatch", "unresolved"), "Compare the entry with the publisher's page "
                                                          "and fix the wrong field or identifier."),
)
FACTS_TITLE = "Expired dated facts"
FAILED_TITLE = "Could not check"


class WatchInputError(Exception):
    """An input file is missing or not what the command produces; worded for the user."""


@dataclass
class Item:
    """One line of the issue."""

    fingerprint: str
    where: str  # path:line
    key: str | None
    message: str
    new: bool = False


def fingerprint(*parts: Any) -> str:
    """Stable across runs and line moves: what the item is about, not where it is."""
    return hashlib.sha1("|".join(str(p or "") for p in parts).encode("utf-8")).hexdigest()[:12]


def escape(text: str) -> str:
    """Outside text as inert Markdown: no HTML, no @mentions, no links or emphasis."""
    text = html.escape(" ".join(str(text).split()), quote=False).replace("@", "&#64;")
    return re.sub(r"([\\`*_\[\]|~])", r"\\\1", text)


def _relative(path: str, root: Path) -> str:
    try:
        return Path(path).resolve().relative_to(root.resolve()).as_posix()
    except (ValueError, OSError):
        return path


def _load_json(path: Path, what: str) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise WatchInputError(f"{path}:1:1: error: no such file (expected {what})") from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise WatchInputError(f"{path}:1:1: error: not the JSON of {what} ({exc})") from None


def verify_items(report: Any, path: Path, root: Path) -> dict[str, list[Item]]:
    """Items by verify kind; refuses a report that stopped early or is not ``--online``."""
    if not isinstance(report, dict) or not isinstance(report.get("findings"), list) or not report.get("online"):
        raise WatchInputError(f"{path}:1:1: error: not the output of 'citereview verify --online --format json'")
    if report.get("aborted"):
        raise WatchInputError(f"{path}:1:1: error: verify stopped early ({report['aborted']}); the issue is "
                              "left as it was")
    bib = _relative(str(report.get("bibliography") or "bibliography"), root)
    items: dict[str, list[Item]] = {}
    for f in report["findings"]:
        if not isinstance(f, dict):
            continue
        kind = str(f.get("kind"))
        fp = fingerprint("verify", kind, f.get("key"), f.get("source"), f.get("field"), f.get("related"),
                         f.get("theirs") if kind == "mismatch" else None)
        items.setdefault(kind, []).append(Item(fp, f"{bib}:{f.get('line', 1)}", f.get("key"),
                                               str(f.get("message", ""))))
    return items


def fact_items(diagnostics: Any, path: Path, root: Path, codes: tuple[str, ...]) -> list[Item]:
    """check's diagnostics whose code names an expired or over-age dated fact."""
    if not isinstance(diagnostics, list):
        raise WatchInputError(f"{path}:1:1: error: not the output of 'citereview check --format json'")
    out = []
    for d in diagnostics:
        if isinstance(d, dict) and d.get("code") in codes:
            where = _relative(str(d.get("file", "?")), root)
            out.append(Item(fingerprint("check", d.get("code"), where, d.get("message")),
                            f"{where}:{d.get('line', 1)}", None, str(d.get("message", ""))))
    return out


def previous_fingerprints(body: str | None) -> set[str] | None:
    """Fingerprints stored in the previous body; None when there was no previous watch issue."""
    if not body or MARKER not in body:
        return None
    match = IDS_RE.search(body)
    return set(match.group(1).split()) if match else set()


def _line(item: Item, blob_url: str | None) -> str:
    path, _, line = item.where.rpartition(":")
    place = f"`{item.where}`"
    if blob_url and path and not path.startswith("/"):
        place = f"[`{item.where}`]({blob_url.rstrip('/')}/{path}#L{line})"
    key = f"`{item.key}` " if item.key else ""
    new = "**new** " if item.new else ""
    return f"- {new}{key}({place}): {escape(item.message)}"


@dataclass
class Rendered:
    body: str
    total: int
    new: int


def render(report: Any, verify_path: Path, checks: Any | None, check_path: Path | None, previous: str | None,
           *, root: Path, codes: tuple[str, ...] = FACT_CODES, run_url: str | None = None,
           blob_url: str | None = None, today: _dt.date | None = None) -> Rendered:
    """The issue body, the number of items and how many of them the previous body did not list."""
    by_kind = verify_items(report, verify_path, root)
    facts = fact_items(checks, check_path or Path("check.json"), root, codes) if checks is not None else []
    sections: list[tuple[str, str, list[Item]]] = [
        (title, advice, [i for k in kinds for i in by_kind.get(k, [])]) for title, kinds, advice in SECTIONS]
    if checks is not None:
        sections.append((FACTS_TITLE, "Check the statement against its source and update the text and "
                                      "its `[as of ...]` date.", facts))
    failed = by_kind.get("lookup-failed", [])
    seen = previous_fingerprints(previous)
    items = [i for _, _, group in sections for i in group]
    for item in items:
        item.new = seen is not None and item.fingerprint not in seen
    new = len(items) if seen is None else sum(1 for i in items if i.new)
    when = (today or _dt.datetime.now(_dt.UTC).date()).isoformat()
    run = f" ([workflow run]({run_url}))" if run_url else ""
    checked = report.get("checked") or {}
    lines = [MARKER, "",
             f"Weekly check of {checked.get('doi', 0)} DOI(s) against Crossref (including Retraction Watch "
             f"records) and {checked.get('pmid', 0)} PMID(s) against PubMed"
             + (", and of dated facts" if checks is not None else "")
             + f", last run {when}{run}. This issue is rewritten by `.github/workflows/watch.yml`; nothing in "
             "the site was changed: a reviewer decides what to do.", ""]
    if not items:
        lines += ["**Nothing to report.**", ""]
    else:
        summary = f"**{len(items)} item(s)**" + (f", **{new} new** since the last run" if seen is not None else "")
        lines += [summary + ".", ""]
    for title, advice, group in sections:
        if not group:
            continue
        lines += [f"### {title} ({len(group)})", "", advice, ""]
        lines += [_line(i, blob_url) for i in group] + [""]
    if failed:
        lines += [f"### {FAILED_TITLE} ({len(failed)})", "",
                  "The service answered with an error after retries; these are checked again next week.", ""]
        lines += [_line(i, blob_url) for i in failed] + [""]
    footer = f"<!-- source-watch-ids: {' '.join(sorted(i.fingerprint for i in items))} -->"
    body = "\n".join(lines)
    if len(body) + len(footer) > MAX_BODY:
        cut = body.rfind("\n- ", 0, MAX_BODY - len(footer) - 200)
        body = body[:cut] + "\n\n… (list cut to fit GitHub's size limit: run `citereview verify --online` "
        body += "locally for the rest)\n"
    return Rendered(body + "\n" + footer + "\n", len(items), new)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``citereview watch``."""
    parser.add_argument("--verify", required=True, type=Path, metavar="FILE",
                        help="output of 'citereview verify --online --format json'")
    parser.add_argument("--check", type=Path, metavar="FILE", help="output of 'citereview check --format json'")
    parser.add_argument("--previous", type=Path, metavar="FILE",
                        help="the issue's current body, to mark what is new (empty or absent: no issue yet)")
    parser.add_argument("--fact-codes", default=",".join(FACT_CODES),
                        help="check codes of expired/over-age dated facts (default: %(default)s)")
    parser.add_argument("--run-url", help="link to the workflow run")
    parser.add_argument("--blob-url", help="base URL for file links, e.g. https://github.com/o/r/blob/SHA")
    parser.add_argument("--outputs", type=Path, metavar="FILE",
                        help="append 'items=N' and 'new=M' lines here (e.g. $GITHUB_OUTPUT)")


def run(args: argparse.Namespace) -> int:
    """Print the body on stdout; 2 (and nothing on stdout) when an input is unusable."""
    root = Path.cwd()
    try:
        report = _load_json(args.verify, "'citereview verify --online --format json'")
        checks = _load_json(args.check, "'citereview check --format json'") if args.check else None
        previous = None
        if args.previous and args.previous.is_file():
            previous = args.previous.read_text(encoding="utf-8", errors="replace")
        codes = tuple(c.strip() for c in str(args.fact_codes).split(",") if c.strip())
        rendered = render(report, args.verify, checks, args.check, previous, root=root, codes=codes,
                          run_url=args.run_url, blob_url=args.blob_url)
    except WatchInputError as exc:
        print(exc, file=sys.stderr)
        return 2
    sys.stdout.write(rendered.body)
    if args.outputs:
        with args.outputs.open("a", encoding="utf-8") as handle:
            handle.write(f"items={rendered.total}\nnew={rendered.new}\n")
    return 0
