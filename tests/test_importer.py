"""``citereview import``: BibTeX (Zotero/Better BibTeX, PubMed-converted) and CSL-JSON into
the CSL-YAML bibliography, appended as text so that reviewers' work is never rewritten."""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from citereview.cli import importer
from citereview.core.bibliography import parse_bibliography

FIXTURES = Path(__file__).parent / "fixtures" / "import"
REPO = Path(__file__).parent.parent


@pytest.fixture
def bib(tmp_path: Path) -> Path:
    target = tmp_path / "bibliography.yaml"
    shutil.copy(FIXTURES / "existing.yaml", target)
    return target


def run_import(source: Path, bib: Path, *extra: str) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", default=str(bib.parent / "mkdocs.yml"))
    importer.add_arguments(parser)
    return importer.run(parser.parse_args([str(source), "--bibliography", str(bib), *extra]))


def entries(path: Path) -> dict[str, dict]:
    return {e["id"]: e for e in yaml.safe_load(path.read_text(encoding="utf-8"))["references"]}


def test_bibtex_with_latex_escapes(bib, capsys):
    before = bib.read_bytes()
    assert run_import(FIXTURES / "zotero-betterbibtex.bib", bib) == 0
    out = capsys.readouterr().out
    after = bib.read_bytes()
    assert after.startswith(before), "the existing part of the file must be unchanged byte for byte"

    added = entries(bib)
    muller = added["muller2019etude"]
    assert muller["title"] == "Étude de la kétamine chez l'âgé : Münster cohort & NMDA blockade — a pilot"
    assert muller["author"] == [
        {"family": "Müller", "given": "Jörg"},
        {"family": "García-López", "given": "María"},
        {"family": "Østergaard", "given": "Søren"},
        {"family": "van der Berg", "given": "Anouk"},
        {"literal": "World Health Organization"},
    ]
    assert muller["DOI"] == "10.1177/0269881119000000"  # https://doi.org/ prefix removed
    assert muller["page"] == "451-460"
    assert muller["issued"] == {"date-parts": [[2019]]}
    assert (muller["evidence"], muller["review"]) == ("other", {"status": "unreviewed"})
    who = added["who2023model"]  # source key kept: it already follows the site convention
    assert (who["type"], who["author"], who["title"]) == (
        "book", [{"literal": "World Health Organization"}], "WHO Model List of Essential Medicines, 23rd List")
    assert "added muller2019etude (source key mullerKetamineEtude2019)" in out
    assert "2 added, 1 skipped (already present), 0 duplicates (by DOI/PMID)" in out


def test_existing_id_is_never_overwritten(bib, capsys):
    before = bib.read_bytes()
    run_import(FIXTURES / "zotero-betterbibtex.bib", bib)
    out = capsys.readouterr().out
    assert "skipped zarate2006randomized: already present" in out
    zarate = entries(bib)["zarate2006randomized"]
    assert zarate["review"]["status"] == "outdated" and zarate["review"]["reviewer"] == "A. Reviewer"
    assert bib.read_text(encoding="utf-8").count("- id: zarate2006randomized") == 1
    assert bib.read_bytes()[: len(before)] == before


def test_pubmed_bibtex_duplicates_by_doi_and_pmid(bib, capsys):
    before = bib.read_bytes()
    assert run_import(FIXTURES / "pubmed.bib", bib) == 0
    out = capsys.readouterr().out
    # DOI compared case-insensitively (PubMed gives s0006..., we have S0006...).
    assert "duplicate Berman2000: same DOI 10.1016/s0006-3223(99)00230-9 as existing 'bermanKetamine2000'" in out
    assert "duplicate Singh2016: same PMID 27056608 as existing 'singh2016double'" in out
    assert "0 added, 0 skipped (already present), 2 duplicates (by DOI/PMID)" in out
    assert bib.read_bytes() == before


def test_pubmed_bibtex_fields(tmp_path, capsys):
    bib = tmp_path / "bib.yaml"
    bib.write_text("references:\n- id: other2001thing\n  type: book\n  title: Thing\n  evidence: other\n",
                   encoding="utf-8")
    assert run_import(FIXTURES / "pubmed.bib", bib) == 0
    berman = entries(bib)["berman2000antidepressant"]
    assert berman["author"][0] == {"family": "Berman", "given": "R. M."}
    assert berman["title"] == "Antidepressant effects of ketamine in depressed patients"  # no period
    assert (berman["issued"], berman["PMID"], berman["page"], berman["issue"]) == (
        {"date-parts": [[2000, 2]]}, "10686270", "351-354", "4")
    assert berman["URL"] == "https://pubmed.ncbi.nlm.nih.gov/10686270/"


