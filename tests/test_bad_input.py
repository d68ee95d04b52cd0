"""Bad input, as contributors really write it, on every engine (issue #15).

Each case builds a small real project with MkDocs and ProperDocs (``--strict``) and with
Zensical, and runs ``citereview check`` on it: the checker and the strict builds fail on
the same inputs with the same ``file:line`` message, and no tool prints a traceback.
Zensical exits 0 whatever the extension logs, so for the bare engine the test asks that the
message is logged (where Zensical runs the extension on that input at all), and the
Zensical command the README documents (``check`` first) must fail.
"""

from __future__ import annotations

import os
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

#: Every tool that reads the sources. ``zensical`` is the bare engine, ``documented`` the
#: Zensical command in the README.
ENGINES = ("check", "mkdocs", "properdocs", "zensical", "documented")
ROOT = Path(__file__).resolve().parent.parent


def documented_zensical_command() -> str:
    """The README's Zensical command (the line that runs check, then Zensical)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    lines = [line.strip() for line in readme.splitlines() if "citereview check &&" in line and "zensical build" in line]
    assert len(lines) == 1, lines
    return lines[0].replace(".venv/bin/", f"{Path(sys.executable).parent}/")


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
    commands = {"check": [sys.executable, "-m", "citereview", "check"],
                "plain": [sys.executable, "-m", "zensical", "build"]}  # no --clean: uses the cache
    if tool in ("check", "plain", "documented"):
        cmd = commands[tool] if tool in commands else documented_zensical_command()
        proc = subprocess.run(cmd, cwd=root, text=True, shell=tool == "documented", stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, timeout=300, check=False)
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


@pytest.mark.parametrize("tool", ["check", "mkdocs", "properdocs", "documented"])
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
        assert "docs/index.md:6:9: notice: claim citing 'known2020'" in result.out
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
        cited_on = re.search(r"Cited on: (.*?)</div>", refs)
        assert cited_on and "Home" in cited_on.group(1) and "About" not in cited_on.group(1), refs
        about = (root / "site" / "about" / "index.html").read_text(encoding="utf-8")
        assert "ref-known2020" not in about  # no References list, no link to a missing anchor


@pytest.mark.parametrize("tool", ENGINES)
def test_citation_in_link_text_renders_after_the_link(tmp_path: Path, tool: str) -> None:
    page = "# Other\n\nSee [the paper [@known2020]](index.md) for more.\n"
    root = project(tmp_path, {"other.md": page})
    result = run(tool, root)
    assert result.code == 0 and "WARNING" not in result.out and ": error:" not in result.out, result.out
    if tool in ("check", "documented"):
        assert "docs/other.md:3:16: notice: claim citing 'known2020'" in result.out
    if tool == "check":
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
            "is shown as text; close it with ']' before the end of the paragraph") in result.out



@pytest.mark.parametrize("tool", ["check", "mkdocs", "properdocs"])
def test_one_source_entered_twice_is_a_warning_naming_both(tmp_path: Path, tool: str) -> None:
    """Two entries with one DOI: ``[@doi:…]`` can cite only the first, and the second is
    usually the same paper imported again. Warned at the second entry's line, not an error."""
    bib = BIB + """\
  - id: again2020
    type: article-journal
    title: A known paper, imported again
    issued: 2020
    DOI: 10.1000/KNOWN
"""
    # Builds report reference findings with the References page, as the site has one.
    root = project(tmp_path, {"other.md": "# Other\n\nSame paper [@again2020].\n",
                              "references.md": "# References\n\n[bibliography]\n"}, bib=bib)
    result = run(tool, root)
    assert result.code == 0, result.out
    assert ("docs/bibliography.yaml:9:1: warning: reference 'again2020' has the same DOI as 'known2020' "
            "(line 2); a citation by that DOI cites 'known2020'") in result.out, result.out
    assert "same DOI" not in result.out.replace("'again2020' has the same DOI", ""), result.out  # once

# -- Zensical as users run it -----------------------------------------------------------
@pytest.mark.parametrize(("bib", "message"), [
    ("references:\n  - id: [broken\n", "docs/bibliography.yaml:3:1: error: malformed YAML"),
    ("", "docs/bibliography.yaml:1:1: error: bibliography is empty"),
    (None, "docs/bibliography.yaml:1:1: error: cannot read bibliography"),
], ids=["malformed", "empty", "missing"])
@pytest.mark.parametrize("tool", ["zensical", "documented"])
def test_broken_bibliography_under_zensical(tmp_path: Path, tool: str, bib: str | None, message: str) -> None:
    """The bare engine logs the error with file:line (and exits 0); the documented command fails."""
    root = project(tmp_path, {}, bib)
    result = expect_error(tool, root, message)
    if tool == "documented":
        assert "Build started" not in result.out  # check stopped it before Zensical published


def test_second_zensical_build_after_an_edit_is_not_stale(tmp_path: Path) -> None:
    """Typed twice, as after an edit: the References page and the queue see the new citation,
    with a plain ``zensical build`` (``watch: [docs]``) and with the documented command."""
    pages = {"index.md": "# Home\n\nNo claim yet.\n", "references.md": "# References\n\n[bibliography]\n",
             "queue.md": "# Queue\n\n[review-queue]\n"}
    root = project(tmp_path, pages)
    with (root / "mkdocs.yml").open("a", encoding="utf-8") as fh:
        fh.write("watch:\n  - docs\n")  # as the site's mkdocs.yml has it
    refs, queue = root / "site" / "references" / "index.html", root / "site" / "queue" / "index.html"
    for tool in ("plain", "documented"):
        index = root / "docs" / "index.md"
        index.write_text("# Home\n\nNo claim yet.\n", encoding="utf-8")
        first = run(tool, root)
        assert first.code == 0 and "Not cited on any page" in refs.read_text(encoding="utf-8"), first.out
        index.write_text("# Home\n\nA claim [@known2020].\n", encoding="utf-8")
        later = index.stat().st_mtime + 5  # a person edits seconds later; Zensical compares whole seconds
        os.utime(index, (later, later))
        second = run(tool, root)
        assert second.code == 0, second.out
        assert re.search(r"Cited on: <a href=\"[^\"]*\">Home</a>", refs.read_text(encoding="utf-8")), tool
        assert "A claim" in queue.read_text(encoding="utf-8"), tool


@pytest.mark.parametrize("tool", ["check", "mkdocs", "properdocs", "documented"])
def test_malformed_front_matter_names_file_and_line(tmp_path: Path, tool: str) -> None:
    """(Bare Zensical stops with its own traceback here, before the extension runs.)"""
    page = "---\ntitle: Broken\nauthors: [unclosed\n---\n# Home\n\nA claim [@known2020].\n"
    result = expect_error(tool, project(tmp_path, {"index.md": page}), "docs/index.md:3:19: error: malformed front matter")
    assert "Traceback" not in result.out
