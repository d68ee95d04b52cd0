"""Caches that make rebuilds cheap must never serve a stale page.

The extension caches, by content, the parsed bibliography, each page's tokenised text and
its rendered citations (so an unchanged page costs almost nothing in the ``mkdocs serve``
loop). These tests edit the inputs between conversions, as an author would, and check that
every edit shows, and that an untouched bibliography is not even read again.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import markdown
import pytest
import yaml

from citereview.core import bibliography as bibmod
from citereview.core import cache
from citereview.mdext import processors, tokens

REF = {
    "id": "trial2006", "type": "article-journal", "title": "A randomized trial",
    "author": [{"family": "Zarate", "given": "Carlos"}], "container-title": "Arch Gen Psychiatry",
    "issued": {"date-parts": [[2006]]}, "evidence": "randomised-trial", "review": {"status": "unreviewed"},
}


def write_bib(path: Path, **changes) -> None:
    ref = {**REF, **changes}
    path.write_text(yaml.safe_dump({"references": [ref]}, sort_keys=False), encoding="utf-8")


def convert(bib: Path, text: str, md: markdown.Markdown | None = None) -> str:
    md = md or markdown.Markdown(extensions=["citereview"], extension_configs={
        "citereview": {"bibliography": str(bib), "docs_dir": str(bib.parent)}})
    return md.convert(text)


def test_bibliography_edits_show_on_the_next_conversion(tmp_path: Path) -> None:
    bib = tmp_path / "bib.yaml"
    write_bib(bib)
    page = "Claim [@trial2006].\n"
    assert "cr-status--unreviewed" in convert(bib, page)
    # The same page text (its tokenised form and plan are cached) after a status change.
    write_bib(bib, review={"status": "disputed", "reviewer": "A. Reviewer", "date": "2026-11-01",
                           "note": "Does not support the claim."})
    out = convert(bib, page)
    assert "cr-status--disputed" in out and "cr-status--unreviewed" not in out
    write_bib(bib, title="A corrected title")
    assert "A corrected title" in convert(bib, page)


def test_page_edits_show_and_numbering_restarts(tmp_path: Path) -> None:
    bib = tmp_path / "bib.yaml"
    write_bib(bib)
    first = convert(bib, "One [@trial2006].\n")
    second = convert(bib, "One [@trial2006]. Two [@trial2006, p. 3].\n")
    assert first.count('class="cr-cite"') == 1
    assert second.count('class="cr-cite"') == 2 and "(p. 3)" in second
    assert 'id="cite-trial2006-2"' in second  # the re-citation got its own back-link anchor


def test_converting_twice_without_reset_gives_the_same_page(tmp_path: Path) -> None:
    """Python-Markdown callers may skip ``reset()``; citations must not pile up."""
    bib = tmp_path / "bib.yaml"
    write_bib(bib)
    md = markdown.Markdown(extensions=["citereview"], extension_configs={
        "citereview": {"bibliography": str(bib), "docs_dir": str(tmp_path)}})
    text = "Claim [@trial2006] and a gap [citation needed].\n"
    assert convert(bib, text, md) == convert(bib, text, md)
    assert 'id="needed-1"' in convert(bib, "Only a gap [citation needed].\n", md)


def test_an_old_unchanged_bibliography_is_not_read_again(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    bib = tmp_path / "bib.yaml"
    write_bib(bib)
    past = time.time() - 3600
    os.utime(bib, (past, past))
    first = bibmod.load(bib)
    monkeypatch.setattr(Path, "read_bytes", lambda self: pytest.fail(f"{self} was read again"))
    assert bibmod.load(bib) is first


def test_a_fresh_rewrite_with_the_same_stamp_is_still_seen(tmp_path: Path) -> None:
    """Within the timestamp granularity a rewrite may keep size and mtime: hash again."""
    bib = tmp_path / "bib.yaml"
    write_bib(bib, title="Title A")
    stat = bib.stat()
    assert bibmod.load(bib).references["trial2006"].title == "Title A"
    write_bib(bib, title="Title B")  # same length, and the stamp forced back
    os.utime(bib, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert bibmod.load(bib).references["trial2006"].title == "Title B"


@pytest.fixture
def between_builds_off():
    """Leave the process as a one-off build has it, whatever the test switched on."""
    yield
    cache.keep_between_builds(False)


def test_a_one_off_build_keeps_no_page_text_or_citation_markup(tmp_path: Path, between_builds_off) -> None:
    """Within one build no page is converted twice: holding every page's tokenised text and
    rendered citations only raised the build's peak memory."""
    bib = tmp_path / "bib.yaml"
    write_bib(bib)
    cache.keep_between_builds(False)
    out = convert(bib, "One [@trial2006]. Two [@trial2006, p. 3].\n")
    assert out.count('class="cr-cite"') == 2
    assert len(processors._plans) == 0 and len(tokens._tokenised) == 0


