"""Page review metadata: validation with file:line positions, and the dates pages show.

The template half builds a small real project with the site's own ``overrides/`` under
MkDocs (and Zensical), because the date arithmetic lives in Jinja there and must agree with
:func:`citereview.core.frontmatter.add_interval`.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from citereview.core.frontmatter import add_interval, parse_interval, read_front_matter, validate_front_matter

from .conftest import ROOT, build_site

TODAY = dt.date(2026, 11, 24)


def page(front: str, body: str = "# Title\n\nText.\n") -> str:
    return f"---\n{front}---\n\n{body}"


def diags(front: str) -> list[tuple[int, int, str, str]]:
    _, found = read_front_matter("docs/p.md", page(front), today=TODAY)
    return [(d.line, d.col, d.level, d.message) for d in found]


def test_valid_front_matter_has_no_diagnostics() -> None:
    front = ("title: T\nauthors: [A, B]\nreviewed_by: Rita\nlast_reviewed: 2026-01-02\n"
             "review_interval: 12 months\n")
    assert diags(front) == []
    review, _ = read_front_matter("docs/p.md", page(front), today=TODAY)
    assert review.authors == ("A", "B")
    assert review.reviewed_by == "Rita"
    assert review.last_reviewed == dt.date(2026, 1, 2)
    assert review.due == dt.date(2027, 1, 2)
    assert not review.overdue(TODAY)
    assert review.overdue(dt.date(2027, 1, 3))


def test_no_front_matter_is_fine() -> None:
    assert validate_front_matter("docs/p.md", "# Title\n\nText.\n") == []


def test_bad_date_names_file_and_line() -> None:
    found = validate_front_matter("docs/p.md", page("title: T\nreviewed_by: R\nlast_reviewed: 12/01/2025\n"))
    assert [str(d) for d in found] == [
        "docs/p.md:4:1: error: 'last_reviewed' is not a date: '12/01/2025' (write YYYY-MM-DD)",
    ]


def test_impossible_date_is_reported_not_raised() -> None:
    # PyYAML raises ValueError (not YAMLError) while constructing 2025-13-01.
    assert diags("reviewed_by: R\nlast_reviewed: 2025-13-01\n") == [
        (3, 1, "error", "cannot read 'last_reviewed': month must be in 1..12"),
    ]


def test_next_review_before_last_reviewed() -> None:
    assert diags("reviewed_by: R\nlast_reviewed: 2025-06-01\nnext_review: 2025-01-01\n") == [
        (4, 1, "error", "'next_review' (2025-01-01) is before 'last_reviewed' (2025-06-01)"),
    ]


def test_reviewed_by_without_last_reviewed() -> None:
    assert diags("title: T\nreviewed_by: Rita\n") == [
        (3, 1, "error", "'reviewed_by' is set but 'last_reviewed' is missing: add the date of the review"),
    ]


def test_last_reviewed_without_reviewer_is_a_warning() -> None:
    assert diags("last_reviewed: 2025-06-01\n") == [
        (2, 1, "warning", "'last_reviewed' is set but 'reviewed_by' is missing: name the reviewer"),
    ]


def test_unknown_review_keys_suggest_the_right_one() -> None:
    found = diags("title: T\nlast_reveiwed: 2025-01-01\nreview_date: 2025-01-01\nauthor: [A]\ntags: [x]\n")
    assert found == [
        (3, 1, "error", "unknown review key 'last_reveiwed'; did you mean 'last_reviewed'?"),
        (4, 1, "error", "unknown review key 'review_date' (review keys: authors, reviewed_by, "
                        "last_reviewed, next_review, review_interval)"),
        (5, 1, "error", "unknown review key 'author'; did you mean 'authors'?"),
    ]


def test_malformed_yaml_points_at_the_problem() -> None:
    found = validate_front_matter("docs/p.md", page("title: T\nauthors: [a, b\n"))
    assert len(found) == 1
    assert found[0].level == "error"
    assert found[0].message.startswith("malformed front matter:")
    assert (found[0].file, found[0].line) == ("docs/p.md", 3)  # the unclosed list


def test_front_matter_that_is_not_a_mapping() -> None:
    assert diags("- just\n- a list\n") == [(2, 1, "error", "front matter must be a mapping of 'key: value' lines")]


def test_authors_must_be_a_list() -> None:
    assert diags("authors: Jane Doe\n") == [
        (2, 1, "error", "'authors' must be a list of names, e.g. 'authors: [Jane Doe]'"),
    ]


def test_interval_validation_and_conflict() -> None:
    assert diags("reviewed_by: R\nlast_reviewed: 2025-01-01\nreview_interval: soon\n") == [
        (4, 1, "error", "'review_interval' is not an interval: 'soon' "
                        "(write e.g. '12 months', '26 weeks' or '180 days')"),
    ]
    assert diags("reviewed_by: R\nlast_reviewed: 2025-01-01\nnext_review: 2026-01-01\n"
                 "review_interval: 6 months\n") == [
        (5, 1, "warning", "both 'next_review' and 'review_interval' are set; 'next_review' wins"),
    ]


def test_future_review_date_is_a_warning() -> None:
    assert diags("reviewed_by: R\nlast_reviewed: 2999-01-01\n") == [
        (3, 1, "warning", "'last_reviewed' (2999-01-01) is in the future"),
    ]


def test_timestamps_are_not_dates() -> None:
    assert diags("reviewed_by: R\nlast_reviewed: 2025-01-01 10:00:00\n")[0][3].startswith(
        "'last_reviewed' is not a date")


@pytest.mark.parametrize(("start", "interval", "due"), [
    ("2025-01-10", "6 months", "2025-07-10"),
    ("2025-01-31", "1 month", "2025-02-28"),
    ("2024-02-29", "1 year", "2025-02-28"),
    ("2024-02-29", "4 years", "2028-02-29"),
    ("2025-12-31", "100 days", "2026-04-10"),
    ("2025-12-31", "9 weeks", "2026-03-04"),
    ("2026-06-01", "180 Days", "2026-11-28"),
])
def test_add_interval(start: str, interval: str, due: str) -> None:
    assert add_interval(dt.date.fromisoformat(start), interval) == dt.date.fromisoformat(due)


@pytest.mark.parametrize("bad", ["", "soon", "0 days", "12", "months", "1.5 months", "-3 days"])
def test_parse_interval_rejects(bad: str) -> None:
    assert parse_interval(bad) is None


@given(st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2900, 1, 1)), st.integers(1, 5000))
def test_day_intervals_match_timedelta(start: dt.date, days: int) -> None:
    assert add_interval(start, f"{days} days") == start + dt.timedelta(days=days)


# -- the page-review partial, rendered by real engines ----------------------------------
PAGES = {
    # name: (front matter, expected text of the review line)
    "current.md": ("reviewed_by: Rita <R.>\nlast_reviewed: 2026-05-01\nnext_review: 2999-05-01\n",
                   "Last reviewed 2026-05-01 by Rita <R.> · Next review due 2999-05-01"),
    "months.md": ("reviewed_by: Ann\nlast_reviewed: 2020-01-31\nreview_interval: 1 month\n",
                  "Last reviewed 2020-01-31 by Ann · Review overdue since 2020-02-29"),
    "days.md": ("reviewed_by: Bob\nlast_reviewed: 2019-12-31\nreview_interval: 100 days\n",
                "Last reviewed 2019-12-31 by Bob · Review overdue since 2020-04-09"),
    "future.md": ("reviewed_by: Bob\nlast_reviewed: 2026-01-01\nreview_interval: 900 years\n",
                  "Last reviewed 2026-01-01 by Bob · Next review due 2926-01-01"),
    "never.md": ("authors: [A]\n", "Not yet reviewed"),
}


def _template_project(tmp_path: Path) -> Path:
    docs = tmp_path / "docs"
    docs.mkdir()
    for name, (front, _) in PAGES.items():
        (docs / name).write_text(page(f"title: {name}\n" + front))
    (docs / "index.md").write_text("# Home\n")
    # The extension is on, as on the site: under Zensical it supplies the build date.
    (docs / "bibliography.yaml").write_text("references:\n- {id: a, type: book, title: T, URL: 'https://a.org/'}\n")
    (tmp_path / "mkdocs.yml").write_text(
        "site_name: Template fixture\n"
        f"theme:\n  name: material\n  variant: classic\n  custom_dir: {ROOT / 'overrides'}\n"
        "markdown_extensions:\n  - citereview\nexclude_docs: bibliography.yaml\n"
    )
    return tmp_path


def _review_lines(site: Path) -> dict[str, tuple[str, str]]:
    found: dict[str, tuple[str, str]] = {}
    for name in PAGES:
        html = (site / Path(name).stem / "index.html").read_text(encoding="utf-8")
        matches = re.findall(r'<p class="(ke-page-review[^"]*)"[^>]*>(.*?)</p>', html, re.S)
        assert len(matches) == 1, name
        cls, inner = matches[0]
        text = re.sub(r"<[^>]+>", "", inner).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
        found[name] = (cls, " ".join(text.split()))
    return found


def test_page_review_partial_under_mkdocs(tmp_path: Path) -> None:
    project = _template_project(tmp_path)
    proc = build_site(project / "out", cwd=project)
    assert proc.returncode == 0, proc.stdout
    lines = _review_lines(project / "out")
    for name, (_, expected) in PAGES.items():
        assert lines[name][1] == expected, name
    assert "ke-page-review--overdue" in lines["months.md"][0]
    assert "ke-page-review--overdue" in lines["days.md"][0]
    assert "ke-page-review--overdue" not in lines["current.md"][0]
    assert "ke-page-review--unreviewed" in lines["never.md"][0]
    # The template's arithmetic agrees with the checker's.
    assert add_interval(dt.date(2019, 12, 31), "100 days") == dt.date(2020, 4, 9)
    assert add_interval(dt.date(2020, 1, 31), "1 month") == dt.date(2020, 2, 29)


@pytest.mark.engines
def test_page_review_partial_under_zensical(tmp_path: Path) -> None:
    """Zensical has no build_date_utc; the extension's citereview_build_date stands in, so
    every line, overdue ones included, reads as under MkDocs."""
    project = _template_project(tmp_path)
    proc = build_site(project / "site", engine="zensical", cwd=project)
    assert proc.returncode == 0, proc.stdout
    lines = _review_lines(project / "site")
    for name, (_, expected) in PAGES.items():
        assert lines[name][1] == expected, name
    assert "ke-page-review--overdue" in lines["months.md"][0]
    assert "ke-page-review--overdue" in lines["days.md"][0]
    assert "ke-page-review--overdue" not in lines["current.md"][0]


def test_duplicate_keys_are_errors_at_the_second_line() -> None:
    text = "---\nreviewed_by: Ann\nlast_reviewed: 2026-01-01\nreviewed_by: Bob\n---\n# T\n"
    diags = validate_front_matter("p.md", text)
    assert [str(d) for d in diags] == ["p.md:4:1: error: duplicate key 'reviewed_by' (first on line 2); "
                                       "YAML would silently keep only the last value: remove one"]
