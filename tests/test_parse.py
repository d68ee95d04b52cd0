"""The citation grammar: what is a citation, what is not, and where it was found."""

from __future__ import annotations

import pytest

from citereview.core.model import CiteItem
from citereview.core.syntax import KEY_RE, mask_code, misplaced, page_title, parse_group, scan_source


@pytest.mark.parametrize(("body", "expected"), [
    ("@key", [CiteItem("key")]),
    ("@a; @b", [CiteItem("a"), CiteItem("b")]),
    ("@key, p. 33", [CiteItem("key", suffix="p. 33")]),
    ("see @key, table 2", [CiteItem("key", prefix="see", suffix="table 2")]),
    ("see @a, p. 1; also @b", [CiteItem("a", "see", "p. 1"), CiteItem("b", "also")]),
    ("-@doe99", [CiteItem("doe99")]),
    ("@smith04 pp. 3-4", [CiteItem("smith04", suffix="pp. 3-4")]),
    ("@Doe:2020/x.y-z", [CiteItem("Doe:2020/x.y-z")]),
])
def test_parse_group(body: str, expected: list[CiteItem]) -> None:
    group = parse_group(body)
    assert group is not None
    assert list(group.items) == expected


@pytest.mark.parametrize("body", [
    "mail a@b.org", "@ home", "@key's point", "@a @b", "@a; plain text", "", "@",
])
def test_not_a_citation(body: str) -> None:
    assert parse_group(body) is None


@pytest.mark.parametrize(("key", "ok"), [
    ("abc", True), ("_x", True), ("1999a", True), ("a:b", True), ("a.b.c", True),
    ("a-", False), ("a.", False), (":a", False), ("a b", False), ("a..b", False),
])
def test_key_grammar(key: str, ok: bool) -> None:
    assert bool(KEY_RE.fullmatch(key)) is ok


def test_scan_positions_and_sentence() -> None:
    text = "---\ntitle: T\n---\n\n# T\n\nFirst claim. Second claim [@k, p. 2].\n\nNeeds one [citation needed].\n"
    found = list(scan_source(text))
    assert [(o.line, o.col) for o in found] == [(7, 27), (9, 11)]
    assert found[0].group.items[0].key == "k"
    assert found[0].sentence == "Second claim."
    assert found[1].group.needed


def test_scan_skips_code_front_matter_and_comments() -> None:
    text = (
        "---\nnote: '[@front]'\n---\n"
        "`[@span]` and ``[@double]``\n\n```\n[@fenced]\n```\n\n~~~~\n[@tilde]\n~~~~\n\n"
        "<!-- [@comment] -->\n\n    [@indented]\n\nreal [@yes]\n"
    )
    assert [o.group.items[0].key for o in scan_source(text)] == ["yes"]
    assert len(mask_code(text)) == len(text)


def test_indented_content_of_containers_is_scanned() -> None:
    text = "- item\n\n    [@inlist]\n\n!!! note\n\n    [@inadmonition]\n\n=== \"Tab\"\n\n    [@intab]\n"
    assert [o.group.items[0].key for o in scan_source(text)] == ["inlist", "inadmonition", "intab"]


def test_sentence_spans_wrapped_lines_but_not_table_rows() -> None:
    text = "Intro.\n\nFirst one. The second is\nwrapped over lines [@a]. Third.\n\n| cell | row [@b] |\n"
    assert [o.sentence for o in scan_source(text)] == ["The second is wrapped over lines.", "cell | row"]


def test_page_title() -> None:
    assert page_title("---\ntitle: \"Front\"\n---\n# Heading\n", "x") == "Front"
    assert page_title("```\n# not\n```\n# Heading\n", "x") == "Heading"
    assert page_title("no heading", "Fallback") == "Fallback"


@pytest.mark.parametrize(("text", "title"), [
    ("---\n# a YAML comment\nx: 1\n---\n# Real\n", "Real"),
    ("<!--\n# in a comment\n-->\n# Real\n", "Real"),
    ("Intro\n\n    # indented code\n\n# Real\n", "Real"),
    ("## Second level first\n\n# Real\n", "Real"),
    ("# Real with a citation [@zarate2006; @a] here\n", "Real with a citation here"),
    ("---\nx: 1\n", "Fallback"),
])
def test_page_title_skips_what_is_not_a_heading(text: str, title: str) -> None:
    assert page_title(text, "Fallback") == title


