"""Bibliography validation: every problem is one clear diagnostic naming file and line."""

from __future__ import annotations

import pytest

from citereview.core.bibliography import load, parse_bibliography

GOOD = """\
references:
  - id: a1
    type: article-journal
    title: A title
    evidence: randomised-trial
    DOI: 10.1001/x.1
    PMID: "123"
"""


def messages(text: str) -> list[str]:
    """Diagnostics as a site that requires evidence kinds (``evidence: true``) sees them."""
    return [str(d) for d in parse_bibliography(text, "bib.yaml", evidence=True).diagnostics]


def test_valid_file_has_no_diagnostics() -> None:
    bib = parse_bibliography(GOOD, "bib.yaml")
    assert bib.diagnostics == []
    ref = bib.get("a1")
    assert ref is not None and ref.review.status == "unreviewed" and ref.line == 2


def test_bare_list_as_in_csl_json() -> None:
    bib = parse_bibliography('[{"id": "x", "type": "book", "title": "T", "evidence": "other"}]')
    assert "x" in bib and bib.diagnostics == []


@pytest.mark.parametrize(("text", "expected"), [
    ("references: [\n  - id: x\n", "bib.yaml:2:1: error: malformed YAML"),
    ("", "bib.yaml:1:1: error: bibliography is empty"),
    ("refs: []\n", "bib.yaml:1:1: error: expected a top-level 'references:' list"),
    ("references: 3\n", "bib.yaml:1:1: error: 'references' must be a list"),
    ("references:\n  - just text\n", "bib.yaml:2:1: error: each reference must be a mapping"),
    ("references:\n  - id: x\n    type: book\n", "bib.yaml:2:1: error: reference 'x' is missing required field(s): title, evidence"),
    (GOOD + "  - id: a1\n    type: book\n    title: T\n    evidence: other\n",
     "bib.yaml:8:1: error: duplicate id 'a1' (first defined on line 2)"),
    (GOOD.replace("randomised-trial", "rat study"), "bib.yaml:5:1: error: reference 'a1': unknown evidence kind 'rat study'"),
    (GOOD + "    review: {status: maybe}\n", "bib.yaml:8:1: error: reference 'a1': unknown review status 'maybe'"),
    (GOOD.replace("10.1001/x.1", "https://doi.org/10.1001/x.1"), "bib.yaml:6:1: error: reference 'a1': invalid DOI"),
    (GOOD.replace('"123"', "PMC123"), "bib.yaml:7:1: error: reference 'a1': invalid PMID 'PMC123'"),
    (GOOD.replace("article-journal", "journal"), "bib.yaml:3:1: error: reference 'a1': unknown CSL type 'journal'"),
    (GOOD + "    review: {status: verified}\n", "bib.yaml:8:1: error: reference 'a1': 'status: verified' on a reference no longer records a review"),
    (GOOD + "    review: {date: 2026-13-01}\n", "review date '2026-13-01' is not a date"),
    (GOOD + "    review: {status: unreviewed, verdict: ok}\n", "unknown review field(s): verdict"),
    (GOOD.replace("id: a1", "id: 'a b'"), "bib.yaml:2:1: error: reference 'a b': id is not a valid citation key"),
])
def test_each_problem_is_reported_with_its_line(text: str, expected: str) -> None:
    found = messages(text)
    assert any(expected in m for m in found), found


def test_verified_without_reviewer_is_not_trusted() -> None:
    bib = parse_bibliography(GOOD + "    review: {status: verified}\n")
    assert bib.references["a1"].review.status == "unreviewed"


def test_load_caches_by_content_and_reports_missing_file(tmp_path) -> None:
    path = tmp_path / "bib.yaml"
    path.write_text(GOOD)
    first = load(path)
    assert load(path) is first
    path.write_text(GOOD.replace("A title", "Another title"))
    second = load(path)
    assert second is not first and second.references["a1"].title == "Another title"
    missing = load(tmp_path / "nope.yaml")
    assert not missing.loaded and "cannot read bibliography" in str(missing.diagnostics[0])


def _many(count: int) -> str:
    return "references:\n" + "".join(
        f"  - id: r{i}\n    type: article-journal\n    title: Title {i}\n    evidence: other\n"
        f"    author: [{{family: A{i}, given: B}}, {{family: C{i}, given: D}}]\n"
        f"    issued: {{date-parts: [[2020, 1, 2]]}}\n    review: {{status: unreviewed}}\n"
        for i in range(count))


