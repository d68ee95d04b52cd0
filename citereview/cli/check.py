"""``citereview check``: every content problem of the site, without building it.

A build takes seconds and stops at the first broken page; reviewers and CI want every
problem at once, with ``file:line:col`` positions that editors and GitHub can jump to. The
checker reads ``mkdocs.yml`` the way MkDocs would (:mod:`citereview.core.project`) and
reports the findings of :mod:`citereview.core.findings`, the same the build reports, so it
fails exactly when ``mkdocs build --strict`` fails. It never imports MkDocs, so it also
works for Zensical-only checkouts.
"""

from __future__ import annotations

import datetime as _dt
import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from ..core import bibliography as bibmod
from ..core import reviews as reviewmod
from ..core import sources
from ..core.findings import Finding, site_findings
from ..core.model import REVIEW_STATUSES, SERIOUS_STATUSES, Diagnostic
from ..core.project import ConfigError as ConfigError  # re-exported: the CLI and callers catch it here
from ..core.project import Project as Project
from ..core.project import extension_options
from ..csl.formatter import Formatter, StyleError

#: Statuses ``--fail-on`` accepts. ``unreviewed`` never fails: most references start there.
FAILABLE_STATUSES: tuple[str, ...] = tuple(s for s in REVIEW_STATUSES if s in SERIOUS_STATUSES)


@dataclass
class CheckResult:
    diagnostics: list[Diagnostic] = field(default_factory=list)

    def count(self, level: str) -> int:
        return sum(1 for d in self.diagnostics if d.level == level)

    @property
    def failed(self) -> bool:
        return self.count("error") > 0


def run_check(project: Project, *, fail_on: Iterable[str] = (), changed: Iterable[str] | None = None,
              today: _dt.date | None = None, lines: dict[str, set[int]] | None = None) -> CheckResult:
    """All diagnostics, sorted by file and position. Content problems never raise.

    ``lines`` (changed line numbers per displayed file, from ``git diff``): keep only what
    the change touches (:func:`citereview.cli.diffscope.touched`); errors always stay.
    """
    fail_on = set(fail_on)
    only = project.changed_pages(changed)
    bib_display = project.display(project.bibliography)
    options = extension_options(project.config)
    bib = bibmod.load(bib_display if not Path(bib_display).is_absolute() else project.bibliography,
                      evidence=bool(options.get("evidence", False)))
    if not project.docs_dir.is_dir():
        out = [f.diagnostic() for f in site_findings(bib, [], bib_display=bib_display,
                                                     page_display=project.page_display)]
        out.append(Diagnostic(project.display(project.config_path), 1,
                              f"docs_dir '{project.docs_dir}' does not exist", code="config"))
        return CheckResult(out)
    pages = sources.read_site(project.docs_dir)
    book = reviewmod.load(project.reviews, project.display(project.reviews))
    policy = project.fact_policy(today)
    findings = site_findings(bib, pages, bib_display=bib_display, page_display=project.page_display,
                             today=policy.today, fact_max_age=policy.max_age, changed=only,
                             bibliography_changed=project.bibliography_changed(changed), book=book)
    if lines is not None:
        from .diffscope import touched

        findings = [f for f in findings if touched(_gate(f, fail_on), lines)]
    out = [_gate(f, fail_on).diagnostic() for f in findings]
    out += _formatting_problems(bib, str(options.get("style") or "american-medical-association"), bib_display)
    return CheckResult(out)


def _gate(f: Finding, fail_on: set[str]) -> Finding:
    """``--fail-on STATUS``: citations of references with that status become errors."""
    if f.code != "cite" or f.status not in fail_on:
        return f
    return replace(f, level="error", message=f"cites '{f.key}', which is {f.status} (--fail-on {f.status})")


def _formatting_problems(bib: bibmod.Bibliography, style: str, display: str) -> list[Diagnostic]:
    """The build formats every cited reference with the CSL style; so does the checker, so
    that an entry citeproc-py cannot format fails both."""
    try:
        formatter = Formatter.for_style(style)
        formatter.style  # noqa: B018 - load it now, to report a bad style once
    except StyleError as exc:
        return [Diagnostic(display, 1, str(exc), code="style")]
    out = []
    for ref in bib.references.values():
        problem = formatter.format_checked(ref, bib.digest, display)[1]
        if problem is not None:
            out.append(problem)
    return out


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