def test_citations_markdown_does_not_render_are_misplaced_not_counted() -> None:
    """Raw HTML blocks, attributes and abbreviation definitions keep their text as written;
    Markdown inside ``<div markdown>``, inline HTML content and link text is rendered."""
    from citereview.core.syntax import find_groups, misplaced

    text = ("# T\n\n<div>\nraw [@a]\n</div>\n\n<div markdown>\nmd [@b]\n</div>\n\n"
            "<span>inline [@c]</span> <abbr title=\"[@d]\">x</abbr>\n\n*[X]: def [@e]\n\n"
            "[link [@f]](p.md) and [title](u 'see [@g]')\n\n`[@h]` and [@i stays open\n")
    assert [m.group(0) for m, _ in find_groups(text)] == ["[@b]", "[@c]", "[@f]"]
    assert [(p.line, p.text, p.place) for p in misplaced(text)] == [
        (4, "[@a]", "a raw HTML block"),
        (11, "[@d]", "an HTML tag's attribute"),
        (13, "[@e]", "an abbreviation definition"),
        (15, "[@g]", "a link's title"),
        (17, "[@i stays open", None),
    ]


def test_html_the_standard_parser_gives_up_on_does_not_stop_the_scan() -> None:
    """``<![CDAT …`` makes Python's HTMLParser raise AssertionError (a marked section with an
    unknown keyword); the scan keeps the places it found before and goes on, so that
    ``citereview check`` reports the page instead of a traceback."""
    from citereview.core.syntax import find_groups, misplaced

    text = "<div>\nraw [@a]\n</div>\n\nSee <![CDAT [@b] here, then [@c].\n"
    assert [m.group(0) for m, _ in find_groups(text)] == ["[@b]", "[@c]"]
    assert [(p.line, p.text, p.place) for p in misplaced(text)] == [(2, "[@a]", "a raw HTML block")]


@pytest.mark.parametrize(("text", "keys"), [
    ("\\[@a] escaped bracket", []),
    ("[\\@a] escaped at-sign", []),
    ("\\\\[@a] escaped backslash, then a citation", ["a"]),
    ("\\\\\\[@a] escaped backslash, escaped bracket", []),
    ("\\[citation needed] escaped marker", []),
    ("text\\ [@a] a backslash apart", ["a"]),
])
def test_backslash_escapes(text: str, keys: list[str]) -> None:
    """Markdown's escapes: an odd run of backslashes escapes the bracket (the checker and
    the build share this grammar, so neither reports an escaped citation)."""
    found = list(scan_source(text))
    assert [i.key for o in found for i in o.group.items] == keys
    if "citation needed" in text:
        assert not found


def test_a_group_wrapped_over_lines_is_one_group_within_its_paragraph() -> None:
    """As in Pandoc: a line break inside the brackets is a space; a quote's ``>`` and a list
    item's indentation on the next line are not part of the group; a blank line ends it."""
    text = ("# T\n\nA claim [@a;\n@b]. Later [see\n@c, pp.\n12-14].\n\n"
            "> Quoted [@a;\n> > see @b, p.\n> 7].\n\n- item [@a;\n  @b]\n\n"
            "Open [@a;\n\n@b] is not one group.\n")
    found = [(o.line, o.col, [(i.key, i.prefix, i.suffix) for i in o.group.items]) for o in scan_source(text)]
    assert found == [
        (3, 9, [("a", "", ""), ("b", "", "")]),
        (4, 12, [("c", "see", "pp. 12-14")]),
        (8, 10, [("a", "", ""), ("b", "see", "p. 7")]),
        (12, 8, [("a", "", ""), ("b", "", "")]),
        (17, 1, [("b", "", "")]),  # after the blank line, ``@b`` starts an in-text citation
    ]
    assert next(o.sentence for o in scan_source(text)) == "A claim."
    assert [(m.line, m.col, m.text, m.place) for m in misplaced(text)] == [(15, 6, "[@a;", None)]


