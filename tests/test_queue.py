"""The review queue: what is flagged, how it is grouped and linked, and the real site page."""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as etree
from pathlib import Path

import pytest
from markdown import Markdown

from citereview.cli.check import Project
from citereview.cli.queue import render_markdown, render_text
from citereview.core.project import EditLinks
from citereview.core.queue import FOLD_AFTER, project_queue
from citereview.mdext.extension import CiteReviewExtension
from citereview.mdext.queuepage import build_queue

from .conftest import ROOT

OK = ROOT / "tests" / "fixtures" / "checker" / "ok"
TODAY = dt.date(2026, 11, 24)


@pytest.fixture(autouse=True)
def _at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    monkeypatch.delenv("CITEREVIEW_FIXTURE_REPO", raising=False)


def ok_queue(**kwargs):
    return project_queue(Project.load(OK / "mkdocs.yml"), today=TODAY, **kwargs)


def test_counts() -> None:
    q = ok_queue()
    assert {code: n for code, _, n in q.counts()} == {
        "stale": 0, "partly": 0, "retracted": 0, "disputed": 1, "outdated": 0, "unreviewed": 4, "needed": 2,
        "unknown-key": 0,
        "no-identifier": 1, "page-overdue": 1, "page-unreviewed": 1, "unused": 1,
        "fact-expired": 0, "fact-overage": 0,
    }


def test_items_carry_sentence_position_and_anchor() -> None:
    q = ok_queue()
    disputed = q.of("cite", "disputed")
    assert [(i.page, i.line, i.col, i.key, i.anchor, i.sentence, i.detail) for i in disputed] == [
        ("topic.md", 12, 29, "argued2019", "ref-argued2019", "Rats did better on the drug.",
         "Does not report the figure quoted."),
    ]
    assert [(i.page, i.anchor, i.sentence) for i in q.of("needed")] == [
        ("topic.md", "needed-1", "An unsupported statement."),
        ("topic.md", "needed-2", "Another unsupported one."),
    ]
    assert [(i.page, i.detail) for i in q.of("page-overdue")] == [("topic.md", "2021-01-15")]
    assert [i.page for i in q.of("page-unreviewed")] == ["draft.md"]  # references.md makes no claims
    assert [(i.key, i.page, i.anchor) for i in q.of("no-identifier")] == [("noident2018", "references.md",
                                                                          "ref-noident2018")]
    assert [i.key for i in q.of("unused")] == ["spare2017"]


def test_verified_references_are_not_queued() -> None:
    assert not [i for i in ok_queue().items if i.key == "verified2020"]


def test_changed_limits_to_those_pages_and_their_references() -> None:
    q = ok_queue(changed=[str(OK / "docs" / "draft.md")])
    assert {(i.code, i.page, i.key) for i in q.items} == {
        ("page-unreviewed", "draft.md", None), ("cite", "draft.md", "pending2021"),
    }
    q = ok_queue(changed=[str(OK / "docs" / "bibliography.yaml")])
    assert {i.code for i in q.items} == {"no-identifier", "unused"}


def test_edit_links_from_config_with_env(monkeypatch: pytest.MonkeyPatch) -> None:
    q = ok_queue()
    assert q.edit.url("topic.md") == "https://github.com/example/fixture/edit/main/docs/topic.md"
    monkeypatch.setenv("CITEREVIEW_FIXTURE_REPO", "https://gitlab.com/fork/site")
    q = ok_queue()
    assert q.edit.url("topic.md") == "https://gitlab.com/fork/site/edit/main/docs/topic.md"


def test_edit_links_missing_keys_and_templates() -> None:
    assert EditLinks.from_config({}).url("a.md") is None
    assert EditLinks.from_config({"repo_url": "https://example.org/git/x"}).url("a.md") is None
    assert EditLinks.from_config({"repo_url": "https://github.com/o/r"}).url("a.md") == \
        "https://github.com/o/r/edit/master/docs/a.md"  # MkDocs' default for GitHub
    assert EditLinks.from_config({"repo_url": "https://github.com/o/r/", "edit_uri": "blob/dev/site/"}).url(
        "b/c.md") == "https://github.com/o/r/blob/dev/site/b/c.md"
    assert EditLinks.from_config({"repo_url": "https://github.com/o/r",
                                  "edit_uri_template": "src/main/docs/{path_noext}.md?mode=edit"}).url(
        "b/c.md") == "https://github.com/o/r/src/main/docs/b/c.md?mode=edit"
    assert EditLinks.from_config({"edit_uri": "https://example.org/edit/"}).url("a.md") == \
        "https://example.org/edit/a.md"


def test_text_output() -> None:
    text = render_text(ok_queue())
    assert text.startswith("Review queue (2026-11-24): 11 item(s)\n")
    assert "      1  claims a reviewer found unsupported, or citing disputed sources (1 reference)" in text
    assert "- Argued, 2019 [argued2019]  [tests/fixtures/checker/ok/docs/topic.md:12:29]" in text
    assert "    “Rats did better on the drug.”\n    Reviewer note: Does not report the figure quoted." in text
    assert "-- Topic (tests/fixtures/checker/ok/docs/topic.md)\nPage review overdue since 2021-01-15." in text


def test_markdown_output_links_site_and_edit() -> None:
    md = render_markdown(ok_queue(), Project.load(OK / "mkdocs.yml").config)
    assert "| claims a reviewer found unsupported, or citing disputed sources (1 reference) | 1 |" in md
    assert ("- [Citation needed](https://example.org/fixture/topic/#needed-2) "
            "`tests/fixtures/checker/ok/docs/topic.md:16:56` · "
            "[edit](https://github.com/example/fixture/edit/main/docs/topic.md)") in md
    assert "#### [Home](https://example.org/fixture/)" in md
    assert "<details>" not in md  # nothing here is big enough to fold


