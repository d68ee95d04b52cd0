"""``citereview import --doi/--pmid`` against local servers shaped like doi.org and E-utilities.

doi.org is played by ``/doi/{doi}``, which (like the real resolver) redirects to the
registration agency, ``/agency/{doi}``, which answers CSL-JSON only when asked for it with
``Accept: application/vnd.citationstyles.csl+json``. E-utilities is ``/eutils/efetch.fcgi``.
Everything listens on 127.0.0.1; "network down" is a port nothing listens on.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from citereview.cli import importer
from citereview.cli.online import CONTACT_ENV
from citereview.core.bibliography import parse_bibliography

FIXTURES = Path(__file__).parent / "fixtures" / "online"
CONTACT = "reviewers@example.org"
CSL = "application/vnd.citationstyles.csl+json"


def closed_port() -> int:
    """A local port nothing listens on: connecting to it is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def api(httpserver: HTTPServer) -> HTTPServer:
    works = {k.lower(): v for k, v in json.loads((FIXTURES / "doi-csl.json").read_text("utf-8")).items()
             if not k.startswith("_")}
    articles = json.loads((FIXTURES / "efetch.json").read_text("utf-8"))

    def resolver(request: Request) -> Response:
        doi = request.path.removeprefix("/doi/")
        if doi.lower() not in works:
            return Response("DOI Not Found", status=404, content_type="text/html")
        return Response("", status=303, headers={"Location": httpserver.url_for(f"/agency/{doi}")})

    def agency(request: Request) -> Response:
        doi = request.path.removeprefix("/agency/").lower()
        if request.headers.get("Accept") != CSL:
            return Response("Not acceptable", status=406)
        return Response(json.dumps(works[doi]), content_type=CSL)

    def efetch(request: Request) -> Response:
        body = "".join(articles[i] for i in request.args.get("id", "").split(",") if i in articles)
        return Response(f'<?xml version="1.0" ?>\n<PubmedArticleSet>{body}</PubmedArticleSet>',
                        content_type="text/xml")

    # First answer for this DOI is 429 with Retry-After: 0; the retry gets the record.
    httpserver.expect_oneshot_request("/doi/10.5555/busy.import.2022").respond_with_data(
        "Too Many Requests", status=429, headers={"Retry-After": "0"})
    httpserver.expect_request("/doi/10.5555/slow.down.2023").respond_with_data(
        "Too Many Requests", status=429, headers={"Retry-After": "3600"})
    httpserver.expect_request(re.compile(r"^/doi/")).respond_with_handler(resolver)
    httpserver.expect_request(re.compile(r"^/agency/")).respond_with_handler(agency)
    httpserver.expect_request("/eutils/efetch.fcgi").respond_with_handler(efetch)
    return httpserver


@pytest.fixture
def bib(tmp_path: Path) -> Path:
    target = tmp_path / "bibliography.yaml"
    shutil.copy(FIXTURES / "bibliography.yaml", target)
    return target


def run_import(server_url: str, bib: Path, *argv: str, contact: str | None = CONTACT) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", default=str(bib.parent / "mkdocs.yml"))
    importer.add_arguments(parser)
    extra = ["--contact", contact] if contact else []
    return importer.run(parser.parse_args([
        *argv, "--bibliography", str(bib), "--doi-url", f"{server_url}/doi", "--eutils-url",
        f"{server_url}/eutils", "--rate", "1000", "--cache-dir", str(bib.parent / "cache"), *extra]))


def entries(path: Path) -> dict[str, dict]:
    return {e["id"]: e for e in yaml.safe_load(path.read_text(encoding="utf-8"))["references"]}


def test_doi_is_fetched_by_content_negotiation_and_appended(api, bib, capsys):
    before = bib.read_bytes()
    assert run_import(api.url_for(""), bib, "--doi", "10.5555/ketamine.infusion.2021") == 0
    out = capsys.readouterr().out
    assert bib.read_bytes().startswith(before), "existing bytes must stay as they were"
    entry = entries(bib)["perezgomez2021repeated"]  # the site's familyYEARword key style
    assert entry == {
        "id": "perezgomez2021repeated", "type": "article-journal",
        "author": [{"family": "Pérez-Gómez", "given": "Ana"}, {"family": "Okafor", "given": "B. J."},
                   {"literal": "Example Ketamine Study Group"}],
        "title": "Repeated ketamine infusions for treatment-resistant depression: an open-label example study",
        "container-title": "Example Journal of Psychiatry", "publisher": "Example Publisher",
        "issued": {"date-parts": [[2021, 3]]}, "volume": "12", "issue": "3", "page": "210-219",
        "DOI": "10.5555/ketamine.infusion.2021",  # as asked, not the resolver's capitals
        "evidence": "other", "review": {"status": "unreviewed"}}
    assert "added perezgomez2021repeated: Repeated ketamine infusions" in out
    assert out.splitlines()[-1] == "1 added, 0 skipped (already present), 0 duplicates (by DOI/PMID)"
    assert parse_bibliography(bib.read_text(encoding="utf-8"), str(bib)).diagnostics == []
    # Both hops were asked for CSL-JSON and identified us.
    hops = [(req.path, req.headers["Accept"], req.headers["User-Agent"]) for req, _ in api.log]
    assert [h[:2] for h in hops] == [("/doi/10.5555/ketamine.infusion.2021", CSL),
                                     ("/agency/10.5555/ketamine.infusion.2021", CSL)]
    assert all(f"mailto:{CONTACT}" in h[2] for h in hops)