def test_csl_json(bib, capsys):
    before = bib.read_bytes()
    assert run_import(FIXTURES / "zotero.json", bib) == 0
    out = capsys.readouterr().out
    assert bib.read_bytes().startswith(before)
    added = entries(bib)
    krystal = added["krystal2012ketamine"]  # Zotero URI id replaced by the convention key
    assert krystal["PMID"] == "22991032" and krystal["PMCID"] == "PMC3657498"
    assert krystal["issued"] == {"date-parts": [[2012, 10]]}
    assert "abstract" not in krystal and "ISSN" not in krystal
    daly = added["daly2019efficacy"]
    assert daly["DOI"] == "10.1001/jamapsychiatry.2019.1189"
    assert daly["issued"] == {"date-parts": [[2019, 9, 1]]}
    # Review metadata in the source is never taken over: only a reviewer sets it.
    assert (daly["evidence"], daly["review"]) == ("other", {"status": "unreviewed"})
    assert "2 added, 0 skipped" in out


def test_result_loads_without_errors_and_keeps_review_blocks(bib, capsys):
    for name in ("zotero-betterbibtex.bib", "pubmed.bib", "zotero.json"):
        assert run_import(FIXTURES / name, bib) == 0
    loaded = parse_bibliography(bib.read_text(encoding="utf-8"), str(bib))
    assert loaded.diagnostics == []
    statuses = {k: r.review.status for k, r in loaded.references.items()}
    assert statuses == {
        "zarate2006randomized": "outdated", "bermanKetamine2000": "disputed", "singh2016double": "unreviewed",
        "muller2019etude": "unreviewed", "who2023model": "unreviewed", "krystal2012ketamine": "unreviewed",
        "daly2019efficacy": "unreviewed"}
    # Importing the same files again adds nothing.
    capsys.readouterr()
    snapshot = bib.read_bytes()
    for name in ("zotero-betterbibtex.bib", "zotero.json"):
        run_import(FIXTURES / name, bib)
    assert bib.read_bytes() == snapshot
    assert "0 added, 3 skipped (already present)" in capsys.readouterr().out


def test_dry_run_writes_nothing(bib, capsys):
    before = bib.read_bytes()
    assert run_import(FIXTURES / "zotero.json", bib, "--dry-run") == 0
    out = capsys.readouterr().out
    assert bib.read_bytes() == before
    assert "would add krystal2012ketamine" in out and "- id: krystal2012ketamine" in out
    assert "2 would add" in out and "[dry run]" in out


def test_key_disambiguation_with_letters(tmp_path, capsys):
    bib = tmp_path / "bib.yaml"
    bib.write_text("references:\n- id: krystal2012ketamine\n  type: article-journal\n"
                   "  title: Ketamine, another paper\n  evidence: other\n", encoding="utf-8")
    run_import(FIXTURES / "zotero.json", bib)
    assert "krystal2012ketaminea" in entries(bib)


def test_keep_keys_keeps_source_keys(bib, capsys):
    run_import(FIXTURES / "zotero-betterbibtex.bib", bib, "--keep-keys")
    added = entries(bib)
    assert "mullerKetamineEtude2019" in added and "muller2019etude" not in added


def test_malformed_bibtex_is_a_clear_error(bib, capsys):
    before = bib.read_bytes()
    assert run_import(FIXTURES / "malformed.bib", bib) == 1
    captured = capsys.readouterr()
    assert captured.err.strip() == (
        f"{FIXTURES / 'malformed.bib'}:9:1: error: malformed BibTeX: premature end of file "
        "(in entry 'broken2021entry' starting on line 6)")
    assert "Traceback" not in captured.err + captured.out
    assert bib.read_bytes() == before