def test_an_unclosed_bracket_is_reported_once_on_one_line_at_the_end_of_its_paragraph() -> None:
    text = "Open [@a and the sentence\ngoes on.\n\nNext [@b] is fine.\n"
    assert [(m.line, m.col, m.text) for m in misplaced(text)] == [(1, 6, "[@a and the sentence goes on.")]


def test_a_paragraph_is_split_and_each_sentence_tidied_once_however_many_citations() -> None:
    """Each citation asks for its sentence; asking again must not redo the work, or a
    paragraph with hundreds of citations takes time quadratic in its length."""
    from citereview.core import syntax

    syntax._split_sentences.cache_clear()
    syntax._tidy.cache_clear()
    text = "Many sources " + " ".join(f"[@k{i}]" for i in range(300)) + " agree. Another [@k0]. A third.\n"
    found = list(scan_source(text))
    assert len(found) == 301 and found[0].sentence == "Many sources agree." and found[-1].sentence == "Another."
    assert syntax._split_sentences.cache_info().misses == 1
    assert syntax._tidy.cache_info().misses == 2


@pytest.mark.parametrize(("text", "starts"), [
    ("@a at the very start", [0]),
    ("@a\n@b\t@c (@d \"@e '@f \u201c@g \u2018@h *@i* _@j_", [0, 3, 6, 10, 14, 18, 22, 26, 30, 35]),
    ("x@a 1@b /@c .@d :@e -@f [@g @@h \u00e9@i", []),
    ("@@a", []),
])
def test_an_in_text_citation_starts_a_word(text: str, starts: list[int]) -> None:
    """The scanner tests the character before ``@`` from after it (so that every branch of
    its pattern starts with ``[`` or ``@``, which the regex engine skips to quickly): the
    same characters allow and forbid an in-text citation as a test before the ``@`` would,
    and the text's first character, with nothing before it, may start one."""
    from citereview.core.syntax import find_groups

    assert [m.start() for m, g in find_groups(text, False) if g.narrative] == starts


@pytest.mark.parametrize(("text", "col"), [
    ("[@a open at the very start", 1),
    ("x \\[@a an escaped bracket, then [@b open", 33),
    ("x ![@a an image's alt text, then [@b open", 34),
])
def test_an_unclosed_bracket_is_tested_for_escapes_and_images(text: str, col: int) -> None:
    """The check for ``\\`` and ``!`` before an unclosed ``[`` looks back from after the
    bracket (so that the pattern starts with a literal ``[``): a bracket at the start of the
    text has nothing before it, and a bracket after ``\\`` or ``!`` is not reported."""
    found = [m.col for m in misplaced(text)]
    assert found == [col]


@pytest.mark.parametrize(("text", "keys"), [
    ("---\ntitle: [@a]\n", []),  # front matter never closed: all of it
    ("---\ntitle: x\n...\n[@a]\n", ["a"]),
    ("- item\ntext\n\n    [@a]\n", []),  # the last unindented line decides, not the first
    ("text\n- item\n\n    [@a]\n", ["a"]),
    ("- item\n\n    [@a]\n\n    [@b]\n", ["a", "b"]),
    ("- item\n```\n[@a]\n```\n\n    [@b]\n", []),  # a fence's line is the last unindented one
    ("    [@a] indented at the start\n", []),
    ("text\n\n    ```\n[@a]\n", ["a"]),  # a fence in indented code opens nothing
    ("text\n\u00a0\n    [@a]\n", []),  # a line of Unicode spaces is blank
    ("\u00a0```\n[@a]\n```\n[@b]\n", ["b"]),
    ("```\n[@a]\n\n    [@b]\n  ``` \n[@c]\n", ["c"]),
    ("````\n[@a]\n```\n[@b]\n````\n[@c]\n", ["c"]),
    ("~~~\n[@a]\n```\n[@b]\n~~~\n[@c]", ["c"]),
])
def test_code_blocks_and_containers_are_told_apart_line_by_line(text: str, keys: list[str]) -> None:
    """The masking loop's shortcuts (the fence pattern only on lines holding a fence, the
    container pattern only when an indented line after a blank one asks) decide as reading
    every line would: these are the cases where they could go wrong."""
    from citereview.core.syntax import find_groups

    assert [i.key for _, g in find_groups(text) for i in g.items] == keys
    assert len(mask_code(text)) == len(text) and mask_code(text).count("\n") == text.count("\n")


