"""Claim-level review: a review belongs to a sentence, goes stale when its words change.

Package tests on their own fixtures (a small project in a temporary folder, with the
package's fixture bibliography and review records written by the tests); never the site's
content, which records no review.
"""

from __future__ import annotations

import logging
import os
import re
import select
import shutil
import subprocess
import sys
import time
from pathlib import Path

import markdown
import pytest

from citereview.cli.check import run_check
from citereview.cli.commands import main
from citereview.cli.diffscope import parse_diff
from citereview.core import reviews as reviewmod
from citereview.core.claims import claim_text, fingerprint, plain_diff
from citereview.core.project import Project
from citereview.core.queue import project_queue
from citereview.mdext.state import STATE, current_page

FIXTURES = Path(__file__).parent / "fixtures" / "citations"
ROOT = Path(__file__).resolve().parent.parent

TRIAL = "Ketamine lifted mood within hours in a small trial."
PAGE = f"""# Claims

{TRIAL[:-1]} [@trial2006].

Rats formed new synapses [@rat2010]. Something else entirely.

Rats formed new synapses [@rat2010].
"""


def make_project(root: Path, page: str = PAGE) -> Path:
    """A minimal MkDocs project: one page, the fixture bibliography, no reviews yet."""
    (root / "docs").mkdir(parents=True)
    shutil.copy(FIXTURES / "bibliography.yaml", root / "docs" / "bibliography.yaml")
    (root / "docs" / "index.md").write_text(page, encoding="utf-8")
    (root / "mkdocs.yml").write_text(
        "site_name: Claims\nsite_dir: site\ntheme:\n  name: material\nexclude_docs: |\n  *.yaml\nplugins:\n  - citereview\n"
        "markdown_extensions:\n  - citereview:\n      bibliography: docs/bibliography.yaml\n", encoding="utf-8")
    return root


def review(root: Path, sentence: str, key: str, verdict: str = "supports", locator: str = "",
           date: str = "2026-11-02") -> None:
    text = claim_text(sentence)
    reviewmod.add(root / "docs" / "reviews.yaml", reviewmod.ReviewRecord(
        page="index.md", key=key, sentence=text, fingerprint=fingerprint(text), verdict=verdict,
        reviewer="Test Reviewer", date=date, locator=locator))


def render(root: Path) -> str:
    STATE.clear()
    token = current_page.set("index.md")
    try:
        md = markdown.Markdown(extensions=["citereview"], extension_configs={"citereview": {
            "bibliography": str(root / "docs" / "bibliography.yaml"), "docs_dir": str(root / "docs")}})
        return md.convert((root / "docs" / "index.md").read_text(encoding="utf-8"))
    finally:
        current_page.reset(token)


def statuses(html: str) -> list[str]:
    return re.findall(r'data-review="([a-z]+)"', html)


