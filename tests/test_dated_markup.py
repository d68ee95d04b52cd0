"""Issue #17, the Markdown side: dated facts, citation by DOI/PMID, in-text citations.

The rules (core), what ``citereview check`` reports for them, and what the review queue and
the References page make of them, on small real projects in a temporary folder. Rendering
is covered by the golden files (``fixtures/citations/facts*.md``, ``identifiers*.md``,
``narrative*.md``); build-versus-check agreement by ``test_build_errors.py``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from citereview.cli.check import ConfigError, Project, run_check
from citereview.cli.commands import main
from citereview.core import facts
from citereview.core.bibliography import parse_bibliography
from citereview.core.facts import DatedFact, FactPolicy, add_months, parse_fact
from citereview.core.model import narrative_name
from citereview.core.queue import outline, project_queue
from citereview.core.syntax import find_groups, identifier, scan_source

TODAY = dt.date(2026, 12, 3)

BIB = """\
references:
  - id: zarate2006
    type: article-journal
    author: [{family: Zarate, given: C.}, {family: Singh, given: J.}, {family: Du, given: J.}]
    title: A trial
    issued: 2006
    DOI: 10.1001/Archpsyc.63.8.856
    PMID: "16894061"
  - id: byid2000
    type: article-journal
    author: [{family: Berman, given: R.}]
    title: Cited only by identifier
    issued: 2000
    DOI: 10.5555/S0006-3223(99)00230-9
"""


def make(tmp_path: Path, pages: dict[str, str], options: str = "") -> Project:
    (tmp_path / "docs").mkdir()
    (tmp_path / "mkdocs.yml").write_text(
        "site_name: T\nmarkdown_extensions:\n  - citereview:\n      bibliography: docs/bibliography.yaml\n"
        + options)
    (tmp_path / "docs" / "bibliography.yaml").write_text(BIB)
    for name, text in pages.items():
        (tmp_path / "docs" / name).write_text(text)
    return Project.load(tmp_path / "mkdocs.yml")


def diagnostics(project: Project, **kwargs) -> list[str]:
    return [f"{Path(d.file).name}:{d.line}:{d.col}: {d.level}: {d.code}: {d.message}"
            for d in run_check(project, **kwargs).diagnostics
            if d.code not in ("cite-unreviewed", "page-unreviewed", "unused")]


# -- dated facts: the rule ----------------------------------------------------------------
@pytest.mark.parametrize(("body", "expected"), [
    ("2026-11-24", DatedFact(dt.date(2026, 11, 24))),
    ("2026-11", DatedFact(dt.date(2026, 11, 1), as_of_month=True)),
    ("2026-11-24, until 2026-12-31", DatedFact(dt.date(2026, 11, 24), until=dt.date(2026, 12, 31))),
    ("2026-11 ,until 2026-12", DatedFact(dt.date(2026, 11, 1), True, dt.date(2026, 12, 31), True)),
    ("2024-02, UNTIL 2024-02", DatedFact(dt.date(2024, 2, 1), True, dt.date(2024, 2, 29), True)),
])
def test_parse_fact(body: str, expected: DatedFact) -> None:
    assert parse_fact(body) == expected


@pytest.mark.parametrize(("body", "reason"), [
    ("2026-13-01", "no month 13"),
    ("2026-00", "no month 00"),
    ("2026-02-30", "not a day of February 2026"),
    ("2026", "is not a date"),
    ("2026-11-24, until 2026-11-01", "before the 'as of' date"),
    ("2026-11-24, till 2026-12-31", "expected 'until'"),
    ("2026-11-24 until 2026-12-31", "is not a date"),
])
def test_malformed_fact(body: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_fact(body)


def test_fact_state_boundaries() -> None:
    fact = parse_fact("2025-12-03, until 2026-12-31")
    assert fact.state(FactPolicy(dt.date(2026, 12, 3))) == "current"  # exactly 12 months
    assert fact.state(FactPolicy(dt.date(2026, 12, 4))) == "overage"
    assert fact.state(FactPolicy(dt.date(2026, 12, 4), max_age=0)) == "current"  # age flag off
    assert fact.state(FactPolicy(dt.date(2027, 1, 1), max_age=0)) == "expired"
    assert parse_fact("2026-11, until 2026-12").state(FactPolicy(dt.date(2026, 12, 31))) == "current"
    assert parse_fact("2026-11, until 2026-12").state(FactPolicy(dt.date(2027, 1, 1))) == "expired"
    assert add_months(dt.date(2026, 1, 31), 1) == dt.date(2026, 2, 28)


def test_fact_descriptions() -> None:
    fact = parse_fact("2026-11-24, until 2026-12-31")
    assert fact.describe("current", 12) == ("This statement was last checked on 24 November 2026; "
                                            "it may change after 31 December 2026.")
    assert fact.describe("expired", 12).endswith("expected to change after 31 December 2026, so it may be out of date.")
    assert parse_fact("2026-11").describe("overage", 1) == (
        "This statement was last checked in November 2026, more than 1 month ago, so it may be out of date.")


def test_today_option_then_environment_then_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CITEREVIEW_TODAY", "2030-01-02")
    assert facts.today("2029-05-06") == dt.date(2029, 5, 6)
    assert facts.today() == dt.date(2030, 1, 2)
    monkeypatch.setenv("CITEREVIEW_TODAY", "soon")
    with pytest.raises(ValueError, match="CITEREVIEW_TODAY 'soon' is not a date"):
        facts.today()
    monkeypatch.delenv("CITEREVIEW_TODAY")
    assert facts.today() == dt.datetime.now(dt.UTC).date()


# -- dated facts: check and queue -----------------------------------------------------------
PAGE = """\
# Rules

