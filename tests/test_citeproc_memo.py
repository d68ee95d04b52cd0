"""citeproc_memo (and render's citation item): the same formatted references as citeproc-py's
own code, with fewer queries.

The memo replaces three citeproc-py methods and render.py passes citeproc-py its own
citation item class, so the proof is by comparison: every reference
of the site's bibliography, of the benchmark's synthetic one and of a set of edge cases
(editors only, no author, many authors, full dates, date ranges, translated works) is
formatted in several CSL styles with citeproc-py untouched and with the memo, each time from
freshly loaded styles, and the output must be identical.
"""

from __future__ import annotations

import random
import sys
from collections.abc import Iterator

import pytest

from citereview import bibliography, citeproc_memo, render
from citereview.model import Reference, Review
from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "bench"))
import build_bench

STYLES = ["american-medical-association", "apa", "vancouver", "chicago-author-date",
          "modern-language-association", "ieee", "nature", "harvard-cite-them-right"]

EDGE_CASES: list[dict] = [
    {"id": "editors", "type": "book", "title": "Edited volume", "editor": [
        {"family": "Krystal", "given": "John"}, {"family": "Sanacora", "given": "Gerard"}],
     "publisher": "Oxford University Press", "issued": {"date-parts": [[2019]]}},
    {"id": "anon", "type": "webpage", "title": "A page with no author",
     "URL": "https://example.org/x", "issued": {"date-parts": [[2024, 3, 7]]},
     "accessed": {"date-parts": [[2026, 11, 1]]}},
    {"id": "many", "type": "article-journal", "title": "Many authors",
     "author": [{"family": f"Author{i}", "given": "A"} for i in range(12)],
     "container-title": "Lancet", "issued": {"date-parts": [[2021, 5]]}, "volume": "397",
     "issue": "10286", "page": "1981-1993", "DOI": "10.1016/S0140-6736(21)00000-0"},
    {"id": "range", "type": "report", "title": "A date range", "publisher": "Agency",
     "issued": {"date-parts": [[2019, 1], [2020, 6]]}, "author": [{"literal": "World Health Organization"}]},
    {"id": "translated", "type": "chapter", "title": "A chapter", "container-title": "A book",
     "author": [{"family": "Domino", "given": "Edward F."}],
     "translator": [{"family": "Smith", "given": "Ann"}],
     "editor": [{"family": "Smith", "given": "Ann"}], "page": "12-19",
     "issued": {"date-parts": [[2010]]}},
    {"id": "particles", "type": "article-journal", "title": "Name particles",
     "author": [{"family": "Beethoven", "given": "Ludwig", "dropping-particle": "van"},
                {"family": "Gaulle", "given": "Charles", "non-dropping-particle": "de"}],
     "container-title": "J Test", "issued": {"date-parts": [[1999]]}, "page": "5"},
]


def _reference(csl: dict) -> Reference:
    return Reference(id=csl["id"], csl=csl, evidence="other", review=Review())


def _references() -> list[Reference]:
    site = bibliography.parse_bibliography(
        (ROOT / "docs" / "bibliography.yaml").read_text(encoding="utf-8"), "bibliography.yaml")
    refs = list(site.references.values())
    synthetic = build_bench.make_references(random.Random(7), 120) + EDGE_CASES
    refs += [_reference({k: v for k, v in item.items() if k not in ("evidence", "review")})
             for item in synthetic]
    return refs


def _format_all(refs: list[Reference]) -> dict[tuple[str, str], str]:
    # Fresh styles and no cached output: every reference goes through citeproc-py.
    render._styles.clear()
    render._formatted.clear()
    out = {(style, ref.id): render.format_reference(ref, style, digest=style).html
           for style in STYLES for ref in refs}
    render._styles.clear()
    render._formatted.clear()
    return out


#: The real install() and item class, kept before the fixture below stands in for them.
_INSTALL = citeproc_memo.install
_ITEM_CLASS = render._item_class