def edit(root: Path, old: str, new: str) -> None:
    path = root / "docs" / "index.md"
    path.write_text(path.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")


def check_messages(root: Path) -> list[str]:
    cwd = os.getcwd()
    os.chdir(root)
    try:
        return [str(d) for d in run_check(Project.load("mkdocs.yml")).diagnostics]
    finally:
        os.chdir(cwd)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return make_project(tmp_path / "project")


# -- statuses -----------------------------------------------------------------------------
def test_nothing_reviewed_means_every_claim_unreviewed(project: Path) -> None:
    assert statuses(render(project)) == ["unreviewed"] * 3


def test_a_reviewed_sentence_is_verified_and_only_that_one(project: Path) -> None:
    review(project, TRIAL, "trial2006")
    assert statuses(render(project)) == ["verified", "unreviewed", "unreviewed"]
    assert not [m for m in check_messages(project) if "'trial2006'" in m]


def test_changing_one_word_makes_it_stale_and_undoing_restores_it(project: Path) -> None:
    review(project, TRIAL, "trial2006")
    edit(project, "within hours", "within days")
    html = render(project)
    assert statuses(html) == ["stale", "unreviewed", "unreviewed"]
    assert "changed since checked on 2 November 2026" in html
    stale = [m for m in check_messages(project) if "'trial2006'" in m]
    assert stale == [f"docs/index.md:3:51: warning: claim citing 'trial2006' changed since it was checked on "
                     f"2026-11-02 (verdict: supports, by Test Reviewer): was “{TRIAL}”; now "
                     f"“{TRIAL.replace('hours', 'days')}”; review it again"]
    edit(project, "within days", "within hours")
    assert statuses(render(project)) == ["verified", "unreviewed", "unreviewed"]


def test_moving_the_sentence_keeps_its_review(project: Path) -> None:
    review(project, TRIAL, "trial2006")
    # Another line, another paragraph, wrapped differently, with a new sentence before it.
    edit(project, f"{TRIAL[:-1]} [@trial2006].\n", "")
    edit(project, "Something else entirely.", "Something else entirely.\n\nIntro sentence. Ketamine lifted "
         "mood within hours\nin a small trial [@trial2006].")
    html = render(project)
    assert statuses(html).count("verified") == 1 and statuses(html).count("stale") == 0


def test_a_new_sentence_citing_a_reviewed_source_is_unreviewed(project: Path) -> None:
    review(project, TRIAL, "trial2006")
    edit(project, "Something else entirely.", "A brand-new claim [@trial2006].")
    assert statuses(render(project)) == ["verified", "unreviewed", "unreviewed", "unreviewed"]


def test_the_same_sentence_twice_on_a_page_is_one_claim(project: Path) -> None:
    review(project, "Rats formed new synapses.", "rat2010")
    assert statuses(render(project)) == ["unreviewed", "verified", "verified"]


def test_two_citations_of_one_source_in_a_sentence_by_locator(project: Path) -> None:
    edit(project, "Something else entirely.", "Doses differed [@trial2006, p. 2] and so did effects "
         "[@trial2006, p. 5].")
    review(project, "Doses differed and so did effects.", "trial2006", locator="p. 2")
    # Same sentence, other locator: a different claim, still to review.
    assert statuses(render(project)) == ["unreviewed", "unreviewed", "verified", "unreviewed", "unreviewed"]


def test_verdicts_and_source_facts(project: Path) -> None:
    edit(project, "Something else entirely.", "A retracted claim [@retracted99].")
    review(project, TRIAL, "trial2006", verdict="partly")
    review(project, "Rats formed new synapses.", "rat2010", verdict="does-not-support")
    review(project, "A retracted claim.", "retracted99")  # the source's retraction wins
    html = render(project)
    assert statuses(html) == ["partly", "disputed", "retracted", "disputed"]
    assert "1 is only partly supported by its source" in html
    assert "1 cites a retracted source" in html


def test_reference_level_verified_is_an_error_in_check_and_build(project: Path) -> None:
    bib = project / "docs" / "bibliography.yaml"
    bib.write_text(bib.read_text(encoding="utf-8").replace(
        "review: {status: unreviewed}", "review: {status: verified, reviewer: A, date: 2026-01-01}", 1),
        encoding="utf-8")
    errors = [m for m in check_messages(project) if ": error: " in m]
    assert errors and "docs/bibliography.yaml:" in errors[0] and "no longer records a review" in errors[0]
    proc = _mkdocs(project)
    assert proc.returncode != 0 and "no longer records a review" in proc.stdout


@pytest.mark.parametrize(("change", "message"), [
    (lambda t: t.replace("verdict: supports", "verdict: fine"), "docs/reviews.yaml:6:1: error: unknown verdict 'fine'"),
    (lambda t: t.replace("Ketamine lifted", "Ketamine raised"), "docs/reviews.yaml:6:1: error: fingerprint"),
    (lambda t: t + t.split("reviews:\n", 1)[1], "docs/reviews.yaml:13:1: error: duplicate review of the same claim"),
    (lambda t: t.replace("date: '2026-11-02'", "date: 2026-13-01"), "review date '2026-13-01' is not a date"),
    (lambda t: t.replace("  reviewer: Test Reviewer\n", ""), "review record is missing reviewer"),
])
def test_bad_review_records_fail_check_and_build_with_file_and_line(project: Path, change, message: str) -> None:
    review(project, TRIAL, "trial2006")
    path = project / "docs" / "reviews.yaml"
    path.write_text(change(path.read_text(encoding="utf-8")), encoding="utf-8")
    found = [m for m in check_messages(project) if ": error: " in m]
    assert any(message in m for m in found), found
    proc = _mkdocs(project)
    assert proc.returncode != 0, proc.stdout
    assert any(message.split(" error: ")[-1] in line for line in proc.stdout.splitlines()), proc.stdout
    assert "Traceback" not in proc.stdout


def _mkdocs(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(root / "out")],
                          cwd=root, env={**os.environ, "NO_MKDOCS_2_WARNING": "1"}, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=600, check=False)


