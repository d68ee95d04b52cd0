"""The weekly source watch: ``citereview watch`` (issue body from verify's and check's JSON) and
``.github/workflows/watch.yml`` (triggers, minimal permissions, and its ``gh`` steps run with a
stand-in ``gh`` that records what it was asked to do).

verify's JSON is real output, produced against a local server answering with the canned
Crossref/PubMed records of tests/fixtures/verify. check has no dated-fact findings yet (#17's
markup side adds them); its JSON is real ``check`` output plus diagnostics of the same shape
with the codes the watch filters on (``fact-expired``, ``fact-overage``).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from citereview.cli import verify, watch

from .conftest import ROOT
from .test_verify import CONTACT, FIXTURES, _crossref_works, _esummary_records

WORKFLOW = ROOT / ".github" / "workflows" / "watch.yml"
BLOB = "https://github.com/o/r/blob/abc123"


@pytest.fixture
def server(httpserver: HTTPServer) -> HTTPServer:
    works = _crossref_works()
    records = _esummary_records()
    # A title with an @mention and HTML: must reach the issue as inert text.
    works["10.5555/ketamine.paradigm.2019"]["message"]["author"][0]["family"] = "@octocat <b>Krystal</b>"

    def crossref(request: Request) -> Response:
        doi = request.path.removeprefix("/crossref/works/").lower()
        if doi in works:
            return Response(json.dumps(works[doi]), content_type="application/json")
        return Response("Resource not found.", status=404)

    def esummary(request: Request) -> Response:
        ids = request.args.get("id", "").split(",")
        return Response(json.dumps({"result": {"uids": ids, **{i: records[i] for i in ids if i in records}}}),
                        content_type="application/json")

    httpserver.expect_request(re.compile(r"^/crossref/works/")).respond_with_handler(crossref)
    httpserver.expect_request("/eutils/esummary.fcgi").respond_with_handler(esummary)
    return httpserver


def verify_json(server: HTTPServer, tmp_path: Path, keys: str, name: str = "verify.json") -> Path:
    """Run the real ``verify --online --format json`` for ``keys``; returns the JSON file."""
    bib = tmp_path / "docs" / "bibliography.yaml"
    if not bib.exists():
        bib.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(FIXTURES / "bibliography.yaml", bib)
        (bib.parent / "updates.yaml").write_bytes((FIXTURES / "updates.yaml").read_bytes())
    target = bib if not keys.startswith("updates:") else bib.parent / "updates.yaml"
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", default=str(tmp_path / "mkdocs.yml"))
    verify.add_arguments(parser)
    args = parser.parse_args(["--online", "--format", "json", "--bibliography", str(target), "--contact", CONTACT,
                              "--crossref-url", server.url_for("/crossref"), "--eutils-url", server.url_for("/eutils"),
                              "--rate", "1000", "--no-cache", "--no-progress", "--keys", keys.removeprefix("updates:")])
    out = tmp_path / name
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        verify.run(args)
    out.write_text(buffer.getvalue(), encoding="utf-8")
    return out


def check_json(tmp_path: Path) -> Path:
    """Real ``check`` output of the checker fixture, plus dated-fact diagnostics of the same shape."""
    proc = subprocess.run([sys.executable, "-m", "citereview", "check", "-f", "tests/fixtures/checker/ok/mkdocs.yml",
                           "--format", "json"], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    diagnostics = json.loads(proc.stdout)
    assert diagnostics and not any(d["code"].startswith("fact-") for d in diagnostics)
    diagnostics += [
        {"file": "docs/legal.md", "line": 12, "col": 40, "level": "warning", "code": "fact-expired",
         "message": "dated fact expired on 2026-12-31 (as of 2026-11-24): 'telemedicine flexibilities'"},
        {"file": "docs/legal.md", "line": 30, "col": 5, "level": "warning", "code": "fact-overage",
         "message": "dated fact is 14 months old (as of 2025-10): 'label revised'"},
    ]
    out = tmp_path / "check.json"
    out.write_text(json.dumps(diagnostics), encoding="utf-8")
    return out


def render(tmp_path: Path, verify_file: Path, *extra: str) -> tuple[int, str, str, dict[str, str]]:
    outputs = tmp_path / "outputs.txt"
    outputs.write_text("", encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "citereview", "watch", "--verify", str(verify_file),
                           "--blob-url", BLOB, "--outputs", str(outputs), *extra],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    values = dict(line.split("=", 1) for line in outputs.read_text(encoding="utf-8").splitlines())
    return proc.returncode, proc.stdout, proc.stderr, values


def section(body: str, title: str) -> list[str]:
    """The bullet lines under ``### title (n)``."""
    match = re.search(rf"^### {re.escape(title)} \(\d+\)\n\n.*?\n\n((?:- .*\n)+)", body, re.M)
    return match.group(1).splitlines() if match else []