def test_serve_keeps_pages_between_rebuilds_and_reuses_them(tmp_path: Path, between_builds_off) -> None:
    """``mkdocs serve`` (the plugin's on_startup) and the ``rebuild_cache`` option keep them."""
    from citereview.mkdocs.plugin import CiteReviewPlugin

    bib = tmp_path / "bib.yaml"
    write_bib(bib)
    page = "One [@trial2006]. Two [@trial2006, p. 3].\n"
    plugin = CiteReviewPlugin()
    plugin.on_startup(command="serve", dirty=False)
    first = convert(bib, page)
    plan = next(iter(processors._plans.values()))
    assert convert(bib, page) == first and next(iter(processors._plans.values())) is plan
    assert len(tokens._tokenised) == 1
    plugin.on_startup(command="build", dirty=False)  # a later one-off build drops them
    assert len(processors._plans) == 0 and len(tokens._tokenised) == 0

    md = markdown.Markdown(extensions=["citereview"], extension_configs={"citereview": {
        "bibliography": str(bib), "docs_dir": str(tmp_path), "rebuild_cache": True}})
    assert convert(bib, page, md) == first
    assert len(processors._plans) == 1 and len(tokens._tokenised) == 1


def test_page_sources_are_summarised_between_reads(tmp_path: Path) -> None:
    """The References page reads every page; what is kept of each between reads is its
    title and cited keys, and a page read again from that summary still has its text."""
    import dataclasses

    from citereview.core import sources

    text = "---\ntitle: Front\n---\n# A page\n\nClaim [@trial2006; @other2001, p. 4].\n"
    (tmp_path / "page.md").write_text(text, encoding="utf-8")
    first = sources.read_page(tmp_path, "page.md")
    assert first is not None and first.keys() == {"trial2006", "other2001"}
    _stamp, summary = sources._cache[str(tmp_path / "page.md")]
    assert [f.name for f in dataclasses.fields(summary)] == ["title", "undecodable", "counts", "misplaced"]
    again = sources.read_page(tmp_path, "page.md")
    assert again is not None and again is not first
    assert (again.title, again.keys(), again.text) == (first.title, first.keys(), text)
    assert [o.line for o in again.occurrences] == [6]


def test_a_page_is_scanned_once_for_its_keys_and_its_misplaced_citations(tmp_path: Path) -> None:
    """The References page asks every page for its keys, and each page's checks ask for its
    misplaced citations: one scan answers both, and the summary keeps both between reads."""
    from citereview.core import sources, syntax

    text = "# A page\n\nClaim [@trial2006].\n\n<div>Raw [@other2001]</div>\n"
    (tmp_path / "page.md").write_text(text, encoding="utf-8")
    syntax._all_groups.cache_clear()
    first = sources.read_page(tmp_path, "page.md")
    assert first is not None and first.keys() == {"trial2006"}
    for _ in range(syntax.SCANS_REMEMBERED):  # other pages push this one's scan out
        syntax._all_groups(f"Other [@x{_}].", True)
    again = sources.read_page(tmp_path, "page.md")
    assert again is not None
    scans = syntax._all_groups.cache_info().misses
    assert [(m.line, m.text, m.place) for m in again.misplaced] == [(5, "[@other2001]", "a raw HTML block")]
    assert syntax._all_groups.cache_info().misses == scans, "the misplaced citations were scanned again"


def test_serve_reports_an_unchanged_pages_problems_on_every_rebuild(tmp_path: Path, between_builds_off,
                                                                    caplog) -> None:
    """Page findings are reused between ``serve`` rebuilds, and still reported each time; a
    bibliography edit that fixes the key is seen at once."""
    import logging

    from citereview.mdext.state import STATE, current_page

    bib = tmp_path / "bib.yaml"
    write_bib(bib)
    (tmp_path / "page.md").write_text("Claim [@trial2007].\n", encoding="utf-8")
    cache.keep_between_builds(True)

    def build() -> list[str]:
        STATE.new_build()
        token = current_page.set("page.md")
        try:
            with caplog.at_level(logging.INFO, logger="mkdocs.extensions.citereview"):
                caplog.clear()
                convert(bib, (tmp_path / "page.md").read_text(encoding="utf-8"))
        finally:
            current_page.reset(token)
        return [r.getMessage() for r in caplog.records if "trial2007" in r.getMessage()]

    first = build()
    assert first and "unknown citation key 'trial2007'" in first[0]
    assert len(processors._page_findings) == 1
    assert build() == first  # reused, and reported again
    write_bib(bib, id="trial2007")
    assert build() == []


def test_a_page_read_twice_in_a_row_is_read_from_disk_once(tmp_path: Path, monkeypatch) -> None:
    """The MkDocs plugin reads each page (its encoding check) just before the page's own checks
    ask for its text: the second read reuses the first's text; an older page's does not."""
    from citereview.core import sources

    for name in ("a.md", "b.md"):
        (tmp_path / name).write_text(f"# {name}\n\nClaim [@trial2006].\n", encoding="utf-8")
    sources.read_page(tmp_path, "a.md")
    reads: list[str] = []
    real = sources._read_text
    monkeypatch.setattr(sources, "_read_text", lambda full: reads.append(full) or real(full))
    assert sources.read_page(tmp_path, "a.md").text == "# a.md\n\nClaim [@trial2006].\n"  # type: ignore[union-attr]
    assert reads == []
    sources.read_page(tmp_path, "b.md")
    assert sources.read_page(tmp_path, "a.md").text.startswith("# a.md")  # type: ignore[union-attr]
    assert reads == [str(tmp_path / "a.md")]
