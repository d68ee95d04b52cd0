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