def test_large_groups_are_folded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    n = FOLD_AFTER + 3
    (tmp_path / "docs").mkdir()
    refs = "".join(f"- id: r{i}\n  type: book\n  title: Book {i}\n  evidence: other\n" for i in range(n))
    (tmp_path / "docs" / "bibliography.yaml").write_text("references:\n" + refs)
    body = " ".join(f"Claim {i} [@r{i}]." for i in range(n))
    (tmp_path / "docs" / "a.md").write_text(f"# A\n\n{body}\n")
    (tmp_path / "mkdocs.yml").write_text("site_name: x\n")
    monkeypatch.chdir(tmp_path)
    q = project_queue(Project.load("mkdocs.yml"), today=TODAY)
    md = render_markdown(q, {})
    assert f"<details><summary>Show {n}</summary>" in md
    assert f"<details><summary>Claims not yet reviewed ({n} references) ({n} items)</summary>" in md


def _render_block(monkeypatch: pytest.MonkeyPatch) -> tuple[etree.Element, str]:
    """Run build_queue as the extension's block processor would, in the fixture project;
    returns the tree and the HTML it stashed."""
    monkeypatch.chdir(OK)
    ext = CiteReviewExtension(bibliography="docs/bibliography.yaml", docs_dir="docs")
    md = Markdown(extensions=[ext])
    parent = etree.Element("div")
    build_queue(parent, ext)
    return parent, "\n".join(str(block) for block in md.htmlStash.rawHtmlBlocks)


def test_build_queue_tree(monkeypatch: pytest.MonkeyPatch) -> None:
    root, stashed = _render_block(monkeypatch)
    counts = {li.get("data-cr-count"): li.find("strong").text for li in root.iter("li") if li.get("data-cr-count")}
    assert counts["disputed"] == "1" and counts["needed"] == "2" and counts["unused"] == "1"
    hrefs = [a.get("href") for a in root.iter("a")]
    # Links to citation-needed markers are elements (the engine rewrites and checks them);
    # links to reference entries, whose ids live in stashed HTML, are finished HTML.
    assert "topic.md#needed-1" in hrefs and "topic.md#needed-2" in hrefs
    assert not [h for h in hrefs if "#ref-" in h]
    assert 'href="../topic/#ref-argued2019"' in stashed
    assert 'href="../references/#ref-spare2017"' in stashed
    assert "https://github.com/example/fixture/edit/main/docs/topic.md" in hrefs
    assert "https://github.com/example/fixture/edit/main/docs/bibliography.yaml" in hrefs
    assert [h.get("id") for h in root.iter("h2")] == [
        "queue-by-page", "queue-by-reference", "queue-no-identifier", "queue-unused"]
    quotes = [q.text for q in root.iter("q")]
    assert "Rats did better on the drug." in quotes
    # Every list item that names a flagged thing also offers an edit link.
    for li in root.iter("li"):
        if li.find("q") is not None:
            assert any(a.get("class") == "cr-queue__edit" for a in li.findall("a")), etree.tostring(li)


def test_built_site_review_queue_page(built_site: Path) -> None:
    html = (built_site / "review-queue" / "index.html").read_text(encoding="utf-8")
    assert "[review-queue]" not in html, "the [review-queue] marker was not expanded"
    counts = dict(re.findall(r'<li data-ke-count="([a-z-]+)"><strong>(\d+)</strong>', html))
    assert set(counts) >= {"unreviewed", "needed", "no-identifier", "page-unreviewed", "unused"}
    assert int(counts["unreviewed"]) > 0  # every reference starts unreviewed
    # Links into content pages point at anchors the pages really have.
    for page, anchor in set(re.findall(r'href="\.\./([a-z-]+)/#((?:ref|needed)-[^"]+)"', html)):
        target = (built_site / page / "index.html").read_text(encoding="utf-8")
        assert f'id="{anchor}"' in target, (page, anchor)


def test_built_site_content_page_shows_review_line(built_site: Path) -> None:
    html = (built_site / "mechanism" / "index.html").read_text(encoding="utf-8")
    m = re.search(r'<p class="(ke-page-review[^"]*)"[^>]*>(.*?)</p>', html, re.S)
    assert m is not None
    text = " ".join(re.sub(r"<[^>]+>", "", m.group(2)).split())
    assert text == "Not yet reviewed" or re.fullmatch(
        r"Last reviewed \d{4}-\d{2}-\d{2}( by .+)?( · (Next review due|Review overdue since) \d{4}-\d{2}-\d{2})?",
        text), text


def test_a_source_entered_twice_gets_a_section_and_a_count_only_when_there_is_one(tmp_path: Path) -> None:
    import shutil

    from citereview.core.queue import outline

    assert "queue-duplicate-identifier" not in [s.id for s in outline(ok_queue())]
    root = tmp_path / "ok"
    shutil.copytree(OK, root)
    bib = root / "docs" / "bibliography.yaml"
    bib.write_text(bib.read_text(encoding="utf-8") + "- id: spare2017again\n  type: article-journal\n"
                   "  title: Spare, imported twice\n  issued: 2017\n  DOI: 10.1000/SPARE\n", encoding="utf-8")
    q = project_queue(Project.load(root / "mkdocs.yml"), today=TODAY)
    assert [(i.key, i.level) for i in q.of("duplicate-identifier")] == [("spare2017again", "warning")]
    assert ("duplicate-identifier", "references entered twice (same DOI or PMID)", 1) in q.counts()
    section = next(s for s in outline(q) if s.id == "queue-duplicate-identifier")
    assert [e.label for g in section.groups for e in g.entries] == [q.ref_label("spare2017again")]
    assert "references entered twice (same DOI or PMID)" in render_text(q)