def test_malformed_json_and_missing_file(bib, tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text('[{"id": "x",\n  "title": }]', encoding="utf-8")
    assert run_import(bad, bib) == 1
    assert capsys.readouterr().err.startswith(f"{bad}:2:12: error: malformed JSON")
    assert run_import(tmp_path / "nope.bib", bib) == 1
    assert "no such file" in capsys.readouterr().err


def test_list_followed_by_another_key_and_flow_list(tmp_path, capsys):
    """Entries go after the last item, before a following top-level key and its comment."""
    bib = tmp_path / "bib.yaml"
    bib.write_text("references:\n  - id: a2000b\n    type: book\n    title: B\n    evidence: other\n"
                   "# kept\nother: 1\n", encoding="utf-8")
    assert run_import(FIXTURES / "zotero.json", bib) == 0
    text = bib.read_text(encoding="utf-8")
    assert text.startswith("references:\n  - id: a2000b\n    type: book\n    title: B\n    evidence: other\n"
                           "  - id: krystal2012ketamine\n")
    assert text.endswith("# kept\nother: 1\n")
    assert parse_bibliography(text, "bib.yaml").diagnostics == []
    # A flow-style list cannot be appended to textually: refuse, leave the file alone.
    flow = tmp_path / "flow.yaml"
    flow.write_text("references: []\n", encoding="utf-8")
    assert run_import(FIXTURES / "zotero.json", flow) == 1
    assert "must be a non-empty block list" in capsys.readouterr().err
    assert flow.read_text(encoding="utf-8") == "references: []\n"


def test_bibliography_path_from_mkdocs_yml(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("CITEREVIEW_TEST_BIB", "refs/site.yaml")
    config = tmp_path / "mkdocs.yml"
    config.write_text("site_name: t\nmarkdown_extensions:\n  - toc:\n      permalink: true\n"
                      "  - pymdownx.emoji:\n      emoji_index: !!python/name:material.extensions.emoji.twemoji\n"
                      "  - citereview:\n      bibliography: !ENV [CITEREVIEW_TEST_BIB, docs/bibliography.yaml]\n",
                      encoding="utf-8")
    assert importer.bibliography_path(config) == tmp_path / "refs" / "site.yaml"
    assert importer.bibliography_path(tmp_path / "absent.yml") == tmp_path / "docs" / "bibliography.yaml"


def test_real_site_bibliography_is_appended_not_rewritten(tmp_path, capsys):
    """On a copy of the site's own bibliography: every existing byte stays, the result validates,
    and what is already there (Zarate 2006, Berman 2000) is recognised."""
    bib = tmp_path / "bibliography.yaml"
    shutil.copy(REPO / "docs" / "bibliography.yaml", bib)
    before = bib.read_bytes()
    errors_before = [str(d) for d in parse_bibliography(before.decode(), str(bib)).errors]
    assert run_import(FIXTURES / "zotero-betterbibtex.bib", bib) == 0
    assert run_import(FIXTURES / "pubmed.bib", bib) == 0
    out = capsys.readouterr().out
    assert bib.read_bytes().startswith(before)
    assert "skipped zarate2006randomized: already present" in out
    assert "skipped berman2000antidepressant: already present" in out
    after = parse_bibliography(bib.read_text(encoding="utf-8"), str(bib))
    assert [str(d) for d in after.errors] == errors_before
    assert after.references["muller2019etude"].review.status == "unreviewed"


def test_command_line_malformed_bibtex_has_no_traceback(bib):
    """``python -m citereview import`` end to end: a content error is one clear line, exit 1."""
    result = subprocess.run([sys.executable, "-m", "citereview", "import", str(FIXTURES / "malformed.bib"),
                             "--bibliography", str(bib)], capture_output=True, text=True, timeout=120,
                            check=False)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"{FIXTURES / 'malformed.bib'}:9:1: error: malformed BibTeX: premature end of file "
        "(in entry 'broken2021entry' starting on line 6)"]


def test_command_line_import_appends(bib):
    before = bib.read_bytes()
    result = subprocess.run([sys.executable, "-m", "citereview", "import", str(FIXTURES / "zotero.json"),
                             "--bibliography", str(bib)], capture_output=True, text=True, timeout=120,
                            check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "2 added, 0 skipped (already present), 0 duplicates (by DOI/PMID)"
    assert bib.read_bytes().startswith(before) and len(bib.read_bytes()) > len(before)