def test_doi_given_as_url_and_dry_run_writes_nothing(api, bib, capsys):
    before = bib.read_bytes()
    code = run_import(api.url_for(""), bib, "--doi", "https://doi.org/10.5555/ketamine.infusion.2021", "--dry-run")
    out = capsys.readouterr().out
    assert code == 0 and bib.read_bytes() == before
    assert "would add perezgomez2021repeated" in out and "- id: perezgomez2021repeated" in out
    assert "    status: unreviewed" in out and out.rstrip().endswith("[dry run]")
    # The rerun is answered from the on-disk cache: nothing more is sent.
    sent = len(api.log)
    assert run_import(api.url_for(""), bib, "--doi", "10.5555/ketamine.infusion.2021", "--dry-run") == 0
    assert len(api.log) == sent


@pytest.mark.parametrize(("option", "value", "message"), [
    ("--doi", "10.5555/ALREADY.here.2019", "DOI 10.5555/ALREADY.here.2019 is already in the bibliography "
                                           "as 'already2019here': cite it as [@already2019here]"),
    ("--pmid", "99999905", "PMID 99999905 is already in the bibliography as 'known2018pmid': "
                           "cite it as [@known2018pmid]"),
])
def test_identifier_already_present_is_refused_before_any_request(api, bib, capsys, option, value, message):
    before = bib.read_bytes()
    assert run_import(api.url_for(""), bib, option, value) == 1
    err = capsys.readouterr().err
    key = message.split("'")[1]
    line = next(n for n, text in enumerate(bib.read_text().splitlines(), 1) if text.startswith(f"- id: {key}"))
    assert err.strip() == f"{bib}:{line}:1: error: {message}; nothing was added"
    assert api.log == [] and bib.read_bytes() == before


def test_pmid_whose_doi_is_already_present_is_refused(api, bib, capsys):
    before = bib.read_bytes()
    assert run_import(api.url_for(""), bib, "--pmid", "99999903") == 1
    err = capsys.readouterr().err
    assert ("PMID 99999903 is already in the bibliography as 'already2019here' "
            "(same DOI 10.5555/ALREADY.HERE.2019): cite it as [@already2019here]") in err
    assert bib.read_bytes() == before


def test_pmid_is_fetched_from_efetch_and_converted(api, bib, capsys):
    assert run_import(api.url_for(""), bib, "--pmid", "PMID: 99999902") == 0
    entry = entries(bib)["zarate2016esketamine"]
    assert entry["author"] == [{"family": "Zarate", "given": "Carlos A.", "suffix": "Jr"},
                               {"family": "Østergaard", "given": "Søren D."},
                               {"literal": "Example Esketamine Consortium"}]  # ValidYN="N" left out
    assert entry["title"] == "Esketamine nasal spray in an example cohort: a pragmatic study"
    assert (entry["container-title"], entry["issued"], entry["volume"], entry["issue"], entry["page"]) == (
        "Example journal of clinical psychopharmacology", {"date-parts": [[2016, 8]]}, "63", "8", "856-864")
    assert (entry["DOI"], entry["PMID"], entry["PMCID"]) == ("10.5555/esketamine.cohort.2016", "99999902",
                                                             "PMC9999902")
    assert entry["review"] == {"status": "unreviewed"}
    request = api.log[0][0]
    assert {k: request.args[k] for k in ("db", "id", "retmode", "tool", "email")} == {
        "db": "pubmed", "id": "99999902", "retmode": "xml", "tool": "citereview", "email": CONTACT}


def test_retracted_pmid_is_imported_with_a_warning(api, bib, capsys):
    assert run_import(api.url_for(""), bib, "--pmid", "99999904") == 0
    captured = capsys.readouterr()
    assert ("warning: PubMed marks PMID 99999904 as 'Retracted Publication': record its status when you "
            "review it") in captured.err
    entry = entries(bib)["second2015ketamine"]
    assert entry["issued"] == {"date-parts": [[2015, 3]]} and entry["review"] == {"status": "unreviewed"}