@pytest.mark.parametrize(("text", "found"), [
    ("*[HTML]: Hyper [@a] and [@b]\n", [(1, 16, "an abbreviation definition"), (1, 25, "an abbreviation definition")]),
    ("[r]: http://x.org \"see [@a]\"\n", [(1, 24, "a link definition's title")]),
    ("![alt [@a]](x.png)\n", [(1, 7, "an image's alt text")]),
    ("[t](u 'see [@a]')\n", [(1, 12, "a link's title")]),
    ("Para\n{: title=\"[@a]\" }\n", [(2, 11, "an attribute list")]),
    ("A [@a] claim.\n\n*[HTML]: Hyper\n", []),  # the page holds a mark, the line does not
    ("{x} [@a] {y}\n![x](y) [@b]\n", []),  # the line holds a mark, no rule matches
])
def test_line_rules_run_where_their_marks_are(text: str, found: list[tuple[int, int, str]]) -> None:
    """Each line rule's pattern runs only where the page, and the line before the group,
    holds what it cannot match without (``*[``, ``]:``, ``![``, ``](``, ``{``)."""
    assert [(m.line, m.col, m.place) for m in misplaced(text)] == found


@pytest.mark.parametrize(("text", "found"), [
    ("@a.b. says", [("@a.b", "a.b")]),
    ("@a:b:c/d-e, next", [("@a:b:c/d-e", "a:b:c/d-e")]),
    ("@a_b's work and @ab/.", [("@a_b", "a_b"), ("@ab", "ab")]),
    ("@pmid:123#x", [("@pmid:123", "pmid:123")]),  # an identifier is tried before a key
    ("[@a.b.] [@x--y] [@a..b] [@pmid:123#x] [@doi:10.1000/a.b.]", []),  # text glued to the key
    ("[@a.b, p. 3]", [("[@a.b, p. 3]", "a.b")]),
])
def test_a_key_ends_at_punctuation_not_followed_by_a_word_character(text: str, found: list[tuple[str, str]]) -> None:
    """The key pattern is possessive (it never gives characters back): the key it takes must
    be the longest one, as the pattern that backtracked found, in text and in brackets."""
    from citereview.core.syntax import find_groups

    assert [(m.group(0), g.items[0].key) for m, g in find_groups(text, False)] == found


@pytest.mark.parametrize(("text", "sentences"), [
    ("- **Bold** claim [@a] .\n", ["Bold claim."]),
    ("| cell \u00a0 | row [@b] | \n", ["cell | row"]),
    ("> Quoted _claim_ [@c] ,  and more [@d]  !\n", ["Quoted claim, and more!"] * 2),
    ("1. Listed claim [as of 2024-05] [@e].\n", ["Listed claim."]),
    ("Escaped \\[as of 2024] stays [@f].\n", ["Escaped \\[as of 2024] stays."]),
    ("Para one.\n\nIntro. A `code` claim [@g] ; end. Next.\n", ["A code claim; end."]),
    ("   \t- \u2003 spaced   [@h]\u2003.\n", ["spaced."]),
])
def test_a_sentence_is_tidied_for_reviewers(text: str, sentences: list[str]) -> None:
    """Marks at the start, emphasis and code marks, removed citations and dated facts go;
    the space left before punctuation goes; any run of white space (Unicode's too) is one
    space, and none is left at the ends."""
    assert [o.sentence for o in scan_source(text)] == sentences


def test_a_dated_fact_after_a_backslash_is_text() -> None:
    from citereview.core.syntax import FACT_RE

    text = "[as of 2024] \\[as of 2025] [AS OF 1999]"
    assert [m.group("fact") for m in FACT_RE.finditer(text)] == ["2024", "1999"]