def test_first_issue_lists_each_kind_in_its_section(server, tmp_path):
    vfile = verify_json(server, tmp_path, "fabricated2018ketamine,notice2021retraction,krystal2019ketamine,"
                                          "ghost2020ketamine,smith2015ketamine")
    code, body, err, outputs = render(tmp_path, vfile, "--check", str(check_json(tmp_path)),
                                      "--run-url", "https://github.com/o/r/actions/runs/1")
    assert code == 0, err
    line = {k: n for n, text in enumerate((tmp_path / "docs" / "bibliography.yaml").read_text().splitlines(), 1)
            for k in [text[6:].split()[0]] if text.startswith("- id: ")}
    link = f"{BLOB}/docs/bibliography.yaml#L"
    assert section(body, "Retractions") == [
        f"- `fabricated2018ketamine` ([`docs/bibliography.yaml:{line['fabricated2018ketamine']}`]"
        f"({link}{line['fabricated2018ketamine']})): DOI 10.5555/retracted.trial.2018: Retraction notice "
        "10.5555/retraction.notice.2021 (Crossref updated-by, source publisher)",
        f"- `smith2015ketamine` ([`docs/bibliography.yaml:{line['smith2015ketamine']}`]"
        f"({link}{line['smith2015ketamine']})): PMID 99999901 is marked 'Retracted Publication' in PubMed"]
    assert section(body, "Expressions of concern")[0].endswith(
        "Expression of concern notice 10.5555/eoc.2019 (Crossref updated-by, source retraction-watch)")
    assert len(section(body, "Notices cited as sources")) == 1
    mismatches = section(body, "Identifier mismatches")
    assert [m.split("`")[1] for m in mismatches] == ["krystal2019ketamine", "ghost2020ketamine"]
    # Outside text is inert: no @mention, no HTML.
    assert "&#64;octocat &lt;b&gt;Krystal&lt;/b&gt;" in mismatches[0] and "@octocat" not in body
    assert section(body, "Expired dated facts") == [
        f"- ([`docs/legal.md:12`]({BLOB}/docs/legal.md#L12)): dated fact expired on 2026-12-31 (as of "
        "2026-11-24): 'telemedicine flexibilities'",
        f"- ([`docs/legal.md:30`]({BLOB}/docs/legal.md#L30)): dated fact is 14 months old (as of 2025-10): "
        "'label revised'"]
    assert "Corrections" not in body  # empty sections are left out
    assert "page never reviewed" not in body  # other check codes are not the watch's business
    assert body.startswith(watch.MARKER) and "([workflow run](https://github.com/o/r/actions/runs/1))" in body
    assert "**8 item(s)**." in body and "**new**" not in body  # a first issue marks nothing as new
    assert outputs == {"items": "8", "new": "8"}
    assert len(re.search(r"<!-- source-watch-ids: ([0-9a-f ]+) -->", body).group(1).split()) == 8


def test_next_run_marks_only_what_is_new(server, tmp_path):
    first = verify_json(server, tmp_path, "fabricated2018ketamine,ghost2020ketamine")
    code, body, _, _ = render(tmp_path, first)
    assert code == 0
    previous = tmp_path / "previous.md"
    previous.write_text(body, encoding="utf-8")
    second = verify_json(server, tmp_path, "fabricated2018ketamine,ghost2020ketamine,smith2015ketamine",
                         name="second.json")
    code, body, _, outputs = render(tmp_path, second, "--previous", str(previous))
    assert code == 0
    new = [line for line in body.splitlines() if line.startswith("- **new** ")]
    assert len(new) == 1 and "`smith2015ketamine`" in new[0]
    assert outputs == {"items": "4", "new": "1"}
    assert "**4 item(s)**, **1 new** since the last run." in body


def test_corrections_and_nothing_to_report(server, tmp_path):
    vfile = verify_json(server, tmp_path, "updates:corrected2017ketamine,erratum2019example")
    code, body, _, outputs = render(tmp_path, vfile)
    assert code == 0 and len(section(body, "Corrections")) == 2 and outputs["items"] == "2"
    clean = verify_json(server, tmp_path, "zarate2006randomized", name="clean.json")
    code, body, _, outputs = render(tmp_path, clean)
    assert code == 0 and "**Nothing to report.**" in body and "###" not in body
    assert outputs == {"items": "0", "new": "0"}


def test_an_aborted_or_malformed_report_renders_nothing(tmp_path):
    aborted = tmp_path / "aborted.json"
    aborted.write_text(json.dumps({"online": True, "findings": [], "aborted": "connection to x refused"}),
                       encoding="utf-8")
    code, body, err, outputs = render(tmp_path, aborted)
    assert (code, body, outputs) == (2, "", {})
    assert err.strip() == (f"{aborted}:1:1: error: verify stopped early (connection to x refused); the issue "
                           "is left as it was")
    broken = tmp_path / "broken.json"
    broken.write_text("checked 3 DOI(s)", encoding="utf-8")
    code, body, err, _ = render(tmp_path, broken)
    assert code == 2 and body == "" and err.startswith(f"{broken}:1:1: error: not the JSON of")
    assert "Traceback" not in err


# --------------------------------------------------------------------------- the workflow file


def load_workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))


