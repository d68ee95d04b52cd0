"""``citereview check``: every content problem of the site, without building it.

A build takes seconds and stops at the first broken page; reviewers and CI want every
problem at once, with ``file:line:col`` positions that editors and GitHub can jump to. The
checker reads ``mkdocs.yml`` the way MkDocs would (including ``!ENV`` tags), then reuses
the same parts as the Markdown extension: :mod:`citereview.bibliography` for the
bibliography, :mod:`citereview.parse` for citations, :mod:`citereview.frontmatter` for
page review fields. It never imports MkDocs, so it also works for Zensical-only checkouts.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from . import bibliography as bibmod
from . import site
from .bibliography import unknown_key_message
from .config import ConfigError as ConfigError  # re-exported: the CLI and callers catch it here
from .config import bibliography_path, read_mkdocs_config
from .frontmatter import read_front_matter
from .model import REVIEW_STATUSES, SERIOUS_STATUSES, Diagnostic

LEVELS: tuple[str, ...] = ("error", "warning", "notice")
#: Statuses ``--fail-on`` accepts. ``unreviewed`` never fails: most references start there.
FAILABLE_STATUSES: tuple[str, ...] = tuple(s for s in REVIEW_STATUSES if s in SERIOUS_STATUSES)


@dataclass
class Project:
    """What the checker and the queue need from ``mkdocs.yml``, with MkDocs' defaults."""

    config_path: Path
    config: dict[str, Any]
    docs_dir: Path
    bibliography: Path

    @classmethod
    def load(cls, config_path: str | Path = "mkdocs.yml") -> Project:
        path = Path(config_path)
        config = read_mkdocs_config(path)
        docs_dir = path.resolve().parent / str(config.get("docs_dir") or "docs")
        return cls(path, config, docs_dir, bibliography_path(path, config))

    @property
    def base(self) -> Path:
        return self.config_path.resolve().parent

    def display(self, path: Path) -> str:
        """A path as reported: relative to the working directory when inside it (GitHub
        annotations need repository-relative paths), else absolute."""
        rel = os.path.relpath(path, Path.cwd())
        return Path(rel).as_posix() if not rel.startswith("..") else path.as_posix()

    def page_display(self, rel: str) -> str:
        return self.display(self.docs_dir / rel)

    def changed_pages(self, changed: Iterable[str] | None) -> set[str] | None:
        """Docs-relative paths of the ``--changed`` files that are pages (``None``: all)."""
        if changed is None:
            return None
        docs = self.docs_dir.resolve()
        result: set[str] = set()
        for name in changed:
            p = Path(name)
            p = (p if p.is_absolute() else Path.cwd() / p).resolve()
            if p.is_relative_to(docs):
                result.add(p.relative_to(docs).as_posix())
        return result

    def bibliography_changed(self, changed: Iterable[str] | None) -> bool:
        if changed is None:
            return True
        target = self.bibliography.resolve()
        return any((Path(n) if Path(n).is_absolute() else Path.cwd() / n).resolve() == target for n in changed)


# -- the checks -------------------------------------------------------------------------
@dataclass
class CheckResult:
    diagnostics: list[Diagnostic] = field(default_factory=list)

    def count(self, level: str) -> int:
        return sum(1 for d in self.diagnostics if d.level == level)

    @property
    def failed(self) -> bool:
        return self.count("error") > 0


def run_check(project: Project, *, fail_on: Iterable[str] = (), changed: Iterable[str] | None = None,
              today: _dt.date | None = None) -> CheckResult:
    """All diagnostics, sorted by file and position. Content problems never raise."""
    today = today or _dt.datetime.now(_dt.UTC).date()
    fail_on = set(fail_on)
    only = project.changed_pages(changed)
    bib_display = project.display(project.bibliography)
    bib = bibmod.load(bib_display if not Path(bib_display).is_absolute() else project.bibliography)
    out: list[Diagnostic] = []

    bib_changed = project.bibliography_changed(changed)
    for d in bib.diagnostics:
        if bib_changed or d.level == "error":
            out.append(Diagnostic(bib_display, d.line, d.message, level="notice" if d.level == "info" else d.level,
                                  col=d.col, code=d.code))

    if not project.docs_dir.is_dir():
        out.append(Diagnostic(project.display(project.config_path), 1,
                              f"docs_dir '{project.docs_dir}' does not exist", code="config"))
        return CheckResult(out)

    pages = site.read_site(project.docs_dir)
    for page in pages:
        if only is not None and page.path not in only:
            continue
        where = project.page_display(page.path)
        review, fm = read_front_matter(where, page.text, today=today)
        out.extend(fm)
        due = review.due
        if due is not None and today > due:
            out.append(Diagnostic(where, review.line_of("next_review", review.line_of("last_reviewed")),
                                  f"page review overdue since {due.isoformat()}", level="notice",
                                  code="page-overdue"))
        for occ in page.occurrences:
            if occ.group.needed:
                out.append(Diagnostic(where, occ.line, "statement marked [citation needed]",
                                      level="notice", col=occ.col, code="citation-needed"))
                continue
            for item in occ.group.items:
                ref = bib.get(item.key)
                if ref is None:
                    if bib.loaded:
                        out.append(Diagnostic(where, occ.line, unknown_key_message(item.key, bib.references),
                                              col=occ.col, code="unknown-key"))
                    continue
                status = ref.review.status
                if status in fail_on:
                    out.append(Diagnostic(where, occ.line, f"cites '{ref.id}', which is {status} "
                                          f"(--fail-on {status})", col=occ.col, code=f"cite-{status}"))
                elif ref.review.flagged:
                    note = f": {ref.review.note}" if ref.review.note and ref.review.serious else ""
                    out.append(Diagnostic(where, occ.line, f"cites '{ref.id}', which is {status}{note}",
                                          level="notice", col=occ.col, code=f"cite-{status}"))

    if bib.loaded and (only is None or bib_changed):
        used = {key for page in pages for key in page.keys()}
        for ref in bib.references.values():
            if ref.id not in used:
                out.append(Diagnostic(bib_display, ref.line, f"reference '{ref.id}' is not cited on any page",
                                      level="warning", code="unused"))

    order = {lvl: i for i, lvl in enumerate(LEVELS)}
    out.sort(key=lambda d: (d.file, d.line, d.col, order.get(d.level, 9), d.message))
    return CheckResult(out)


# -- output formats ---------------------------------------------------------------------
def _gh_escape(value: str, prop: bool = False) -> str:
    value = value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if prop:
        value = value.replace(":", "%3A").replace(",", "%2C")
    return value


def github_annotation(d: Diagnostic) -> str:
    """One GitHub Actions workflow command, e.g. ``::error file=a.md,line=3,col=5::message``."""
    level = {"error": "error", "warning": "warning"}.get(d.level, "notice")
    props = f"file={_gh_escape(d.file, True)},line={d.line},col={d.col}"
    if d.code:
        props += f",title={_gh_escape('citereview ' + d.code, True)}"
    return f"::{level} {props}::{_gh_escape(d.message)}"


def format_result(result: CheckResult, fmt: str = "text") -> str:
    diags = result.diagnostics
    if fmt == "json":
        return json.dumps([asdict(d) for d in diags], indent=2, ensure_ascii=False)
    if fmt == "github":
        return "\n".join(github_annotation(d) for d in diags)
    lines = [str(d) for d in diags]
    lines.append(f"citereview check: {result.count('error')} error(s), {result.count('warning')} warning(s), "
                 f"{result.count('notice') + result.count('info')} notice(s)")
    return "\n".join(lines)