@pytest.mark.parametrize("collector_on", [True, False])
def test_load_holds_off_the_garbage_collector_and_restores_it(tmp_path, collector_on: bool) -> None:
    """Parsing a large bibliography runs no collection (each would find nothing; without
    the pause, 400 entries set off about a hundred), and the collector is left as it was
    found, also when the file is malformed."""
    import gc

    runs: list[int] = []

    def count(phase: str, info: dict) -> None:
        if phase == "start":
            runs.append(info["generation"])

    good, bad = tmp_path / "good.yaml", tmp_path / "bad.yaml"
    good.write_text(_many(400))
    bad.write_text(_many(50) + "  - [unclosed\n")
    was = gc.isenabled()
    (gc.enable if collector_on else gc.disable)()
    gc.callbacks.append(count)
    try:
        assert len(load(good)) == 400
        # At most the one the collector owes once it is back on, at the next allocation.
        assert len(runs) <= 1
        assert gc.isenabled() is collector_on
        assert not load(bad).loaded
        assert gc.isenabled() is collector_on
    finally:
        gc.callbacks.remove(count)
        (gc.enable if was else gc.disable)()


def test_duplicate_keys_are_errors_at_the_second_line() -> None:
    """Two ``title:`` lines (or two ``status:`` in the review) are not silently last-wins."""
    text = GOOD.replace("    title: A title\n", "    title: A title\n    title: B title\n") + (
        "    review: {status: unreviewed, status: disputed}\n")
    found = messages(text)
    assert "bib.yaml:5:1: error: reference 'a1': duplicate key 'title' (first on line 4); " \
        "YAML would silently keep only the last value: remove one" in found
    assert any(m.startswith("bib.yaml:9:1: error: reference 'a1': duplicate key 'status' (first on line 9)")
               for m in found)
    assert any(m.startswith("bib.yaml:10:1: error: duplicate key 'references' (first on line 1)")
               for m in messages(text + "references: []\n"))


ENTRY = """\
- id: {key}
  type: article-journal
  title: {title}
  issued: {issued}
  evidence: randomised-trial
"""


def _entries(*keys: str, indent: str = "", title: str = "A title", issued: str = "2001") -> str:
    return "".join("".join(indent + line + "\n" for line in ENTRY.format(key=k, title=title, issued=issued)
                           .splitlines()) for k in keys)


@pytest.mark.parametrize(("text", "by_entry"), [
    ("# exported\nreferences:\n" + _entries("a1", "b2", "c3"), True),
    ("references:\n" + _entries("a1", "b2", indent="  "), True),
    (_entries("a1", "b2"), True),  # a bare list
    ("references:\n" + _entries("a1") + "# a comment between entries\n\n" + _entries("b2"), True),
    ("references:\n" + _entries("a1", "a1", "b2"), True),  # duplicate id: reported with both lines
    ("references:\n" + _entries("a1") + _entries("b2").replace("  type:", "  type: book\n  type:"), True),
    ("references:\n" + _entries("a1", "b2", issued="2001-13-40"), True),  # invalid dates, per line
    ("references:\n" + _entries("a1", title="'A title\n- that goes on'") + _entries("b2"), False),
    ("references:\n- id: a1\n  type: book\n  title: &t A title\n  evidence: other\n"
     "- id: b2\n  type: book\n  title: *t\n  evidence: other\n", False),  # an alias across entries
    ("references:\n" + _entries("a1") + "  title: [unclosed\n" + _entries("b2"), False),  # malformed YAML
    ("references:\n" + _entries("a1") + "other: key\n", False),
    ("title: refs\nreferences:\n" + _entries("a1"), False),
    ('[{"id": "x", "type": "book", "title": "T", "evidence": "other"}]', False),
])
def test_reading_entry_by_entry_gives_what_reading_whole_gives(text: str, by_entry: bool) -> None:
    """Big files are composed entry by entry (a fraction of the memory); the result and
    every reported line must be those of reading the file whole, and shapes the split
    cannot be sure of are read whole."""
    from citereview.core import bibliography

    assert (bibliography._parse_by_entry(text, "bib.yaml", True) is not None) is by_entry
    split, whole = parse_bibliography(text, "bib.yaml", evidence=True), bibliography._parse_whole(
        text, "bib.yaml", True)
    assert split.references == whole.references
    assert split.diagnostics == whole.diagnostics and split.loaded == whole.loaded