@pytest.mark.parametrize(("option", "value", "message"), [
    ("--doi", "10.5555/no.such.work", "error: DOI 10.5555/no.such.work is not registered (doi.org answered "
                                      "404 Not Found): check it for typos; nothing was added"),
    ("--pmid", "99999999", "error: PMID 99999999 is not in PubMed (efetch returned no article): check it "
                           "for typos; nothing was added"),
])
def test_not_found_is_a_clear_error(api, bib, capsys, option, value, message):
    before = bib.read_bytes()
    assert run_import(api.url_for(""), bib, option, value) == 1
    assert capsys.readouterr().err.strip() == message
    assert bib.read_bytes() == before


def test_rate_limit_429_then_success(api, bib, capsys):
    assert run_import(api.url_for(""), bib, "--doi", "10.5555/busy.import.2022") == 0
    statuses = [(req.path, resp.status_code) for req, resp in api.log]
    assert statuses == [("/doi/10.5555/busy.import.2022", 429), ("/doi/10.5555/busy.import.2022", 303),
                        ("/agency/10.5555/busy.import.2022", 200)]
    assert "busy2022ketamine" in entries(bib)


def test_retry_after_beyond_the_bound_stops_with_exit_2(api, bib, capsys):
    before = bib.read_bytes()
    assert run_import(api.url_for(""), bib, "--doi", "10.5555/slow.down.2023", "--max-wait", "30") == 2
    err = capsys.readouterr().err
    assert err.startswith("error: cannot import DOI 10.5555/slow.down.2023: doi.org is rate limiting requests")
    assert "asked to wait 3600 s, more than the 30 s bound" in err
    assert len(api.log) == 1, "a Retry-After beyond the bound is not waited for nor retried"
    assert bib.read_bytes() == before


@pytest.mark.parametrize(("option", "value", "url_option"), [
    ("--doi", "10.5555/ketamine.infusion.2021", "--doi-url"), ("--pmid", "99999902", "--eutils-url")])
def test_network_down_fails_fast_with_exit_2(bib, capsys, option, value, url_option):
    down = f"http://127.0.0.1:{closed_port()}"
    before = bib.read_bytes()
    assert run_import(down, bib, option, value, "--retries", "5") == 2
    err = capsys.readouterr().err.strip()
    assert err == (f"error: cannot import {option[2:].upper()} {value}: connection to {down[7:]} refused. "
                   f"Check the network connection (or {url_option}); nothing was added")
    assert bib.read_bytes() == before


def test_no_contact_address_is_exit_2(api, bib, capsys, monkeypatch):
    monkeypatch.delenv(CONTACT_ENV, raising=False)
    assert run_import(api.url_for(""), bib, "--doi", "10.5555/ketamine.infusion.2021", contact=None) == 2
    assert capsys.readouterr().err.startswith("error: import --doi needs a contact e-mail address")
    assert api.log == []


@pytest.mark.parametrize("argv", [[], ["x.bib", "--doi", "10.5555/a"], ["--doi", "10.5555/a", "--pmid", "1"]])
def test_exactly_one_source(api, bib, capsys, argv):
    assert run_import(api.url_for(""), bib, *argv) == 2
    assert "import needs exactly one of FILE, --doi 10.x/y or --pmid N" in capsys.readouterr().err


@pytest.mark.parametrize(("option", "value"), [("--doi", "ketamine"), ("--pmid", "12a")])
def test_malformed_identifier_is_exit_2(api, bib, capsys, option, value):
    assert run_import(api.url_for(""), bib, option, value) == 2
    assert f"error: {option} {value!r} is not a" in capsys.readouterr().err
    assert api.log == []


def test_command_line_import_by_doi(api, bib):
    """The command the build's error message prints, end to end."""
    env = {k: v for k, v in os.environ.items() if k != CONTACT_ENV}
    result = subprocess.run(
        [sys.executable, "-m", "citereview", "import", "--doi", "10.5555/ketamine.infusion.2021",
         "--bibliography", str(bib), "--config", str(bib.parent / "mkdocs.yml"), "--contact", CONTACT,
         "--doi-url", api.url_for("/doi"), "--cache-dir", str(bib.parent / "cache")],
        capture_output=True, text=True, env=env, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "1 added, 0 skipped (already present), 0 duplicates (by DOI/PMID)"
    assert "perezgomez2021repeated" in entries(bib)
    assert "Traceback" not in result.stderr
