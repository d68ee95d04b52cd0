"""Bad content fails ``mkdocs build --strict`` with file:line messages, never a traceback.

Each test builds a small real MkDocs project in a temporary folder with our extension and
hook, exactly as mkdocs.yml wires them, so the messages are the ones authors will see.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from .conftest import build_site

BIB = """\
references:
  - id: known2020
    type: article-journal
    author: [{family: Known, given: K.}]
    title: A known paper
    container-title: Journal
    issued: {date-parts: [[2020]]}
    evidence: randomised-trial
"""

CONFIG = """\
site_name: Mini
theme: {name: mkdocs}
plugins: [citereview]
markdown_extensions:
  - toc
  - citereview:
      bibliography: docs/bibliography.yaml
      docs_dir: docs
exclude_docs: bibliography.yaml
"""


def project(tmp_path: Path, pages: dict[str, str], bib: str = BIB) -> Path:
    (tmp_path / "docs").mkdir()
    (tmp_path / "mkdocs.yml").write_text(CONFIG)
    (tmp_path / "docs" / "bibliography.yaml").write_text(bib)
    for name, text in pages.items():
        (tmp_path / "docs" / name).write_text(text)
    return tmp_path


def build(tmp_path: Path) -> tuple[int, str]:
    proc = build_site(tmp_path / "site", cwd=tmp_path)
    assert "Traceback" not in proc.stdout, proc.stdout
    return proc.returncode, proc.stdout


def digest(folder: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(folder.rglob("*")):
        if p.is_file():
            h.update(p.relative_to(folder).as_posix().encode() + p.read_bytes())
    return h.hexdigest()


def test_clean_project_builds_and_sources_are_untouched(tmp_path: Path) -> None:
    root = project(tmp_path, {"index.md": "# Home\n\nA claim [@known2020].\n"})
    before = digest(root / "docs")
    code, out = build(root)
    assert code == 0, out
    assert "WARNING" not in out
    assert digest(root / "docs") == before
    html = (root / "site" / "index.html").read_text()
    assert 'id="ref-known2020"' in html and "cr-cite__num" in html


def test_unknown_key_fails_strict_build_with_location_and_suggestion(tmp_path: Path) -> None:
    root = project(tmp_path, {"index.md": "# Home\n\nGood [@known2020].\nBad [@knwon2020].\n"})
    code, out = build(root)
    assert code != 0
    assert "docs/index.md:4:5: error: unknown citation key 'knwon2020'; did you mean known2020?" in out


@pytest.mark.parametrize(("bib", "expected"), [
    (BIB + "  - id: [broken\n", "docs/bibliography.yaml:10:1: error: malformed YAML"),
    (BIB.replace("randomised-trial", "rat-study"), "docs/bibliography.yaml:8:1: error: reference 'known2020': unknown evidence kind"),
    (BIB + BIB.split("\n", 1)[1], "error: duplicate id 'known2020' (first defined on line 2)"),
    (BIB + "    DOI: doi:10.1/x\n", "docs/bibliography.yaml:9:1: error: reference 'known2020': invalid DOI"),
])
def test_broken_bibliography_fails_strict_build(tmp_path: Path, bib: str, expected: str) -> None:
    root = project(tmp_path, {"index.md": "# Home\n\nA claim [@known2020].\n"}, bib)
    code, out = build(root)
    assert code != 0
    assert expected in out


def test_malformed_front_matter_is_reported_and_not_shown(tmp_path: Path) -> None:
    page = "---\ntitle: Broken\nauthors: [unclosed\n---\n# Home\n\nText [@known2020].\n"
    root = project(tmp_path, {"index.md": page})
    code, out = build(root)
    assert code != 0
    assert "docs/index.md:" in out and "malformed front matter" in out
    html = (root / "site" / "index.html").read_text() if (root / "site" / "index.html").exists() else ""
    assert "authors: [unclosed" not in html


def test_citation_needed_is_flagged_not_an_error(tmp_path: Path) -> None:
    root = project(tmp_path, {"index.md": "# Home\n\nA claim [citation needed]. [@known2020]\n"})
    code, out = build(root)
    assert code == 0, out
    html = (root / "site" / "index.html").read_text()
    assert "cr-cite--needed" in html and "cr-flags" in html


# -- issue #17: dated facts, citation by identifier, in-text citations ----------------------
BIB_IDS = BIB + """\
    DOI: 10.5555/Known(2020)1
    PMID: "12345"
"""


@pytest.mark.parametrize(("page", "expected"), [
    ("# Home\n\nBad [as of 2026-13-01].\n",
     "docs/index.md:3:5: error: malformed dated-fact marker '[as of 2026-13-01]': '2026-13-01' has no month 13"),
    ("# Home\n\nBackwards [as of 2026-11-24, until 2026-11-01].\n",
     "docs/index.md:3:11: error: malformed dated-fact marker '[as of 2026-11-24, until 2026-11-01]': "
     "'until' date 2026-11-01 is before"),
    ("# Home\n\nA claim [@doi:10.5555/other(1)].\n",
     "docs/index.md:3:9: error: no reference with DOI 10.5555/other(1) in the bibliography; add it with: "
     "python -m citereview import --doi '10.5555/other(1)'"),
    ("# Home\n\nA claim [@pmid:999].\n",
     "docs/index.md:3:9: error: no reference with PMID 999 in the bibliography; add it with: "
     "python -m citereview import --pmid 999"),
    ("# Home\n\nAs @knwon2020 found.\n",
     "docs/index.md:3:4: error: unknown citation key 'knwon2020'; did you mean known2020?"),
])
def test_new_markup_errors_fail_build_and_check_alike(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      page: str, expected: str) -> None:
    from citereview.cli.check import Project, run_check

    root = project(tmp_path, {"index.md": page}, BIB_IDS)
    code, out = build(root)
    assert code != 0
    assert expected in out
    monkeypatch.chdir(root)
    result = run_check(Project.load("mkdocs.yml"))
    errors = [str(d) for d in result.diagnostics if d.level == "error"]
    assert len(errors) == 1 and errors[0].startswith(expected), errors
    assert errors[0] in out  # the very same message, position included


def test_stale_facts_warn_but_do_not_fail_the_strict_build(tmp_path: Path) -> None:
    page = ("# Home\n\nBy DOI [@doi:10.5555/KNOWN(2020)1], by PMID [@pmid:12345], in text @known2020 [p. 2].\n"
            "A rule [as of 2026-01-05, until 2026-06-30] and a fresh fact [as of 2026-11].\n")
    root = project(tmp_path, {"index.md": page}, BIB_IDS)
    config = root / "mkdocs.yml"
    config.write_text(config.read_text().replace("      docs_dir: docs\n", "      docs_dir: docs\n      today: 2026-12-03\n"))
    code, out = build(root)
    assert code == 0, out
    assert "WARNING" not in out
    html = (root / "site" / "index.html").read_text()
    # One reference, one number, whichever way it is cited.
    assert html.count('href="#ref-known2020"') == 3 and ">2<" not in html.split('id="references"')[0]
    assert '<span class="cr-intext-author">Known</span><sup class="cr-cite cr-cite--narrative"' in html
    assert 'data-cr-fact="expired"' in html and "may be out of date" in html
    assert 'data-cr-fact="current"' in html and "as of November 2026" in html
    assert 'data-cr-facts="1"' in html
