"""Golden files: each fixture ``*.md`` renders to its ``.html`` twin (diagnostics to ``.log``).

Two sets of cases, as pymdown-extensions keeps them, run by the one parametrised test below:

* ``fixtures/citations/``: one case per syntax form (single, several, locators, prefixes,
  numbering, statuses, citation-needed, things that are not citations, escaping, unknown
  keys, the bibliography marker; in-text citations, citations by DOI or PMID, dated facts,
  each with its errors), rendered with this site's options (``options.yaml``; dated facts
  are judged against a fixed ``today`` there, so the files stay golden);
* ``fixtures/processors/<processor>/``: cases aimed at one processor each (front matter,
  markers, tokenising, the tree, restoring tokens), rendered with the package's defaults.

Every case directory is its own ``docs_dir`` (the ``[bibliography]`` and ``[review-queue]``
pages list its pages); all use the package's fixture bibliography, never the site's. A
directory's ``options.yaml`` and a case's ``<name>.options.yaml`` may set ``extensions``
(others to load) and ``citereview`` (extension options; ``reviews`` relative to the case's
folder, else the fixture bibliography's ``reviews.yaml`` applies). The review queue's build date is
written as ``TODAY``. Regenerate after an intended change with ``UPDATE_GOLDEN=1 make test``
and review the diff like any other change.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from pathlib import Path

import markdown
import pytest
import yaml

from citereview.mdext.state import STATE, current_page

FIXTURES = Path(__file__).parent / "fixtures" / "citations"
PROCESSORS = Path(__file__).parent / "fixtures" / "processors"
BIBLIOGRAPHY = FIXTURES / "bibliography.yaml"
CASE_DIRS = [FIXTURES, *sorted(p for p in PROCESSORS.iterdir() if p.is_dir())]
CASES = [(folder, p.stem) for folder in CASE_DIRS for p in sorted(folder.glob("*.md"))]


def _options(folder: Path, name: str) -> dict:
    """The directory's options, then the case's own on top."""
    merged: dict = {"extensions": [], "citereview": {}}
    for path in (folder / "options.yaml", folder / f"{name}.options.yaml"):
        if path.is_file():
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            merged["extensions"] += data.get("extensions", [])
            merged["citereview"].update(data.get("citereview", {}))
    if merged["citereview"].get("reviews"):  # a case's own review records, beside it
        merged["citereview"]["reviews"] = str(folder / merged["citereview"]["reviews"])
    return merged


def render(folder: Path, name: str, caplog: pytest.LogCaptureFixture) -> tuple[str, str]:
    """Render one case as a site would (the page known), returning HTML and diagnostics."""
    STATE.clear()
    options = _options(folder, name)
    token = current_page.set(f"{name}.md")
    try:
        md = markdown.Markdown(
            extensions=["toc", "tables", *options["extensions"], "citereview"],
            extension_configs={"citereview": {
                "bibliography": str(BIBLIOGRAPHY), "docs_dir": str(folder), **options["citereview"],
            }},
        )
        with caplog.at_level(logging.INFO, logger="mkdocs.extensions.citereview"):
            caplog.clear()
            html = md.convert((folder / f"{name}.md").read_text(encoding="utf-8"))
    finally:
        current_page.reset(token)
    html = html.replace(dt.datetime.now(dt.UTC).date().isoformat(), "TODAY")
    log = "\n".join(
        f"{r.levelname}: {r.getMessage().replace(str(folder), 'FIXTURES').replace(str(FIXTURES), 'BIB')}"
        for r in caplog.records
    )
    return html + "\n", log


@pytest.mark.parametrize(("folder", "name"), CASES,
                         ids=[f"{f.relative_to(FIXTURES.parent).as_posix()}/{n}" for f, n in CASES])
def test_golden(folder: Path, name: str, caplog: pytest.LogCaptureFixture,
                monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # no mkdocs.yml in the working directory: not the site's config
    html, log = render(folder, name, caplog)
    html_file, log_file = folder / f"{name}.html", folder / f"{name}.log"
    if os.environ.get("UPDATE_GOLDEN"):
        html_file.write_text(html, encoding="utf-8")
        if log:
            log_file.write_text(log + "\n", encoding="utf-8")
        elif log_file.exists():
            log_file.unlink()
    assert html == html_file.read_text(encoding="utf-8")
    expected_log = log_file.read_text(encoding="utf-8").rstrip("\n") if log_file.exists() else ""
    assert log == expected_log


def test_every_fixture_has_a_golden_file() -> None:
    """A case without its expected output would pass vacuously under UPDATE_GOLDEN."""
    assert CASES
    assert {f.name for f in CASE_DIRS[1:]} >= {"page-checks", "markers", "tokens", "tree", "restore"}
    for folder, name in CASES:
        assert (folder / f"{name}.html").is_file(), folder / name
