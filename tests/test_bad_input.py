"""Bad input, as contributors really write it, on every engine (issue #15).

Each case builds a small real project with MkDocs and ProperDocs (``--strict``) and with
Zensical, and runs ``citereview check`` on it: the checker and the strict builds fail on
the same inputs with the same ``file:line`` message, and no tool prints a traceback.
Zensical exits 0 whatever the extension logs, so for it the test asks that the message is
logged (where Zensical runs the extension on that input at all).
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from .conftest import build_site

pytestmark = pytest.mark.engines

BIB = """\
references:
  - id: known2020
    type: article-journal
    author: [{family: Known, given: K.}]
    title: A known paper
    container-title: Journal
    issued: 2020
    DOI: 10.1000/known
"""

CONFIG = """\
site_name: Mini
theme: {name: material}
plugins: [citereview]
markdown_extensions:
  - toc
  - abbr
  - attr_list
  - md_in_html
  - citereview:
      bibliography: docs/bibliography.yaml
      docs_dir: docs
exclude_docs: bibliography.yaml
"""

#: Every tool that reads the sources. ``zensical`` is the bare engine.
ENGINES = ("check", "mkdocs", "properdocs", "zensical")


def project(tmp_path: Path, pages: dict[str, str | bytes], bib: str | None = BIB) -> Path:
    """A project in ``tmp_path``: ``index.md`` cites the one reference unless ``pages`` says otherwise."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (tmp_path / "mkdocs.yml").write_text(CONFIG, encoding="utf-8")
    if bib is not None:
        (docs / "bibliography.yaml").write_text(bib, encoding="utf-8")
    pages = {"index.md": "# Home\n\nA claim [@known2020].\n", **pages}
    for name, text in pages.items():
        target = docs / name
        if isinstance(text, bytes):
            target.write_bytes(text)
        else:
            target.write_text(text, encoding="utf-8")
    return tmp_path


@dataclass(frozen=True)
class Run:
    code: int
    out: str


def run(tool: str, root: Path) -> Run:
    """Run one tool on the project (stdout and stderr together)."""
    if tool == "check":
        proc = subprocess.run([sys.executable, "-m", "citereview", "check"], cwd=root, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=300, check=False)
    else:
        proc = build_site(root / "site", engine=tool, cwd=root)
    return Run(proc.returncode, proc.stdout)


def expect_error(tool: str, root: Path, message: str) -> Run:
    """``message`` is reported; the checker and the strict builds fail; no traceback."""
    result = run(tool, root)
    assert message in result.out, f"{tool}:\n{result.out}"
    if tool != "zensical":
        assert "Traceback" not in result.out, result.out
        assert result.code != 0, f"{tool} passed:\n{result.out}"
    return result


# -- duplicate keys in one YAML mapping -------------------------------------------------
@pytest.mark.parametrize("tool", ENGINES)
def test_duplicate_bibliography_key_names_the_second_line(tmp_path: Path, tool: str) -> None:
    bib = BIB.replace("    title: A known paper\n", "    title: A known paper\n    title: Another title\n")
    root = project(tmp_path, {}, bib)
    expect_error(tool, root, "docs/bibliography.yaml:6:1: error: reference 'known2020': "
                 "duplicate key 'title' (first on line 5)")


@pytest.mark.parametrize("tool", ENGINES)
def test_duplicate_front_matter_key_names_the_second_line(tmp_path: Path, tool: str) -> None:
    page = "---\ntitle: Home\nauthors: [A]\ntitle: Again\n---\n# Home\n\nA claim [@known2020].\n"
    root = project(tmp_path, {"index.md": page})
    expect_error(tool, root, "docs/index.md:4:1: error: duplicate key 'title' (first on line 2)")


# -- encodings ----------------------------------------------------------------------------
LATIN1_PAGE = "# Bad\n\nA claim [@known2020].\nMüller wrote this.\n".encode("latin-1")


@pytest.mark.parametrize("tool", ["check", "mkdocs", "properdocs"])
def test_page_that_is_not_utf8_names_file_and_line(tmp_path: Path, tool: str) -> None:
    root = project(tmp_path, {"bad.md": LATIN1_PAGE})
    result = expect_error(tool, root, "docs/bad.md:4:2: error: not valid UTF-8 (byte 0xfc); save the file as UTF-8")
    assert "UnicodeDecodeError" not in result.out


def test_zensical_cannot_name_a_page_that_is_not_utf8(tmp_path: Path) -> None:
    """Zensical reads pages in Rust and fails before any Python runs, naming no file: the
    documented Zensical command runs ``check`` first for that reason (README)."""
    root = project(tmp_path, {"bad.md": LATIN1_PAGE})
    result = run("zensical", root)
    assert "stream did not contain valid UTF-8" in result.out
    assert "bad.md" not in result.out  # if this starts failing, Zensical now names the file: update the README


@pytest.mark.parametrize("tool", ENGINES)
def test_byte_order_mark_and_crlf_are_fine(tmp_path: Path, tool: str) -> None:
    page = "\ufeff---\nauthors: [A]\n---\n# Home\n\nA claim [@known2020].\n".replace("\n", "\r\n")
    root = project(tmp_path, {"index.md": page.encode("utf-8")})
    result = run(tool, root)
    assert result.code == 0, result.out
    assert ": error:" not in result.out and "WARNING" not in result.out, result.out
    if tool == "check":
        assert "docs/index.md:6:9: notice: cites 'known2020'" in result.out
    else:
        html = (root / "site" / "index.html").read_text(encoding="utf-8")
        assert 'href="#ref-known2020"' in html and "authors:" not in html
