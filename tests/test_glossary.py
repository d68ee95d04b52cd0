"""The glossary and the site-wide abbreviation tooltips say the same thing.

``includes/abbreviations.md`` is appended to every page (pymdownx.snippets) so defined terms
show a tooltip; each abbreviation must also be explained on the glossary page, and the
tooltips must reach readers on every page of the built site.
"""

from __future__ import annotations

import re
from pathlib import Path

from tests.conftest import ROOT

ABBR_LINE = re.compile(r"^\*\[(?P<abbr>[^\]]+)\]:\s*(?P<text>.+)$")


def abbreviations() -> dict[str, str]:
    found: dict[str, str] = {}
    for line in (ROOT / "includes" / "abbreviations.md").read_text(encoding="utf-8").splitlines():
        m = ABBR_LINE.match(line)
        if m:
            found[m.group("abbr")] = m.group("text")
    return found


def glossary_terms() -> list[str]:
    text = (ROOT / "docs" / "glossary.md").read_text(encoding="utf-8")
    lines = text.splitlines()
    # Definition-list terms: a non-indented line followed by a ":   definition" line.
    return [lines[i] for i in range(len(lines) - 1) if lines[i + 1].startswith(":") and lines[i].strip()]


def test_abbreviation_file_is_well_formed() -> None:
    abbrs = abbreviations()
    assert len(abbrs) >= 20
    for abbr, text in abbrs.items():
        assert '"' not in text and "[" not in text and "]" not in text, abbr
        assert len(text.split()) <= 20, abbr


def test_every_abbreviation_is_in_the_glossary() -> None:
    terms = glossary_terms()
    missing = [a for a in abbreviations()
               if not any(re.search(rf"(?<![\w-]){re.escape(a)}(?![\w-])", t) for t in terms)]
    assert missing == []


def test_tooltips_reach_every_page(built_site: Path) -> None:
    """Every page whose own text uses "NMDA" shows the abbreviation with its tooltip."""
    checked = 0
    for source in sorted((ROOT / "docs").glob("*.md")):
        if "NMDA" not in source.read_text(encoding="utf-8"):
            continue
        out = built_site / ("index.html" if source.stem == "index" else f"{source.stem}/index.html")
        assert re.search(r'<abbr title="[^"]+">NMDA</abbr>', out.read_text(encoding="utf-8")), source.name
        checked += 1
    assert checked >= 3
