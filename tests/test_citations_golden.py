"""Golden files: each ``fixtures/citations/*.md`` renders to its ``.html`` twin.

One fixture per syntax form (single, several, locators, prefixes, numbering, statuses,
citation-needed, things that are not citations, escaping, unknown keys, the bibliography
marker; in-text citations, citations by DOI or PMID, dated facts, each with its errors). Diagnostics are golden too (``.log``). Regenerate after an intended change with
``UPDATE_GOLDEN=1 make test`` and review the diff like any other change.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import markdown
import pytest

from citereview.mdext.state import STATE, current_page

FIXTURES = Path(__file__).parent / "fixtures" / "citations"
CASES = sorted(p.stem for p in FIXTURES.glob("*.md"))


def render(name: str, caplog: pytest.LogCaptureFixture) -> tuple[str, str]:
    """Render one fixture as the site would, returning HTML and the diagnostics logged."""
    STATE.clear()
    token = current_page.set(f"{name}.md")
    try:
        md = markdown.Markdown(
            extensions=["toc", "tables", "citereview"],
            extension_configs={"citereview": {
                "bibliography": str(FIXTURES / "bibliography.yaml"),
                "docs_dir": str(FIXTURES),
                "class_prefix": "ke-",
                "evidence": True,
                # Dated facts are judged against a fixed day, so the files stay golden.
                "today": "2026-12-03",
            }},
        )
        with caplog.at_level(logging.INFO, logger="mkdocs.extensions.citereview"):
            caplog.clear()
            html = md.convert((FIXTURES / f"{name}.md").read_text(encoding="utf-8"))
    finally:
        current_page.reset(token)
    log = "\n".join(
        f"{r.levelname}: {r.getMessage().replace(str(FIXTURES), 'FIXTURES')}" for r in caplog.records
    )
    return html + "\n", log


@pytest.mark.parametrize("name", CASES)
def test_golden(name: str, caplog: pytest.LogCaptureFixture) -> None:
    html, log = render(name, caplog)
    html_file, log_file = FIXTURES / f"{name}.html", FIXTURES / f"{name}.log"
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
    """A fixture without its expected output would pass vacuously under UPDATE_GOLDEN."""
    assert CASES
    for name in CASES:
        assert (FIXTURES / f"{name}.html").is_file(), name
