"""``citereview verify``: against a local HTTP server that answers like Crossref and E-utilities.

The canned answers live in tests/fixtures/verify/ (Crossref ``/works/{doi}`` messages and
esummary records); the server only ever listens on 127.0.0.1, so no test touches the network.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from citereview.cli import verify
from citereview.core.textmatch import family_from_pubmed, normalize, titles_match

FIXTURES = Path(__file__).parent / "fixtures" / "verify"
CONTACT = "reviewers@example.org"


def _crossref_works() -> dict[str, dict[str, Any]]:
    works = {}
    for path in sorted((FIXTURES / "crossref").glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        works[data["message"]["DOI"].lower()] = data
    return works


def _esummary_records() -> dict[str, Any]:
    return json.loads((FIXTURES / "esummary-records.json").read_text(encoding="utf-8"))["records"]


@pytest.fixture
def api(httpserver: HTTPServer) -> HTTPServer:
    """Crossref under /crossref (DOIs case-insensitive, 404 text for unknown ones, like the real
    API) and E-utilities under /eutils (esummary answers only the ids asked for)."""
    works = _crossref_works()
    records = _esummary_records()

    def crossref(request: Request) -> Response:
        doi = request.path.removeprefix("/crossref/works/").lower()
        if doi in works:
            return Response(json.dumps(works[doi]), content_type="application/json")
        return Response("Resource not found.", status=404, content_type="text/plain")

    def esummary(request: Request) -> Response:
        ids = request.args.get("id", "").split(",")
        result: dict[str, Any] = {"uids": [i for i in ids if i in records]}
        result.update({i: records[i] for i in ids if i in records})
        body = {"header": {"type": "esummary", "version": "0.3"}, "result": result}
        return Response(json.dumps(body), content_type="application/json")

    # The first request for this DOI is rate-limited; the retry gets the record.
    httpserver.expect_oneshot_request("/crossref/works/10.5555/busy.2022").respond_with_data(
        "Too Many Requests", status=429, headers={"Retry-After": "0"})
    httpserver.expect_request(re.compile(r"^/crossref/works/")).respond_with_handler(crossref)
    httpserver.expect_request("/eutils/esummary.fcgi").respond_with_handler(esummary)
    return httpserver


@pytest.fixture
def bib(tmp_path: Path) -> Path:
    target = tmp_path / "bibliography.yaml"
    shutil.copy(FIXTURES / "bibliography.yaml", target)
    return target


def _args(server: HTTPServer, bib: Path, *extra: str, contact: str | None = CONTACT) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", default=str(bib.parent / "mkdocs.yml"))
    verify.add_arguments(parser)
    argv = ["--bibliography", str(bib), "--crossref-url", server.url_for("/crossref"),
            "--eutils-url", server.url_for("/eutils"), "--rate", "1000", "--retries", "2",
            "--cache-dir", str(bib.parent / "cache"), *extra]
    if contact:
        argv += ["--contact", contact]
    return parser.parse_args(argv)


def _run_json(server: HTTPServer, bib: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, dict]:
    code = verify.run(_args(server, bib, "--online", "--format", "json", *extra))
    return code, json.loads(capsys.readouterr().out)


def _by_key(report: dict) -> dict[str, list[dict]]:
    found: dict[str, list[dict]] = {}
    for finding in report["findings"]:
        found.setdefault(finding["key"], []).append(finding)
    return found


def test_full_run_reports_each_problem_once(api, bib, capsys, monkeypatch):
    monkeypatch.delenv(verify.CONTACT_ENV, raising=False)
    before = bib.read_bytes()
    code, report = _run_json(api, bib, capsys)
    found = _by_key(report)

    assert code == 1
    assert report["checked"] == {"doi": 9, "pmid": 3}
    # Matching despite case, <i>/<scp> markup, PubMed's trailing period and "Zarate CA Jr".
    assert "zarate2006randomized" not in found
    # Accents and capitals in Crossref's family name ("LÓPEZ-MUÑOZ") still match.
    assert "lopezmunoz2019history" not in found
    # Split title/subtitle at Crossref matches our one-piece title; only the author differs.
    assert [(f["kind"], f["field"], f["ours"], f["theirs"]) for f in found["krystal2019ketamine"]] == [
        ("mismatch", "first author", "Sanacora", "Krystal")]
    assert [(f["kind"], f["field"], f["theirs"]) for f in found["berman2000antidepressant"]] == [
        ("mismatch", "title", "Antidepressant effects of ketamine in depressed patients")]
    assert [(f["kind"], f["field"], f["ours"], f["theirs"]) for f in found["murrough2013antidepressant"]] == [
        ("mismatch", "year", "2012", "2013")]
    assert [(f["kind"], f["field"]) for f in found["ghost2020ketamine"]] == [("unresolved", "DOI")]
    assert [(f["kind"], f["related"]) for f in found["fabricated2018ketamine"]] == [
        ("retraction", "10.5555/retraction.notice.2021"), ("concern", "10.5555/eoc.2019")]
    assert [(f["kind"], f["related"]) for f in found["notice2021retraction"]] == [
        ("notice", "10.5555/retracted.trial.2018")]
    smith = found["smith2015ketamine"]
    assert [(f["kind"], f["source"]) for f in smith] == [("retraction", "PubMed")]
    assert "Retracted Publication" in smith[0]["message"]
    assert [(f["kind"], f["source"]) for f in found["nobody2017ketamine"]] == [("unresolved", "PubMed")]
    # The 429 was retried: no finding for the busy DOI.
    assert "busy2022ketamine" not in found
    assert bib.read_bytes() == before, "verify must never modify the bibliography"


def test_text_output_names_file_line_and_both_values(api, bib, capsys):
    code = verify.run(_args(api, bib, "--online", "--keys", "berman2000antidepressant"))
    out = capsys.readouterr().out
    line = next(n for n, text in enumerate(bib.read_text().splitlines(), 1)
                if text.startswith("- id: berman2000antidepressant"))
    assert code == 1
    assert (f"{bib}:{line}:1: error: berman2000antidepressant: title differs from Crossref "
            "(DOI 10.1016/S0006-3223(99)00230-9): ours 'Antidepressant effects of ketamine in depressed "
            "outpatients', theirs 'Antidepressant effects of ketamine in depressed patients'") in out


def test_matching_records_exit_zero(api, bib, capsys):
    code, report = _run_json(api, bib, capsys, "--keys", "zarate2006randomized,lopezmunoz2019history")
    assert (code, report["findings"]) == (0, [])
    assert report["checked"] == {"doi": 2, "pmid": 1}


def test_retry_after_429_then_200(api, bib, capsys):
    code, report = _run_json(api, bib, capsys, "--keys", "busy2022ketamine")
    busy = [req for req, _ in api.log if req.path == "/crossref/works/10.5555/busy.2022"]
    statuses = [resp.status_code for req, resp in api.log if req.path == "/crossref/works/10.5555/busy.2022"]
    assert (code, report["findings"]) == (0, [])
    assert len(busy) == 2 and statuses == [429, 200]


def test_retry_after_header_is_honoured_and_retries_are_bounded(httpserver: HTTPServer, tmp_path):
    slept: list[float] = []
    httpserver.expect_request("/works/10.5555/a").respond_with_data(
        "busy", status=503, headers={"Retry-After": "7"})
    client = verify.PoliteClient(CONTACT, cache_dir=tmp_path, rate=1000, retries=2, sleep=slept.append)
    with pytest.raises(verify.LookupFailedError, match=r"HTTP 503 \(after 3 attempts\)"):
        client.get_json(httpserver.url_for("/works/10.5555/a"), {}, {"mailto": CONTACT})
    assert len(httpserver.log) == 3
    assert [s for s in slept if s >= 1] == [7.0, 7.0]
    # A failure is not cached: the next run asks again.
    assert not list(tmp_path.glob("*.json"))


def test_backoff_without_retry_after_is_exponential(httpserver: HTTPServer, tmp_path):
    slept: list[float] = []
    httpserver.expect_request("/works/x").respond_with_data("oops", status=500)
    client = verify.PoliteClient(CONTACT, cache_dir=None, rate=1000, retries=3, sleep=slept.append, backoff=0.5)
    with pytest.raises(verify.LookupFailedError):
        client.get_json(httpserver.url_for("/works/x"), {}, {})
    assert [s for s in slept if s >= 0.5] == [0.5, 1.0, 2.0]


def test_lookup_failure_is_reported_not_raised(httpserver: HTTPServer, bib, capsys):
    httpserver.expect_request(re.compile("^/crossref/")).respond_with_data("down", status=502)
    code, report = _run_json(httpserver, bib, capsys, "--keys", "busy2022ketamine", "--retries", "0")
    assert code == 2
    assert [(f["kind"], f["level"]) for f in report["findings"]] == [("lookup-failed", "warning")]


def test_second_run_is_served_from_cache(api, bib, capsys):
    code1, first = _run_json(api, bib, capsys)
    sent = len(api.log)
    assert sent > 0 and first["requests"] == sent
    code2, second = _run_json(api, bib, capsys)
    assert len(api.log) == sent, "the rerun must not query the server again"
    assert second["requests"] == 0
    assert (code2, second["findings"]) == (code1, first["findings"])
    # An expired cache is asked again.
    _run_json(api, bib, capsys, "--cache-days", "0")
    assert len(api.log) > sent


def test_requests_are_polite(api, bib, capsys):
    _run_json(api, bib, capsys, "--keys", "zarate2006randomized")
    crossref = [r for r, _ in api.log if r.path.startswith("/crossref/")]
    eutils = [r for r, _ in api.log if r.path.startswith("/eutils/")]
    assert len(crossref) == 1 and len(eutils) == 1
    assert crossref[0].args["mailto"] == CONTACT
    assert f"mailto:{CONTACT}" in crossref[0].headers["User-Agent"]
    assert crossref[0].path == "/crossref/works/10.1001/archpsyc.63.8.856"
    assert {k: eutils[0].args[k] for k in ("db", "id", "retmode", "tool", "email")} == {
        "db": "pubmed", "id": "16894061", "retmode": "json", "tool": "citereview", "email": CONTACT}


def test_online_without_contact_refuses(api, bib, capsys, monkeypatch):
    monkeypatch.delenv(verify.CONTACT_ENV, raising=False)
    code = verify.run(_args(api, bib, "--online", contact=None))
    err = capsys.readouterr().err
    assert code == 2
    assert "needs a contact e-mail address" in err and "--contact" in err
    assert api.log == []


def test_contact_from_mkdocs_yml_with_env_tags(api, bib, capsys, monkeypatch):
    monkeypatch.delenv(verify.CONTACT_ENV, raising=False)
    monkeypatch.setenv("CITEREVIEW_TEST_CONTACT", "from-env-tag@example.org")
    (bib.parent / "mkdocs.yml").write_text(
        "site_name: t\nsite_url: !ENV [SITE_URL, 'https://example.org/']\n"
        "markdown_extensions:\n  - toc:\n      slugify: !!python/object/apply:pymdownx.slugs.slugify\n"
        "        kwds: {case: lower}\n  - citereview:\n      bibliography: bibliography.yaml\n"
        "extra:\n  citereview:\n    contact: !ENV CITEREVIEW_TEST_CONTACT\n", encoding="utf-8")
    parser = argparse.ArgumentParser()
    parser.add_argument("--config")
    verify.add_arguments(parser)
    args = parser.parse_args(["--config", str(bib.parent / "mkdocs.yml"), "--online", "--keys",
                              "ghost2020ketamine", "--crossref-url", api.url_for("/crossref"),
                              "--cache-dir", str(bib.parent / "cache"), "--rate", "1000"])
    assert verify.run(args) == 1
    assert "does not resolve at Crossref" in capsys.readouterr().out
    assert api.log[0][0].args["mailto"] == "from-env-tag@example.org"


def test_without_online_only_lists_identifiers(api, bib, capsys):
    code = verify.run(_args(api, bib))
    out = capsys.readouterr().out
    assert code == 0
    assert "would check DOI 10.1001/archpsyc.63.8.856 (zarate2006randomized) at Crossref" in out
    assert "would check PMID 99999901 (smith2015ketamine) at PubMed" in out
    assert "9 DOI(s) and 3 PMID(s) would be checked; 1 reference(s) have neither" in out
    assert api.log == []


def test_unknown_keys_are_an_error(api, bib, capsys):
    assert verify.run(_args(api, bib, "--keys", "nope2020x")) == 2
    assert "unknown id(s): nope2020x" in capsys.readouterr().err


def test_token_bucket_spaces_requests():
    now = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    bucket = verify.TokenBucket(rate=3, clock=lambda: now[0], sleep=sleep)
    for _ in range(4):
        bucket.acquire()
    assert slept == pytest.approx([1 / 3, 1 / 3, 1 / 3])
    now[0] += 10  # idle time does not build up a burst beyond the capacity
    bucket.acquire()
    bucket.acquire()
    assert slept[-1] == pytest.approx(1 / 3) and len(slept) == 4


def test_retry_after_http_date():
    assert verify.retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == pytest.approx(10.0)
    assert verify.retry_after_seconds("120") == 120.0
    assert verify.retry_after_seconds("soon") is None


@pytest.mark.parametrize(("ours", "theirs", "same"), [
    ("Ketamine &amp; mood", "Ketamine & Mood.", True),
    ("Étude de la kétamine", "<i>Etude</i> de la ketamine", True),
    ("Ketamine for depression", "Ketamine for anxiety", False),
])
def test_normalize_titles(ours, theirs, same):
    assert titles_match(ours, theirs) is same
    assert (normalize(ours) == normalize(theirs)) is same


def test_pubmed_family_names():
    assert family_from_pubmed("Zarate CA Jr") == "Zarate"
    assert family_from_pubmed("De Feyter HM") == "De Feyter"
    assert family_from_pubmed("Al Jurdi RK") == "Al Jurdi"
    assert verify.families_match("van der Berg", "Berg")
    assert not verify.families_match("Sanacora", "Krystal")


def _cli(*argv: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != verify.CONTACT_ENV}
    return subprocess.run([sys.executable, "-m", "citereview", *argv], capture_output=True, text=True,
                          env=env, timeout=120, check=False)


def test_command_line_online_run(api, bib):
    """``python -m citereview verify --online`` end to end, the way a reviewer runs it."""
    result = _cli("verify", "--online", "--config", str(bib.parent / "mkdocs.yml"), "--bibliography", str(bib),
                  "--contact", CONTACT, "--crossref-url", api.url_for("/crossref"),
                  "--eutils-url", api.url_for("/eutils"), "--rate", "1000",
                  "--cache-dir", str(bib.parent / "cache"), "--keys", "ghost2020ketamine,smith2015ketamine")
    assert result.returncode == 1, result.stderr
    assert "ghost2020ketamine: DOI 10.5555/does-not-exist does not resolve at Crossref" in result.stdout
    assert "smith2015ketamine: PMID 99999901 is marked 'Retracted Publication' in PubMed" in result.stdout
    assert "checked 1 DOI(s) and 1 PMID(s) with 2 request(s)" in result.stdout
    assert "Traceback" not in result.stderr


def test_command_line_refuses_online_without_contact(api, bib):
    result = _cli("verify", "--online", "--config", str(bib.parent / "mkdocs.yml"), "--bibliography", str(bib),
                  "--crossref-url", api.url_for("/crossref"))
    assert result.returncode == 2
    assert result.stderr.startswith("error: verify --online needs a contact e-mail address")
    assert "Traceback" not in result.stderr
    assert api.log == []


# --------------------------------------------------------------------------- updates, progress, network


@pytest.fixture
def updates_bib(tmp_path: Path) -> Path:
    target = tmp_path / "updates.yaml"
    shutil.copy(FIXTURES / "updates.yaml", target)
    return target


def test_corrections_concerns_and_retraction_watch_records(api, updates_bib, capsys):
    code, report = _run_json(api, updates_bib, capsys)
    found = {k: [(f["kind"], f["source"], f["related"], f["origin"]) for f in v]
             for k, v in _by_key(report).items()}
    assert code == 1
    assert found == {
        "corrected2017ketamine": [("correction", "Crossref", "10.5555/correction.2018", "publisher")],
        # Deposited twice (publisher and Retraction Watch): one finding naming both sources.
        "watched2016ketamine": [("retraction", "Crossref", "10.5555/rw.notice.2020", "publisher, retraction-watch")],
        "registry2015ketamine": [("retraction", "Crossref", "10.5555/rw.only.notice.2019", "retraction-watch")],
        "editors2018correction": [("correction", "Crossref", "10.5555/corrected.2017", "publisher")],
        "concerned2019ketamine": [("concern", "PubMed", None, None)],
        "erratum2019example": [("correction", "PubMed", None, None)],
        "republished2020ketamine": [("correction", "PubMed", None, None)],
        "notice2021example": [("notice", "PubMed", None, None)],
    }
    messages = {f["key"]: f["message"] for f in report["findings"]}
    assert messages["registry2015ketamine"] == ("DOI 10.5555/rw.only.2015: Retraction notice 10.5555/rw.only.notice.2019 "
                                                "(Crossref updated-by, source retraction-watch)")
    assert messages["republished2020ketamine"] == "PMID 99999908 is marked 'Corrected and Republished Article' in PubMed"
    assert report["counts"] == {"retraction": 2, "concern": 1, "notice": 1, "correction": 4, "mismatch": 0,
                                "unresolved": 0, "lookup-failed": 0}
    assert report["bibliography"] == str(updates_bib) and report["aborted"] is None
    levels = {f["kind"]: f["level"] for f in report["findings"]}
    assert levels == {"retraction": "error", "concern": "error", "notice": "error", "correction": "note"}


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_network_down_stops_at_the_first_lookup(bib, capsys):
    """Nothing listens: the first refused connection ends the run, without retrying each entry."""
    down = f"http://127.0.0.1:{_closed_port()}"
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", default=str(bib.parent / "mkdocs.yml"))
    verify.add_arguments(parser)
    args = parser.parse_args(["--bibliography", str(bib), "--online", "--format", "json", "--contact", CONTACT,
                              "--crossref-url", down, "--eutils-url", down, "--retries", "5", "--rate", "1000",
                              "--no-cache"])
    assert verify.run(args) == 2
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert report["aborted"] == f"connection to 127.0.0.1:{down.rsplit(':', 1)[1]} refused"
    assert (report["checked"], report["findings"], report["exit_code"]) == ({"doi": 1, "pmid": 0}, [], 2)
    assert report["requests"] == 1, "no retries on a refused connection"
    assert (f"error: verify --online stopped: connection to 127.0.0.1:{down.rsplit(':', 1)[1]} refused. "
            "Check the network connection (or --crossref-url/--eutils-url)") in captured.err
    assert "Traceback" not in captured.err


def test_timeouts_in_a_row_stop_the_run(bib, capsys):
    """A host that accepts connections but never answers: three timeouts in a row and the run stops."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        parser = argparse.ArgumentParser()
        parser.add_argument("--config", default=str(bib.parent / "mkdocs.yml"))
        verify.add_arguments(parser)
        args = parser.parse_args(["--bibliography", str(bib), "--online", "--format", "json", "--contact",
                                  CONTACT, "--crossref-url", url, "--eutils-url", url, "--retries", "0",
                                  "--timeout", "0.2", "--rate", "1000", "--no-cache", "--no-progress"])
        assert verify.run(args) == 2
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert [f["kind"] for f in report["findings"]] == ["lookup-failed"] * 3
    assert report["checked"]["doi"] == 3
    assert report["aborted"].startswith("3 look-ups in a row failed on the connection")
    assert captured.err.count("\n") == 1, "--no-progress: only the closing error line"


def test_progress_on_stderr_is_short_when_not_a_terminal(api, bib, capsys):
    code = verify.run(_args(api, bib, "--online"))
    err = capsys.readouterr().err.splitlines()
    assert code == 1
    # 9 DOIs + 3 PMIDs: the first look-up at once, then about every tenth, and the last.
    assert [re.match(r"verify: checking (\d+)/12 ", line).group(1) for line in err] == ["1", "2", "4", "6", "8", "12"]
    assert err[0] == "verify: checking 1/12 zarate2006randomized (DOI 10.1001/archpsyc.63.8.856, Crossref)"
    assert err[-1] == "verify: checking 12/12 PMIDs (PubMed esummary, entries 10-12)"


def test_progress_on_a_terminal_rewrites_one_line():
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    stream = Terminal()
    progress = verify.Progress(3, stream=stream)
    for number in (1, 2, 3):
        progress.update(number, f"key{number}")
    progress.close()
    assert stream.getvalue() == ("\r\x1b[Kverify: checking 1/3 key1\r\x1b[Kverify: checking 2/3 key2"
                                 "\r\x1b[Kverify: checking 3/3 key3\r\x1b[K")
    assert "\n" not in stream.getvalue()
