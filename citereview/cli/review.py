"""``citereview review``: check claims against their sources, one at a time, and record it.

Interactive (the default): walks the claims still to check (changed since their review
first, then never reviewed; ``--page``, ``--key``, ``--status`` narrow it) and shows each
with the sentences around it, the reference with its DOI/PubMed/URL links, the locator, the
evidence kind and, for a changed claim, a word diff against the wording that was reviewed.
A key records the verdict (``s`` supports, ``p`` partly, ``d`` does not support), ``n``
adds a note, ``k`` skips, ``q`` quits. The terminal interface is Rich's (prompts,
styles), so it also works on a plain input stream, as the tests drive it.

Non-interactive, for scripts and tests::

    citereview review --page docs/index.md --line 10 --key KEY --verdict supports \\
        --reviewer "Name" [--date YYYY-MM-DD] [--note TEXT] [--locator "p. 3"]

It writes review records (:mod:`citereview.core.reviews`) and nothing else.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import html
import re
import subprocess
import sys
from dataclasses import dataclass

from ..core import bibliography as bibmod
from ..core import reviews as reviewmod
from ..core import sources
from ..core.claims import Claim, ClaimStatus, word_diff
from ..core.findings import claim_statuses, page_claims
from ..core.model import Reference
from ..core.project import ConfigError, Project, extension_options
from ..core.syntax import sentence_context
from ..csl.formatter import Formatter, StyleError

#: Statuses ``--status`` accepts: what a reviewer can act on.
REVIEWABLE: tuple[str, ...] = ("stale", "unreviewed", "partly", "disputed")
#: Keys of the interactive prompt and the verdict each records.
KEYS: dict[str, str] = {"s": "supports", "p": "partly", "d": "does-not-support"}


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", "-f", default="mkdocs.yml", help="path to mkdocs.yml (default: %(default)s)")
    p.add_argument("--page", help="only claims on this page (path as in the repository, e.g. docs/index.md)")
    p.add_argument("--key", help="only claims citing this reference")
    p.add_argument("--status", default="stale,unreviewed", metavar="STATUSES",
                   help=f"comma-separated claim statuses to walk (default: %(default)s; any of "
                        f"{', '.join(REVIEWABLE)})")
    p.add_argument("--reviewer", help="your name (default: git config user.name)")
    p.add_argument("--date", help="review date, YYYY-MM-DD (default: today)")
    p.add_argument("--line", type=int, help="non-interactive: the source line of the citation")
    p.add_argument("--verdict", choices=tuple(KEYS.values()), help="non-interactive: the verdict to record")
    p.add_argument("--note", help="non-interactive: a note to record with the verdict")
    p.add_argument("--locator", help="non-interactive: the citation's locator, when KEY is cited twice "
                                     "on the line with different ones")


@dataclass
class Item:
    """A claim to review, with what the screen shows about it."""

    claim: Claim
    status: ClaimStatus
    display: str  # repository path of the page


class UsageError(Exception):
    """Bad options (exit 2)."""


class NotFoundError(Exception):
    """No such citation (exit 1)."""


def run(args: argparse.Namespace) -> int:
    try:
        return _run(args)
    except (UsageError, ConfigError) as exc:
        print(f"citereview review: {exc}", file=sys.stderr)
        return 2
    except NotFoundError as exc:
        print(f"citereview review: {exc}", file=sys.stderr)
        return 1


def _run(args: argparse.Namespace) -> int:
    project = Project.load(args.config)
    options = extension_options(project.config)
    bib = bibmod.load(project.bibliography, evidence=bool(options.get("evidence", False)))
    book = reviewmod.load(project.reviews, project.display(project.reviews))
    errors = [d for d in book.diagnostics + bib.errors if d.level == "error"]
    if errors:
        raise UsageError("fix these first:\n" + "\n".join(map(str, errors)))
    statuses = [s.strip() for s in str(args.status).split(",") if s.strip()]
    bad = [s for s in statuses if s not in REVIEWABLE]
    if bad:
        raise UsageError(f"unknown status {', '.join(bad)}; choose from {', '.join(REVIEWABLE)}")
    date = args.date or _dt.date.today().isoformat()
    try:
        _dt.date.fromisoformat(date)
    except ValueError as exc:
        raise UsageError(f"--date '{date}' is not a date (YYYY-MM-DD)") from exc
    page = _page_arg(project, args.page) if args.page else None

    if args.line is not None or args.verdict is not None:
        missing = [n for n in ("page", "line", "key", "verdict") if getattr(args, n) is None]
        if missing:
            raise UsageError("the non-interactive form needs " + ", ".join(f"--{n}" for n in missing))
        reviewer = args.reviewer or _git_user()
        if not reviewer:
            raise UsageError("give --reviewer NAME (git config user.name is not set)")
        item = _find(project, bib, book, page or "", args.line, args.key, args.locator)
        _record(project, item, args.verdict, reviewer, date, args.note or "")
        print(f"recorded: {item.display}:{item.claim.line} {item.claim.key} {args.verdict}")
        return 0

    items = _walk(project, bib, book, page=page, key=args.key, statuses=statuses)
    return Session(project, bib, items, reviewer=args.reviewer, date=date).loop()


def _page_arg(project: Project, value: str) -> str:
    """``docs/index.md`` (as given on the command line) -> ``index.md`` (docs-relative)."""
    found = project.changed_pages([value])
    if not found:
        rel = value.replace("\\", "/")
        if (project.docs_dir / rel).is_file():
            return rel
        raise UsageError(f"--page {value}: not a page under {project.display(project.docs_dir)}")
    return next(iter(found))


def _git_user() -> str:
    try:
        out = subprocess.run(["git", "config", "user.name"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return ""
    return out.stdout.strip()


def _claims(project: Project, bib: bibmod.Bibliography, book: reviewmod.ReviewBook,
            page: str | None) -> list[Item]:
    out: list[Item] = []
    for src in sources.read_site(project.docs_dir):
        if page is not None and src.path != page:
            continue
        for claim, status in zip(page_claims(src, bib), claim_statuses(src, bib, book), strict=True):
            if claim.key in bib.references:
                out.append(Item(claim, status, project.page_display(src.path)))
    return out


def _walk(project: Project, bib: bibmod.Bibliography, book: reviewmod.ReviewBook, *, page: str | None,
          key: str | None, statuses: list[str]) -> list[Item]:
    """Claims to review, changed ones first, each claim once (an identical sentence citing
    the same source twice on a page is one claim)."""
    seen: set[tuple[str, str, str, str]] = set()
    items = []
    for item in _claims(project, bib, book, page):
        c = item.claim
        ident = (*c.ident, c.fingerprint)
        if item.status.status not in statuses or (key and c.key != key) or ident in seen:
            continue
        seen.add(ident)
        items.append(item)
    order = {s: i for i, s in enumerate(REVIEWABLE)}
    return sorted(items, key=lambda i: (order.get(i.status.status, 9), i.display, i.claim.line, i.claim.col))


def _find(project: Project, bib: bibmod.Bibliography, book: reviewmod.ReviewBook, page: str, line: int,
          key: str, locator: str | None) -> Item:
    here = [i for i in _claims(project, bib, book, page) if i.claim.line == line and i.claim.key == key]
    if locator is not None:
        here = [i for i in here if i.claim.locator == locator]
    if not here:
        if key not in bib.references:
            raise NotFoundError(f"'{key}' is not in the bibliography")
        raise NotFoundError(f"no citation of '{key}' on {project.page_display(page)}:{line}")
    if len({i.claim.ident for i in here}) > 1:
        locs = ", ".join(sorted(repr(i.claim.locator) for i in here))
        raise UsageError(f"'{key}' is cited on line {line} with different locators ({locs}); give --locator")
    if len({i.claim.fingerprint for i in here}) > 1:
        raise UsageError(f"'{key}' is cited in several sentences on line {line}; put them on their own lines "
                         "or review interactively")
    return here[0]


def _record(project: Project, item: Item, verdict: str, reviewer: str, date: str, note: str) -> None:
    c = item.claim
    record = reviewmod.ReviewRecord(page=c.page, key=c.key, sentence=c.sentence, fingerprint=c.fingerprint,
                                    verdict=verdict, reviewer=reviewer, date=date, locator=c.locator, note=note)
    stale = item.status.record if item.status.status == "stale" else None
    reviewmod.add(project.reviews, record, supersedes=stale)


# -- the interactive session --------------------------------------------------------------
_TAG_RE = re.compile(r"<[^>]+>")


class Session:
    """One sitting: show each claim, ask for a verdict, write it at once (nothing is lost on quit)."""

    def __init__(self, project: Project, bib: bibmod.Bibliography, items: list[Item], *,
                 reviewer: str | None, date: str) -> None:
        from rich.console import Console

        self.project = project
        self.bib = bib
        self.items = items
        self.reviewer = reviewer or _git_user()
        self.date = date
        self.console = Console(highlight=False, soft_wrap=True)
        options = extension_options(project.config)
        try:
            self.formatter: Formatter | None = Formatter.for_style(
                str(options.get("style") or "american-medical-association"))
        except StyleError:
            self.formatter = None
        self._texts: dict[str, str] = {}
        self.done = 0

    def loop(self) -> int:
        from rich.prompt import Prompt

        con = self.console
        if not self.items:
            con.print("Nothing to review with these filters.")
            return 0
        if not self.reviewer:
            try:
                self.reviewer = Prompt.ask("Your name (recorded with each review)", console=con).strip()
            except (EOFError, KeyboardInterrupt):
                self.reviewer = ""
            if not self.reviewer:
                con.print("A review needs the reviewer's name; nothing recorded.")
                return 2
        try:
            done = self._walk()
        except (EOFError, KeyboardInterrupt):  # end of input or Ctrl-C: what was recorded stays
            con.print()
            done = self.done
        con.print(f"{done} review{'s' if done != 1 else ''} recorded in {self.project.display(self.project.reviews)}.")
        return 0

    def _walk(self) -> int:
        from rich.prompt import Prompt

        con = self.console
        self.done = 0
        for n, item in enumerate(self.items, start=1):
            self.show(item, n)
            note = ""
            while True:
                choice = Prompt.ask("Verdict: [bold]s[/]upports, [bold]p[/]artly, [bold]d[/]oes not support, "
                                    "[bold]n[/]ote, s[bold]k[/]ip, [bold]q[/]uit",
                                    choices=["s", "p", "d", "n", "k", "q"], show_choices=False, console=con)
                if choice == "n":
                    note = Prompt.ask("Note", console=con, default=note or "").strip()
                    continue
                break
            if choice == "q":
                break
            if choice == "k":
                con.print("Skipped.")
                continue
            _record(self.project, item, KEYS[choice], self.reviewer, self.date, note)
            self.done += 1
            con.print(f"Recorded: {KEYS[choice]}.")
        return self.done

    def _page_text(self, item: Item) -> str:
        if item.claim.page not in self._texts:
            path = self.project.docs_dir / item.claim.page
            self._texts[item.claim.page] = path.read_text(encoding="utf-8-sig")
        return self._texts[item.claim.page]

    def show(self, item: Item, n: int) -> None:
        from rich.rule import Rule
        from rich.text import Text

        con = self.console
        c = item.claim
        ref = self.bib.references[c.key]
        con.print(Rule(f"Claim {n} of {len(self.items)} · {item.display}:{c.line} · {item.status.status}"))
        before, _, after = sentence_context(self._page_text(item), c.line, c.col)
        con.print(Text("Claim: ", style="bold") + Text(c.sentence, style="bold"))
        if before or after:
            # The neighbours, with the claim between » « so it stands out without colour too.
            context = Text("In context: ", style="bold")
            if before:
                context.append(before + " ", style="dim")
            context.append(f"»{c.sentence}«")
            if after:
                context.append(" " + after, style="dim")
            con.print(context)
        con.print()
        con.print(Text("Source: ", style="bold") + Text(self._reference(ref)))
        for label, url in _links(ref):
            con.print(Text(f"  {label}: ") + Text(url, style=f"link {url}"))
        if c.locator:
            con.print(Text("Locator: ", style="bold") + Text(c.locator))
        if ref.evidence:
            con.print(Text("Evidence: ", style="bold") + Text(ref.evidence_label))
        rec = item.status.record
        if item.status.status == "stale" and rec is not None:
            con.print(Text(f"Changed since {rec.reviewer} checked it on {rec.date} ({rec.verdict}). Changes:",
                           style="bold"))
            # wdiff's marks as well as colours: readable without colour, and when pasted.
            diff = Text()
            for op, words in word_diff(rec.sentence, c.sentence):
                mark = {"=": "{}", "-": "[-{}-]", "+": "{{+{}+}}"}[op].format(words)
                diff.append(mark, style={"=": "", "-": "red strike", "+": "green"}[op])
                diff.append(" ")
            con.print(diff)
        elif rec is not None:
            con.print(Text(f"Last checked by {rec.reviewer} on {rec.date}: {rec.verdict}" +
                           (f" ({rec.note})" if rec.note else "")))

    def _reference(self, ref: Reference) -> str:
        if self.formatter is not None:
            text = self.formatter.format(ref, self.bib.digest, self.bib.path).preview
            return " ".join(html.unescape(_TAG_RE.sub("", text)).split())
        return ref.short()


def _links(ref: Reference) -> list[tuple[str, str]]:
    out = []
    if ref.doi:
        out.append(("DOI", f"https://doi.org/{ref.doi}"))
    if ref.pmid:
        out.append(("PubMed", f"https://pubmed.ncbi.nlm.nih.gov/{ref.pmid}/"))
    if ref.url:
        out.append(("URL", str(ref.url)))
    return out


__all__ = ["add_arguments", "run"]