The flexibilities run to the end of the year [as of 2026-11-24, until 2026-11-30].
The label was checked long ago [as of 2025-06].
A current fact [as of 2026-11-01]. In code `[as of 2020-01-01]` and escaped \\[as of 2020-01-01].
"""


def test_check_reports_expired_and_overage_facts_as_warnings(tmp_path: Path) -> None:
    project = make(tmp_path, {"rules.md": PAGE})
    got = diagnostics(project, today=TODAY)
    assert got == [
        "rules.md:3:46: warning: fact-expired: dated fact expired: [as of 2026-11-24, until 2026-11-30] "
        "ended on 30 November 2026",
        "rules.md:4:32: warning: fact-overage: dated fact older than 12 months: [as of 2025-06] "
        "(checked June 2025); re-check it against a source",
    ]
    assert not run_check(project, today=TODAY).failed


def test_check_reads_today_and_max_age_options_and_environment(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    project = make(tmp_path, {"rules.md": PAGE}, "      fact_max_age: 24\n      today: 2026-11-25\n")
    assert diagnostics(project) == []  # neither expired on 25 November nor older than 24 months
    monkeypatch.setenv("CITEREVIEW_TODAY", "2027-07-01")
    (tmp_path / "mkdocs.yml").write_text((tmp_path / "mkdocs.yml").read_text().replace(
        "      today: 2026-11-25\n", ""))
    got = diagnostics(Project.load(tmp_path / "mkdocs.yml"))
    assert [g.split(": ")[2] for g in got] == ["fact-expired", "fact-overage"]


def test_malformed_marker_is_an_error_at_its_position(tmp_path: Path) -> None:
    project = make(tmp_path, {"rules.md": "# R\n\nBad [as of 2026-13-01] date.\n"})
    assert diagnostics(project, today=TODAY) == [
        "rules.md:3:5: error: fact-malformed: malformed dated-fact marker '[as of 2026-13-01]': '2026-13-01' "
        "has no month 13 (months are 01-12); write [as of YYYY-MM-DD] or [as of YYYY-MM-DD, until "
        "YYYY-MM-DD] (YYYY-MM allowed)"]
    assert run_check(project, today=TODAY).failed


@pytest.mark.parametrize("value", ["-1", "twelve", "1.5", "true"])
def test_bad_max_age_is_a_usage_error(tmp_path: Path, value: str, capsys: pytest.CaptureFixture[str]) -> None:
    project = make(tmp_path, {"rules.md": PAGE}, f"      fact_max_age: {value}\n")
    with pytest.raises(ConfigError, match="fact_max_age must be a whole number of months"):
        run_check(project)
    assert main(["check", "-f", str(tmp_path / "mkdocs.yml")]) == 2
    assert "fact_max_age" in capsys.readouterr().err


def test_queue_lists_stale_facts_with_their_sentence(tmp_path: Path) -> None:
    project = make(tmp_path, {"rules.md": PAGE})
    q = project_queue(project, today=TODAY)
    counts = {code: n for code, _, n in q.counts()}
    assert (counts["fact-expired"], counts["fact-overage"]) == (1, 1)
    entries = [e for section in outline(q) if section.id == "queue-by-page"
               for group in section.groups for e in group.entries]
    assert [(e.label, e.target, e.quote, e.where.split("/")[-1]) for e in entries] == [
        ("Dated fact past its end date (until 30 November 2026)", "rules.md#fact-1",
         "The flexibilities run to the end of the year.", "rules.md:3:46"),
        ("Dated fact older than the maximum age (checked June 2025)", "rules.md#fact-2",
         "The label was checked long ago.", "rules.md:4:32"),
    ]


# -- citation by identifier ---------------------------------------------------------------------
def test_identifier_keys() -> None:
    assert identifier("doi:10.1016/S0006-3223(99)00230-9") == ("doi", "10.1016/s0006-3223(99)00230-9")
    assert identifier("DOI:10.1234/X") == ("doi", "10.1234/x")
    assert identifier("doi:10.1/x") is None  # a DOI's registrant code has 4 to 9 digits
    assert identifier("pmid:10686270") == ("pmid", "10686270")
    assert identifier("pmid:0123") is None and identifier("zarate2006") is None


@pytest.mark.parametrize(("text", "keys"), [
    ("[@doi:10.1016/S0006-3223(99)00230-9]", ["doi:10.1016/S0006-3223(99)00230-9"]),
    ("[@doi:10.1016/S0006-3223(99)00230-9, p. 3; @pmid:10686270]",
     ["doi:10.1016/S0006-3223(99)00230-9", "pmid:10686270"]),
    ("[@doi:10.1002/(SICI)1097-4636(199706)35:4<401::AID>3.0.CO;2-N;@b]",
     ["doi:10.1002/(SICI)1097-4636(199706)35:4<401::AID>3.0.CO;2-N", "b"]),
    ("[@doi:10.1002/x;2-N; @b]", ["doi:10.1002/x;2-N", "b"]),
    ("(see @doi:10.1234/abc(1)2).", ["doi:10.1234/abc(1)2"]),
    ("@doi:10.1234/abc, then", ["doi:10.1234/abc"]),
])
def test_identifier_citations_parse(text: str, keys: list[str]) -> None:
    assert [item.key for _, g in find_groups(text, False) for item in g.items] == keys


def test_identifiers_resolve_case_insensitively() -> None:
    bib = parse_bibliography(BIB)
    assert bib.resolve("doi:10.1001/ARCHPSYC.63.8.856") == "zarate2006"
    assert bib.resolve("pmid:16894061") == "zarate2006"
    assert bib.get("DOI:10.5555/s0006-3223(99)00230-9").id == "byid2000"
    assert bib.resolve("pmid:1") is None and bib.get("doi:10.1/none") is None


def test_citation_by_identifier_counts_as_citation_of_the_entry(tmp_path: Path) -> None:
    # byid2000 is cited only by DOI: it is not unused, and the queue lists it under its key.
    project = make(tmp_path, {"a.md": "# A\n\nClaim [@doi:10.5555/S0006-3223(99)00230-9] and [@zarate2006].\n"})
    got = [d for d in run_check(project, today=TODAY).diagnostics if d.code in ("unused", "unknown-key")]
    assert got == []
    q = project_queue(project, today=TODAY)
    assert sorted(i.key for i in q.of("cite")) == ["byid2000", "zarate2006"]


def test_unknown_identifier_prints_the_import_command(tmp_path: Path) -> None:
    project = make(tmp_path, {"a.md": "# A\n\nX [@doi:10.1000/a(1)b] and [@pmid:99999999] and [@zarate2006].\n"})
    assert [line for line in diagnostics(project, today=TODAY) if "error" in line] == [
        "a.md:3:3: error: unknown-key: no reference with DOI 10.1000/a(1)b in the bibliography; add it with: "
        "python -m citereview import --doi '10.1000/a(1)b'",
        "a.md:3:28: error: unknown-key: no reference with PMID 99999999 in the bibliography; add it with: "
        "python -m citereview import --pmid 99999999",
    ]


# -- in-text citations ------------------------------------------------------------------------
@pytest.mark.parametrize(("text", "expected"), [
    ("@zarate2006 found", [("zarate2006", "")]),
    ("@zarate2006 [p. 33] found", [("zarate2006", "p. 33")]),
    ("as @zarate2006's trial showed", [("zarate2006", "")]),
    ("(@zarate2006) and \u201c@zarate2006\u201d", [("zarate2006", ""), ("zarate2006", "")]),
    ("@zarate2006 [as of 2026-11-24]", [("zarate2006", "")]),
    ("name@example.org", []),
    ("https://social.example/@zarate2006", []),
    ("\\@zarate2006", []),
    ("`@zarate2006`", []),
    ("```\n@property\n```", []),
    ("@ home", []),
    ("[link @zarate2006](https://x.org)", [("zarate2006", "")]),
])
def test_narrative_citations_parse(text: str, expected: list[tuple[str, str]]) -> None:
    got = [(g.items[0].key, g.items[0].suffix) for _, g in find_groups(text, False) if g.narrative]
    assert got == expected


def test_narrative_sentence_keeps_the_citation() -> None:
    occ = list(scan_source("A claim. @zarate2006 found an effect [@byid2000].\n"))
    assert [o.sentence for o in occ] == ["@zarate2006 found an effect.", "@zarate2006 found an effect."]


@pytest.mark.parametrize(("names", "expected"), [
    ([{"family": "Zarate"}], "Zarate"),
    ([{"family": "Zarate"}, {"family": "Singh"}], "Zarate and Singh"),
    ([{"family": "Zarate"}, {"family": "Singh"}, {"family": "Du"}], "Zarate et al"),
    ([{"literal": "US Food and Drug Administration"}], "US Food and Drug Administration"),
])
def test_narrative_name_ama(names: list[dict[str, str]], expected: str) -> None:
    assert narrative_name({"author": names}) == expected


def test_narrative_name_without_author_uses_title() -> None:
    assert narrative_name({"title": "Spravato label"}) == "Spravato label"
    assert narrative_name({"editor": [{"family": "Ed"}], "title": "T"}) == "Ed"


def test_unknown_narrative_key_is_an_error(tmp_path: Path) -> None:
    project = make(tmp_path, {"a.md": "# A\n\nAs @zarate2060 found.\n"})
    assert [line for line in diagnostics(project, today=TODAY) if "error" in line] == [
        "a.md:3:4: error: unknown-key: unknown citation key 'zarate2060'; did you mean zarate2006?"]


def test_the_inline_pattern_is_offered_only_to_documents_with_a_marker(tmp_path: Path) -> None:
    """Python-Markdown tries every inline pattern on every run of text: a page without
    ``[as of`` does not pay for ours. One ``Markdown`` reused for several documents (as
    Zensical and plain Python-Markdown do) still renders the markers of each."""
    import markdown

    from citereview.mdext.facts import INLINE_NAME

    (tmp_path / "bibliography.yaml").write_text(BIB)
    md = markdown.Markdown(extensions=["citereview"], extension_configs={"citereview": {
        "bibliography": str(tmp_path / "bibliography.yaml"), "docs_dir": str(tmp_path),
        "today": "2026-12-03"}})
    with_marker = "Approved in the US [as of 2026-11-24]."
    outputs, offered = [], []
    for text in (with_marker, "No dated fact here, only [a bracket].", with_marker.replace("[as", "[AS")):
        md.reset()
        outputs.append(md.convert(text))
        offered.append(INLINE_NAME in md.inlinePatterns)
    assert offered == [True, False, True]
    assert 'data-cr-fact="current"' in outputs[0] and "[as of" not in outputs[0]
    assert "data-cr-fact" not in outputs[1] and "[a bracket]" in outputs[1]
    assert 'data-cr-fact="current"' in outputs[2]


def test_a_label_in_a_heading_stays_out_of_its_anchor_toc_entry_and_the_page_title(tmp_path: Path) -> None:
    """Like a citation in a heading: the label is shown in the heading, but the anchor
    (which must not change when the date is updated), the TOC entry and the page title
    (MkDocs' own and the one ``citereview`` lists pages by) are the heading's words."""
    import xml.etree.ElementTree as etree

    import markdown
    from mkdocs.utils.rendering import get_heading_text

    from citereview.core.syntax import page_title

    (tmp_path / "bibliography.yaml").write_text(BIB)
    source = ("# Legal status [as of 2026-05-01]\n\n## In *Example* [as of 2025-01] today\n\n"
              "Text [as of 2026-11].\n")
    md = markdown.Markdown(extensions=["toc", "citereview"], extension_configs={"citereview": {
        "bibliography": str(tmp_path / "bibliography.yaml"), "docs_dir": str(tmp_path),
        "today": "2026-12-03"}})
    html = md.convert(source)
    toc = md.toc_tokens[0]
    assert (toc["id"], toc["name"]) == ("legal-status", "Legal status")
    assert [(c["id"], c["name"]) for c in toc["children"]] == [("in-example-today", "In Example today")]
    root = etree.fromstring(f"<div>{html}</div>")
    h1 = root.find("h1")
    assert h1 is not None and get_heading_text(h1, md) == "Legal status"
    assert page_title(source, "fallback") == "Legal status"
    # The labels are still shown, in order, with the ids the review queue links to.
    assert [e.get("id") for e in root.iter("span") if e.get("data-cr-fact")] == ["fact-1", "fact-2", "fact-3"]
    assert "as of January 2025 · may be out of date" in "".join(root.find("h2").itertext())
    assert root.find("p/sup") is None  # in running text a label needs no wrapper