def test_built_site_and_references_page_show_claim_statuses(project: Path) -> None:
    (project / "docs" / "references.md").write_text("# References\n\n[bibliography]\n", encoding="utf-8")
    review(project, TRIAL, "trial2006")
    review(project, "Rats formed new synapses.", "rat2010")
    edit(project, "Something else entirely.", "Something else again.")  # not a cited sentence
    edit(project, "within hours", "within days")
    proc = _mkdocs(project)
    assert proc.returncode == 0, proc.stdout
    page = (project / "out" / "index.html").read_text(encoding="utf-8")
    assert statuses(page) == ["stale", "verified", "verified"]
    refs = (project / "out" / "references" / "index.html").read_text(encoding="utf-8")
    assert re.search(r'id="ref-trial2006".*?Claims verified by a reviewer: 0 of 1\.', refs, re.S)
    assert re.search(r'id="ref-rat2010".*?Claims verified by a reviewer: 2 of 2\.', refs, re.S)


# -- the queue ------------------------------------------------------------------------------
def test_queue_lists_stale_claims_first_with_old_and_new_text(project: Path, capsys) -> None:
    review(project, TRIAL, "trial2006")
    edit(project, "within hours", "within days")
    cwd = os.getcwd()
    os.chdir(project)
    try:
        assert main(["queue"]) == 0
    finally:
        os.chdir(cwd)
    out = capsys.readouterr().out
    by_page = out.split("== By page ==")[1]
    first = by_page.index("Changed since checked on 2 November 2026")
    assert first < by_page.index("claims not yet reviewed")
    assert f"was: “{TRIAL}”" in by_page
    assert "diff: Ketamine lifted mood within [-hours-] {+days+} in a small trial." in by_page


def test_word_diff() -> None:
    assert plain_diff("a b c d", "a x c d e") == "a [-b-] {+x+} c d {+e+}"


# -- the review command ---------------------------------------------------------------------
def run_cli(root: Path, *args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "100", "GIT_CONFIG_GLOBAL": os.devnull,
           "GIT_CONFIG_SYSTEM": os.devnull}
    return subprocess.run([sys.executable, "-m", "citereview", "review", *args], cwd=root, env=env, text=True,
                          input=input, capture_output=True, timeout=600, check=False)


def test_review_flags_record_one_claim_and_touch_nothing_else(project: Path) -> None:
    before = {p: p.read_bytes() for p in (project / "docs").iterdir()}
    proc = run_cli(project, "--page", "docs/index.md", "--line", "3", "--key", "trial2006",
                   "--verdict", "supports", "--reviewer", "Ann Reviewer", "--date", "2026-12-01", "--note", "Fig 1")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "recorded: docs/index.md:3 trial2006 supports"
    assert {p: p.read_bytes() for p in before} == before  # pages and bibliography untouched
    [rec] = reviewmod.load(project / "docs" / "reviews.yaml").records
    assert (rec.page, rec.key, rec.sentence, rec.verdict, rec.reviewer, rec.date, rec.note) == (
        "index.md", "trial2006", TRIAL, "supports", "Ann Reviewer", "2026-12-01", "Fig 1")
    assert statuses(render(project))[0] == "verified"


def test_review_flags_report_missing_citation_and_missing_name(project: Path) -> None:
    proc = run_cli(project, "--page", "docs/index.md", "--line", "4", "--key", "trial2006",
                   "--verdict", "supports", "--reviewer", "A")
    assert proc.returncode == 1 and "no citation of 'trial2006' on docs/index.md:4" in proc.stderr
    proc = run_cli(project, "--page", "docs/index.md", "--line", "3", "--key", "trial2006", "--verdict", "partly")
    assert proc.returncode == 2 and "--reviewer" in proc.stderr
    assert not (project / "docs" / "reviews.yaml").exists()


def test_reviewing_a_stale_claim_replaces_the_old_record(project: Path) -> None:
    review(project, TRIAL, "trial2006")
    edit(project, "within hours", "within days")
    proc = run_cli(project, "--reviewer", "B", "--date", "2026-12-02", input="d\nq\n")
    assert proc.returncode == 0, proc.stderr
    assert "[-hours-] {+days+}" in proc.stdout  # the word diff, readable without colour
    records = reviewmod.load(project / "docs" / "reviews.yaml").records
    assert [(r.sentence, r.verdict) for r in records] == [(TRIAL.replace("hours", "days"), "does-not-support")]
    assert statuses(render(project))[0] == "disputed"