def test_workflow_triggers_and_minimal_permissions():
    flow = load_workflow()
    triggers = flow.get("on", flow.get(True))  # YAML 1.1 reads a bare `on` as true
    assert set(triggers) == {"schedule", "workflow_dispatch"}
    crons = [entry["cron"] for entry in triggers["schedule"]]
    assert len(crons) == 1 and len(crons[0].split()) == 5
    minute, hour, dom, month, dow = crons[0].split()
    assert minute.isdigit() and hour.isdigit(), "one fixed time"
    assert (dom, month) == ("*", "*") and dow.isdigit(), "weekly: one day of the week"
    assert flow["permissions"] == {"contents": "read", "issues": "write"}
    for name, job in flow["jobs"].items():
        assert "permissions" not in job, f"job {name} must not widen the workflow's permissions"
    text = WORKFLOW.read_text(encoding="utf-8")
    assert "write-all" not in text and "contents: write" not in text and "git push" not in text


def test_workflow_steps_run_verify_and_watch_with_the_contact_variable():
    job = load_workflow()["jobs"]["watch"]
    assert job["env"]["CITEREVIEW_CONTACT"] == "${{ vars.CITEREVIEW_CONTACT }}"
    uses = [s["uses"] for s in job["steps"] if "uses" in s]
    assert all(re.fullmatch(r"[\w.-]+/[\w.-]+@(v\d+(\.\d+)*|[0-9a-f]{40})", u) for u in uses), uses
    checkout = next(s for s in job["steps"] if s.get("uses", "").startswith("actions/checkout@"))
    assert checkout["with"]["persist-credentials"] is False
    runs = "\n".join(s.get("run", "") for s in job["steps"])
    assert "citereview verify --online --no-cache --format json > verify.json" in runs
    assert "citereview check --format json > check.json" in runs
    assert "citereview watch --verify verify.json --check check.json --previous previous.md" in runs
    # The only write is to issues.
    assert set(re.findall(r"\bgh (\w+ \w+)", runs)) == {
        "issue list", "issue view", "issue edit", "issue comment", "label create", "issue create"}


def _step(name: str) -> dict:
    return next(s for s in load_workflow()["jobs"]["watch"]["steps"] if s.get("name") == name)


def _run_step(name: str, tmp_path: Path, env: dict[str, str], gh_stdout: str = "") -> list[list[str]]:
    """Run one workflow step's script with bash -e (as Actions does) and a recording ``gh``."""
    bindir = tmp_path / "bin"
    bindir.mkdir(exist_ok=True)
    log = tmp_path / "gh.log"
    gh = bindir / "gh"
    gh.write_text(f'#!/bin/sh\nprintf "%s\\0" "$@" >> {log}\nprintf "\\n" >> {log}\nprintf "%s" "{gh_stdout}"\n',
                  encoding="utf-8")
    gh.chmod(0o755)
    (tmp_path / "body.md").write_text("body", encoding="utf-8")
    step_env = {k: str(v) for k, v in (load_workflow()["jobs"]["watch"]["env"] | _step(name).get("env", {})).items()}
    proc = subprocess.run(["bash", "-e", "-c", _step(name)["run"]], cwd=tmp_path, capture_output=True, text=True,
                          timeout=60, check=False,
                          env={**os.environ, **step_env, **env, "PATH": f"{bindir}:{os.environ['PATH']}",
                               "GITHUB_OUTPUT": str(tmp_path / "out.txt")})
    assert proc.returncode == 0, proc.stderr
    if not log.exists():
        return []
    return [line.rstrip("\0").split("\0") for line in log.read_text(encoding="utf-8").splitlines() if line]


def test_open_issue_is_edited_and_commented_only_when_something_is_new(tmp_path):
    calls = _run_step("Open or update the issue", tmp_path, {"NUMBER": "42", "ITEMS": "3", "NEW": "1"})
    assert calls == [["issue", "edit", "42", "--body-file", "body.md"],
                     ["issue", "comment", "42", "--body", "1 new item(s) since the last run: see the list above."]]
    (tmp_path / "gh.log").unlink()
    calls = _run_step("Open or update the issue", tmp_path, {"NUMBER": "42", "ITEMS": "3", "NEW": "0"})
    assert calls == [["issue", "edit", "42", "--body-file", "body.md"]]


def test_no_open_issue_creates_one_only_when_there_is_something(tmp_path):
    calls = _run_step("Open or update the issue", tmp_path, {"NUMBER": "", "ITEMS": "2", "NEW": "2"})
    assert calls[-1] == ["issue", "create", "--title", "Source watch: retractions, corrections and expired facts",
                         "--label", "source-watch", "--body-file", "body.md"]
    (tmp_path / "gh.log").unlink()
    assert _run_step("Open or update the issue", tmp_path, {"NUMBER": "", "ITEMS": "0", "NEW": "0"}) == []


def test_find_step_looks_up_the_labelled_issue(tmp_path):
    calls = _run_step("Find the open watch issue", tmp_path, {}, gh_stdout="17")
    assert calls[0][:6] == ["issue", "list", "--label", "source-watch", "--state", "open"]
    assert calls[1][:3] == ["issue", "view", "17"]
    assert (tmp_path / "out.txt").read_text(encoding="utf-8") == "number=17\n"
