"""Bad input, as contributors really write it, on every engine (issue #15).

Each case builds a small real project with MkDocs and ProperDocs (``--strict``) and with
Zensical, and runs ``citereview check`` on it: the checker and the strict builds fail on
the same inputs with the same ``file:line`` message, and no tool prints a traceback.
Zensical exits 0 whatever the extension logs, so for it the test asks that the message is
logged (where Zensical runs the extension on that input at all).
"""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from .conftest import build_site
from .sitetools import parse_html

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


# -- citations where Markdown renders none ----------------------------------------------
UNRENDERED = """\
# About

<div class="box">
Raw HTML [@known2020].
</div>

<span title="[@known2020]">hover</span> and ![alt [@known2020]](logo.png)

*[ABBR]: A term [@known2020]
"""


@pytest.mark.parametrize("tool", ENGINES)
def test_citation_that_cannot_be_rendered_is_an_error_and_not_counted(tmp_path: Path, tool: str) -> None:
    root = project(tmp_path, {"about.md": UNRENDERED, "references.md": "# References\n\n[bibliography]\n"})
    result = expect_error(tool, root, "docs/about.md:4:10: error: citation [@known2020] inside a raw HTML "
                          "block is not rendered")
    for where in ("7:14: error: citation [@known2020] inside an HTML tag's attribute",
                  "7:51: error: citation [@known2020] inside an image's alt text",
                  "9:17: error: citation [@known2020] inside an abbreviation definition"):
        assert f"docs/about.md:{where}" in result.out, result.out
    if tool == "zensical":  # Zensical publishes anyway: the References page must not claim the page
        refs = (root / "site" / "references" / "index.html").read_text(encoding="utf-8")
        cited_on = re.search(r"Cited on: (.*?)</span>", refs)
        assert cited_on and "Home" in cited_on.group(1) and "About" not in cited_on.group(1), refs
        about = (root / "site" / "about" / "index.html").read_text(encoding="utf-8")
        assert "ref-known2020" not in about  # no References list, no link to a missing anchor


@pytest.mark.parametrize("tool", ENGINES)
def test_citation_in_link_text_renders_after_the_link(tmp_path: Path, tool: str) -> None:
    page = "# Other\n\nSee [the paper [@known2020]](index.md) for more.\n"
    root = project(tmp_path, {"other.md": page})
    result = run(tool, root)
    assert result.code == 0 and "WARNING" not in result.out and ": error:" not in result.out, result.out
    if tool == "check":
        assert "docs/other.md:3:16: notice: cites 'known2020'" in result.out
        return
    doc = parse_html((root / "site" / "other" / "index.html").read_text(encoding="utf-8"))
    links = [a for a in doc.find_all("a") if a.attrs.get("href", "").rstrip("/").endswith(("index.html", ".."))]
    assert any(a.text().strip() == "the paper" for a in links), [a.text() for a in links]
    for a in doc.find_all("a"):
        assert not [d for d in a.iter() if d is not a and d.tag == "a"], "a link inside a link"
    assert doc.find_all("a", cls="cr-cite__num"), "the citation is not rendered"


@pytest.mark.parametrize("tool", ["check", "mkdocs", "properdocs"])
def test_unclosed_citation_bracket_is_a_warning(tmp_path: Path, tool: str) -> None:
    page = "# Other\n\nA claim [@known2020 and the sentence goes on.\n"
    root = project(tmp_path, {"other.md": page})
    result = run(tool, root)
    assert result.code == 0, result.out
    assert ("docs/other.md:3:9: warning: unclosed citation bracket '[@known2020 and the sentence goes on.' "
            "is shown as text; close it with ']' on the same line") in result.out