def test_review_interactively_through_a_terminal(project: Path) -> None:
    """Drive the real command through a pseudo-terminal, as a reviewer types."""
    import pty

    master, slave = pty.openpty()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "100", "TERM": "xterm"}
    proc = subprocess.Popen([sys.executable, "-m", "citereview", "review", "--reviewer", "Pat", "--date",
                             "2026-12-03", "--key", "rat2010"], cwd=project, env=env,
                            stdin=slave, stdout=slave, stderr=slave, close_fds=True)
    os.close(slave)
    seen = b""

    def read_until(marker: bytes) -> None:
        nonlocal seen
        deadline = time.monotonic() + 120  # generous: the suite may share a busy machine
        while marker not in seen:
            assert time.monotonic() < deadline, seen.decode(errors="replace")
            ready, _, _ = select.select([master], [], [], 1)
            if ready:
                try:
                    seen += os.read(master, 4096)
                except OSError:
                    break
        seen = seen[seen.index(marker) + len(marker):]

    try:
        read_until(b"Claim 1 of 1")  # two identical sentences: one claim
        read_until(b"Verdict:")
        os.write(master, b"n\r")
        read_until(b"Note")
        os.write(master, b"Figure 3\r")
        read_until(b"Verdict:")
        os.write(master, b"p\r")
        read_until(b"recorded in")
        assert proc.wait(timeout=120) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)
    [rec] = reviewmod.load(project / "docs" / "reviews.yaml").records
    assert (rec.key, rec.verdict, rec.reviewer, rec.note) == ("rat2010", "partly", "Pat", "Figure 3")
    assert statuses(render(project)) == ["unreviewed", "partly", "partly"]


# -- pull requests ----------------------------------------------------------------------------
def test_parse_diff_lines() -> None:
    diff = ("diff --git a/docs/a.md b/docs/a.md\n--- a/docs/a.md\n+++ b/docs/a.md\n@@ -3 +3 @@\n-x\n+y\n"
            "@@ -9,0 +10,2 @@\n+p\n+q\n--- a/docs/gone.md\n+++ /dev/null\n@@ -1 +0,0 @@\n-z\n")
    assert parse_diff(diff) == {"docs/a.md": {3, 10, 11}}


def _git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=T", "-c", "user.email=t@example.org", *args], cwd=root,
                   check=True, capture_output=True, timeout=120)


def test_check_base_annotates_only_what_the_change_touches(project: Path) -> None:
    review(project, TRIAL, "trial2006")
    _git(project, "init", "-q")
    _git(project, "add", "-A")
    _git(project, "commit", "-qm", "base")
    edit(project, "within hours", "within days")
    edit(project, "Something else entirely.", "A new claim [@outdated2001].")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-m", "citereview", "check", "--format", "github", "--changed",
                           "docs/index.md", "--base", "HEAD"], cwd=project, env=env, text=True,
                          capture_output=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == 3, lines  # the invalidated review and the new line's two claims
    assert lines[0].startswith("::warning file=docs/index.md,line=3,") and "changed since" in lines[0]
    assert all("line=5," in line for line in lines[1:]), lines
    queue = subprocess.run([sys.executable, "-m", "citereview", "queue", "--format", "markdown", "--changed",
                            "docs/index.md", "--base", "HEAD"], cwd=project, env=env, text=True,
                           capture_output=True, timeout=600, check=False)
    assert queue.returncode == 0, queue.stderr
    assert queue.stdout.startswith("## Reviews this change invalidates (1)\n")
    assert "## New claims needing review (2)" in queue.stdout
    assert "Changes: Ketamine lifted mood within ~~hours~~ **days**" in queue.stdout


def test_job_summary_fits_github_limit_for_5000_references(tmp_path: Path) -> None:
    from citereview.cli.queue import render_markdown

    root = tmp_path / "big"
    (root / "docs").mkdir(parents=True)
    refs = ["references:"]
    for n in range(5000):
        refs += [f"  - id: ref{n}", "    type: article-journal", f"    title: A reasonably long title of study {n}",
                 f"    author: [{{family: Author{n}, given: A.}}, {{family: Other, given: B.}}]",
                 "    container-title: Journal", "    issued: {date-parts: [[2020]]}"]
    (root / "docs" / "bibliography.yaml").write_text("\n".join(refs) + "\n", encoding="utf-8")
    for p in range(50):
        body = "\n\n".join(f"Claim number {n} says something about ketamine [@ref{n}]."
                           for n in range(p * 100, p * 100 + 100))
        (root / "docs" / f"page{p}.md").write_text(f"# Page {p}\n\n{body}\n", encoding="utf-8")
    (root / "mkdocs.yml").write_text("site_name: Big\nmarkdown_extensions:\n  - citereview\n", encoding="utf-8")
    project = Project.load(root / "mkdocs.yml")
    q = project_queue(project)
    lines = {project.page_display("page0.md"): {3, 5}}
    full = render_markdown(q, project.config, lines=lines, budget=10**9)
    assert len(full.encode()) > 2**20  # without the cap GitHub would reject it
    text = render_markdown(q, project.config, lines=lines)
    assert len(text.encode()) < 2**20
    assert text.startswith("## Reviews this change invalidates (0)")
    assert "## New claims needing review (2)" in text
    assert text.rstrip().endswith("for all of it.")
    assert text.count("<details>") == text.count("</details>")


