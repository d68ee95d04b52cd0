"""``citereview check`` as a library: the diagnostics for the fixture projects, exactly.

The fixture projects live in ``tests/fixtures/checker/``; the tests run from the repository
root (as CI does), so reported paths are repository-relative.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from citereview.cli.check import ConfigError, Project, format_result, github_annotation, run_check
from citereview.core.model import Diagnostic

from .conftest import ROOT

FIX = ROOT / "tests" / "fixtures" / "checker"
OK = "tests/fixtures/checker/ok"
BAD = "tests/fixtures/checker/bad"
TODAY = dt.date(2026, 11, 24)


@pytest.fixture(autouse=True)
def _at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


def lines(project: str, **kwargs) -> list[str]:
    result = run_check(Project.load(f"{project}/mkdocs.yml"), today=TODAY, **kwargs)
    return [str(d) for d in result.diagnostics]


def test_ok_project_has_only_warnings_and_notices() -> None:
    # The same findings the review queue lists: a reference without identifier, a page never
    # reviewed, flagged citations; only errors fail.
    assert lines(OK) == [
        f"{OK}/docs/bibliography.yaml:28:1: notice: reference 'noident2018' has no DOI, PMID or URL",
        f"{OK}/docs/bibliography.yaml:34:1: warning: reference 'spare2017' is not cited on any page",
        f"{OK}/docs/draft.md:1:1: notice: page never reviewed",
        f"{OK}/docs/draft.md:8:18: notice: claim citing 'pending2021' not yet reviewed",
        f"{OK}/docs/index.md:11:51: notice: claim citing 'pending2021' not yet reviewed",
        f"{OK}/docs/topic.md:6:1: notice: page review overdue since 2021-01-15",
        f"{OK}/docs/topic.md:12:29: notice: cites 'argued2019', which is disputed: Does not report the figure quoted.",
        f"{OK}/docs/topic.md:12:29: notice: claim citing 'pending2021' not yet reviewed",
        f"{OK}/docs/topic.md:14:26: notice: statement marked [citation needed]",
        f"{OK}/docs/topic.md:16:16: notice: claim citing 'noident2018' not yet reviewed",
        f"{OK}/docs/topic.md:16:56: notice: statement marked [citation needed]",
    ]
    assert not run_check(Project.load(f"{OK}/mkdocs.yml"), today=TODAY).failed


def test_bad_project_reports_every_error_with_position() -> None:
    got = lines(BAD)
    errors = [g for g in got if ": error: " in g]
    assert errors == [
        f"{BAD}/docs/bibliography.yaml:18:1: error: reference 'weird2020': unknown review status 'maybe' "
        "(expected one of: unreviewed, disputed, retracted, outdated)",
        f"{BAD}/docs/broken.md:3:15: error: malformed front matter: expected ',' or ']', but got '<stream end>'",
        f"{BAD}/docs/dates.md:3:1: error: 'authors' must be a list of names, e.g. 'authors: [Jane Doe]'",
        f"{BAD}/docs/dates.md:6:1: error: 'next_review' (2025-01-01) is before 'last_reviewed' (2025-06-01)",
        f"{BAD}/docs/dates.md:7:1: error: 'review_interval' is not an interval: 'sometimes' "
        "(write e.g. '12 months', '26 weeks' or '180 days')",
        f"{BAD}/docs/page.md:3:1: error: 'reviewed_by' is set but 'last_reviewed' is missing: "
        "add the date of the review",
        f"{BAD}/docs/page.md:4:1: error: unknown review key 'last_reveiwed'; did you mean 'last_reviewed'?",
        f"{BAD}/docs/page.md:5:1: error: cannot read 'next_review': month must be in 1..12",
        f"{BAD}/docs/page.md:10:17: error: unknown citation key 'zanos2018ketamin'; did you mean zanos2018ketamine?",
    ]
    assert f"{BAD}/docs/page.md:12:25: notice: cites 'gone2015', which is retracted: Retracted in 2016." in got


def test_fail_on_turns_those_citations_into_errors() -> None:
    got = lines(OK, fail_on=["disputed", "retracted"])
    assert f"{OK}/docs/topic.md:12:29: error: cites 'argued2019', which is disputed (--fail-on disputed)" in got
    assert not any(": error: " in g and "pending2021" in g for g in got)  # unreviewed never fails
    assert run_check(Project.load(f"{OK}/mkdocs.yml"), fail_on=["disputed"], today=TODAY).failed
    assert not run_check(Project.load(f"{OK}/mkdocs.yml"), fail_on=["retracted"], today=TODAY).failed


def test_changed_limits_page_diagnostics() -> None:
    got = lines(OK, changed=[f"{OK}/docs/index.md", "README.md"])
    assert got == [f"{OK}/docs/index.md:11:51: notice: claim citing 'pending2021' not yet reviewed"]
    # Absolute paths work too, and the bibliography's own warnings come back when it changed.
    got = lines(OK, changed=[str(FIX / "ok" / "docs" / "bibliography.yaml")])
    assert got == [f"{OK}/docs/bibliography.yaml:28:1: notice: reference 'noident2018' has no DOI, PMID or URL",
                   f"{OK}/docs/bibliography.yaml:34:1: warning: reference 'spare2017' is not cited on any page"]


def test_changed_still_reports_bibliography_errors() -> None:
    got = lines(BAD, changed=[f"{BAD}/docs/dates.md"])
    assert got[0].startswith(f"{BAD}/docs/bibliography.yaml:18:1: error: reference 'weird2020'")
    assert all(g.startswith((f"{BAD}/docs/dates.md", f"{BAD}/docs/bibliography.yaml")) for g in got)


def test_paths_outside_the_working_directory_are_absolute(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    result = run_check(Project.load(FIX / "ok" / "mkdocs.yml"), today=TODAY)
    assert result.diagnostics[0].file == (FIX / "ok" / "docs" / "bibliography.yaml").as_posix()


def test_missing_config_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read config"):
        Project.load(tmp_path / "mkdocs.yml")
    (tmp_path / "mkdocs.yml").write_text("site_name: [unclosed\n")
    with pytest.raises(ConfigError, match=r"mkdocs.yml:2:1: malformed YAML"):
        Project.load(tmp_path / "mkdocs.yml")


def test_missing_bibliography_is_one_error_not_a_flood(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.md").write_text("# A\n\nText [@x] and [@y].\n")
    (tmp_path / "mkdocs.yml").write_text("site_name: x\n")
    monkeypatch.chdir(tmp_path)
    result = run_check(Project.load("mkdocs.yml"), today=TODAY)
    # One error; the page's notice (never reviewed) is no flood of unknown keys.
    assert [(d.file, d.level, d.code) for d in result.diagnostics if d.level != "notice"] == [
        ("docs/bibliography.yaml", "error", "bib-read")]
    assert not any(d.code == "unknown-key" for d in result.diagnostics)


def test_github_annotation_format_and_escaping() -> None:
    d = Diagnostic("docs/a,b.md", 3, "100% wrong\nsecond line", level="error", col=5, code="unknown-key")
    assert github_annotation(d) == (
        "::error file=docs/a%2Cb.md,line=3,col=5,title=citereview unknown-key::100%25 wrong%0Asecond line")
    assert github_annotation(Diagnostic("f.md", 1, "m", level="warning")) == "::warning file=f.md,line=1,col=1::m"
    assert github_annotation(Diagnostic("f.md", 1, "m", level="notice")).startswith("::notice ")
    assert github_annotation(Diagnostic("f.md", 1, "m", level="info")).startswith("::notice ")


def test_json_format_is_a_list_of_objects() -> None:
    result = run_check(Project.load(f"{OK}/mkdocs.yml"), today=TODAY)
    data = json.loads(format_result(result, "json"))
    assert data[1] == {"file": f"{OK}/docs/bibliography.yaml", "line": 34, "col": 1, "level": "warning",
                       "message": "reference 'spare2017' is not cited on any page", "code": "unused"}
    assert {d["level"] for d in data} == {"warning", "notice"}


def test_text_format_ends_with_a_summary() -> None:
    result = run_check(Project.load(f"{BAD}/mkdocs.yml"), today=TODAY)
    assert format_result(result).splitlines()[-1] == "citereview check: 9 error(s), 0 warning(s), 5 notice(s)"


def test_real_site_sources_have_valid_review_metadata() -> None:
    """The site's own pages: no front-matter errors (content errors elsewhere are other tests')."""
    result = run_check(Project.load(ROOT / "mkdocs.yml"))
    bad = [str(d) for d in result.diagnostics if d.code.startswith("front-matter") and d.level == "error"]
    assert bad == []