@pytest.fixture
def plain_citeproc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """citeproc-py exactly as installed, with its own CitationItem; the memo is put back
    afterwards. Tests install the memo with ``_INSTALL()`` where they compare."""
    from citeproc import CitationItem

    was = citeproc_memo.installed()
    citeproc_memo.uninstall()
    install = citeproc_memo.install
    citeproc_memo.install = lambda: False  # render._style() must not put it back meanwhile
    monkeypatch.setattr(render, "_item_class", lambda: CitationItem)
    try:
        yield
    finally:
        citeproc_memo.install = install
        render._styles.clear()
        render._formatted.clear()
        if was:
            citeproc_memo.install()


def test_the_pinned_citeproc_is_supported() -> None:
    # requirements.txt pins citeproc-py; if the pin moves, re-read its query sites
    # (see the module docstring) and add the version to CHECKED_VERSIONS.
    assert citeproc_memo.supported()


def test_same_output_with_and_without_the_memo(plain_citeproc: None) -> None:
    refs = _references()
    without = _format_all(refs)
    assert not citeproc_memo.installed()
    try:
        assert _INSTALL()
        render._item_class = _ITEM_CLASS  # restored by the fixture
        with_memo = _format_all(refs)
    finally:
        citeproc_memo.uninstall()
    assert len(without) == len(STYLES) * len(refs)
    differing = [key for key in without if without[key] != with_memo[key]]
    assert not differing, differing[:10]
    # The comparison is meaningful: real formatted references, not fallbacks.
    assert sum("<i>" in html for html in with_memo.values()) > len(refs)


def test_the_memo_spares_most_queries(plain_citeproc: None) -> None:
    """Counted, not timed: with the memo, lxml evaluates a small fraction of the queries."""
    from citeproc import model

    refs = _references()[:60]
    evaluated = 0
    original = model.CitationStylesElement.xpath_search

    def counting(self, expression):
        nonlocal evaluated
        evaluated += 1
        return original(self, expression)

    model.CitationStylesElement.xpath_search = counting
    try:
        _format_all(refs)
        plain = evaluated
        evaluated = 0
        assert _INSTALL()  # wraps `counting`: only misses reach it
        _format_all(refs)
        memoised = evaluated
    finally:
        citeproc_memo.uninstall()
        model.CitationStylesElement.xpath_search = original
    assert plain > 1000
    assert memoised < plain / 5, (plain, memoised)


def test_an_unchecked_citeproc_version_is_left_alone(monkeypatch: pytest.MonkeyPatch,
                                                     plain_citeproc: None) -> None:
    import citeproc
    from citeproc import model

    before = model.CitationStylesElement.xpath_search
    monkeypatch.setattr(citeproc, "__version__", "0.12.0")
    assert not citeproc_memo.supported()
    assert not _INSTALL()
    assert model.CitationStylesElement.xpath_search is before
    assert not citeproc_memo.installed()


def test_builds_use_the_memo() -> None:
    ref = _reference({"id": "x", "type": "article-journal", "title": "T",
                      "author": [{"family": "A", "given": "B"}], "issued": {"date-parts": [[2020]]}})
    render.format_reference(ref, digest="builds-use-the-memo")
    assert citeproc_memo.installed()


def test_formatting_leaves_the_style_as_it_was() -> None:
    """citeproc-py's own code adds an element to the style for every reference it formats
    (a ``<name>`` it cannot find again); with the repair the style stays the same size."""
    assert citeproc_memo.install()
    refs = _references()[:50]
    render._styles.clear()
    render._formatted.clear()
    try:
        style = render._style(render.DEFAULT_STYLE)
        before = sum(1 for _ in style.root.iter())
        for ref in refs:
            render.format_reference(ref, digest="size-check")
        assert sum(1 for _ in style.root.iter()) == before
    finally:
        render._styles.clear()
        render._formatted.clear()