# -- engines ----------------------------------------------------------------------------------
@pytest.mark.engines
def test_zensical_renders_the_same_statuses(tmp_path: Path) -> None:
    from tests.conftest import build_site

    results = {}
    for engine in ("mkdocs", "zensical"):
        root = make_project(tmp_path / engine)
        review(root, TRIAL, "trial2006")
        review(root, "Rats formed new synapses.", "rat2010", verdict="partly")
        edit(root, "within hours", "within days")
        proc = build_site(root / "site", engine=engine, cwd=root)
        assert proc.returncode == 0, proc.stdout
        html = (root / "site" / "index.html").read_text(encoding="utf-8")
        results[engine] = re.findall(r'<a class="cr-cite__num[^>]*>', html)
    assert [re.search(r'data-review="(\w+)"', a).group(1) for a in results["mkdocs"]] == [
        "stale", "partly", "partly"]
    assert results["zensical"] == results["mkdocs"]


def test_page_sentences_match_between_check_and_build(project: Path, caplog) -> None:
    """The build finds each sentence in the engine's text (front matter removed), the checker
    in the file: with front matter and no blank line after it, both must agree."""
    text = "---\ntitle: Claims\n---\n" + f"{TRIAL[:-1]} [@trial2006].\n"
    (project / "docs" / "index.md").write_text(text, encoding="utf-8")
    review(project, TRIAL, "trial2006")
    with caplog.at_level(logging.INFO):
        html = render(project)
    assert statuses(html) == ["verified"]
    assert not [m for m in check_messages(project) if "trial2006" in m]


def test_records_nothing_uses_any_more_are_listed(project: Path) -> None:
    review(project, TRIAL, "trial2006")
    review(project, "Rats formed new synapses.", "rat2010")
    edit(project, f"{TRIAL[:-1]} [@trial2006].\n", "")  # the reviewed claim is gone
    path = project / "docs" / "reviews.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("page: index.md\n  key: rat2010",
                                                             "page: gone.md\n  key: rat2010"), encoding="utf-8")
    notices = [m for m in check_messages(project) if m.startswith("docs/reviews.yaml")]
    assert notices == [
        "docs/reviews.yaml:6:1: notice: review of 'rat2010' names page gone.md, which does not exist; delete "
        "the record, or fix the page path if the page was renamed",
        f"docs/reviews.yaml:13:1: notice: review of 'trial2006' on index.md matches no citation there any more "
        f"(“{TRIAL}”); delete the record if the claim was removed",
    ]


def test_show_statuses_leaves_unlisted_statuses_unmarked(project: Path) -> None:
    """A site may mark only problems: unlisted statuses render as plain citations, are not
    counted in the notice, and keep their data-review attribute and accessible label."""
    edit(project, "Something else entirely.", "A retracted claim [@retracted99].")
    STATE.clear()
    token = current_page.set("index.md")
    try:
        md = markdown.Markdown(extensions=["citereview"], extension_configs={"citereview": {
            "bibliography": str(project / "docs" / "bibliography.yaml"), "docs_dir": str(project / "docs"),
            "show_statuses": ["retracted", "outdated", "disputed"]}})
        html = md.convert((project / "docs" / "index.md").read_text(encoding="utf-8"))
    finally:
        current_page.reset(token)
    links = re.findall(r'<a class="cr-cite__num[^"]*"[^>]*>', html)
    assert [re.search(r'class="([^"]*)"', a).group(1) for a in links] == [
        "cr-cite__num", "cr-cite__num", "cr-cite__num cr-status--retracted", "cr-cite__num"]
    assert statuses(html) == ["unreviewed", "unreviewed", "retracted", "unreviewed"]
    assert 'aria-label="Reference 1, not yet reviewed"' in html
    assert "1 of 4 cited claims on this page has not been verified" in html
    assert "1 cites a retracted source" in html


def test_show_statuses_rejects_unknown_names() -> None:
    from citereview.mdext.extension import CiteReviewExtension, OptionError

    with pytest.raises(OptionError, match="unknown: fine"):
        CiteReviewExtension(show_statuses=["verified", "fine"])
