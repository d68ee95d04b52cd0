"""The command line, end to end: real ``python -m citereview`` processes and their exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from citereview.cli import commands as cli

from .conftest import ROOT

OK = "tests/fixtures/checker/ok"
BAD = "tests/fixtures/checker/bad"


def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "citereview", *args], cwd=cwd, text=True,
                          capture_output=True, timeout=120, check=False)


def test_check_ok_project_exits_0() -> None:
    proc = run("check", "--config", f"{OK}/mkdocs.yml")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stdout.splitlines()[-1] == "citereview check: 0 error(s), 1 warning(s), 10 notice(s)"


def test_check_bad_project_exits_1_with_positions() -> None:
    proc = run("check", "--config", f"{BAD}/mkdocs.yml")
    assert proc.returncode == 1
    assert (f"{BAD}/docs/page.md:10:17: error: unknown citation key 'zanos2018ketamin'; "
            "did you mean zanos2018ketamine?") in proc.stdout.splitlines()
    assert "Traceback" not in proc.stdout + proc.stderr


def test_check_github_format() -> None:
    proc = run("check", "-f", f"{BAD}/mkdocs.yml", "--format", "github")
    assert proc.returncode == 1
    out = proc.stdout.splitlines()
    assert (f"::error file={BAD}/docs/page.md,line=10,col=17,title=citereview unknown-key::"
            "unknown citation key 'zanos2018ketamin'; did you mean zanos2018ketamine?") in out
    assert (f"::notice file={BAD}/docs/page.md,line=12,col=25,title=citereview cite-retracted::"
            "cites 'gone2015', which is retracted: Retracted in 2016.") in out
    assert all(line.startswith(("::error ", "::warning ", "::notice ")) for line in out)


def test_check_json_format() -> None:
    proc = run("check", "-f", f"{OK}/mkdocs.yml", "--format", "json")
    assert proc.returncode == 0
    data = json.loads(proc.stdout)
    assert {"file", "line", "col", "level", "message", "code"} == set(data[0])
    assert sum(1 for d in data if d["level"] == "notice") == 10


def test_check_fail_on_is_a_release_gate() -> None:
    assert run("check", "-f", f"{OK}/mkdocs.yml", "--fail-on", "disputed,retracted").returncode == 1
    assert run("check", "-f", f"{OK}/mkdocs.yml", "--fail-on", "retracted,outdated").returncode == 0
    proc = run("check", "-f", f"{OK}/mkdocs.yml", "--fail-on", "unreviewed")
    assert proc.returncode == 2
    assert "unreviewed never fails a build" in proc.stderr


def test_check_changed_only_reports_those_pages() -> None:
    proc = run("check", "-f", f"{BAD}/mkdocs.yml", "--format", "github", "--changed", f"{BAD}/docs/dates.md")
    assert proc.returncode == 1  # dates.md has errors, and the bibliography's error always shows
    files = {line.split("file=")[1].split(",")[0] for line in proc.stdout.splitlines()}
    assert files == {f"{BAD}/docs/dates.md", f"{BAD}/docs/bibliography.yaml"}


def test_check_min_level_hides_notices_but_not_the_exit_code() -> None:
    proc = run("check", "-f", f"{OK}/mkdocs.yml", "--min-level", "warning")
    assert proc.returncode == 0
    assert ": notice: " not in proc.stdout


def test_missing_config_exits_2(tmp_path: Path) -> None:
    proc = run("check", cwd=tmp_path)
    assert proc.returncode == 2
    assert "mkdocs.yml: cannot read config" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_queue_text_and_markdown() -> None:
    proc = run("queue", "-f", f"{OK}/mkdocs.yml")
    assert proc.returncode == 0, proc.stderr
    assert "      2  statements marked citation needed" in proc.stdout
    proc = run("queue", "-f", f"{OK}/mkdocs.yml", "--format", "markdown", "--changed", f"{OK}/docs/draft.md")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("## Citation review queue\n")
    assert "| pages never reviewed | 1 |" in proc.stdout
    assert "| pages overdue for review | 0 |" in proc.stdout  # topic.md is not in the change


# -- delegated subcommands ------------------------------------------------------------------
def _fake(tmp_path: Path, name: str, source: str, monkeypatch: pytest.MonkeyPatch, command: str) -> None:
    (tmp_path / f"{name}.py").write_text(source)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(cli.DELEGATED, command, (name, "test double"))


def test_delegated_command_gets_its_own_arguments(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    _fake(tmp_path, "fake_importer_ok", (
        "def add_arguments(parser):\n"
        "    parser.add_argument('file')\n"
        "    parser.add_argument('--dry-run', action='store_true')\n"
        "def run(args):\n"
        "    print('imported', args.file, args.dry_run)\n"
        "    return 3\n"), monkeypatch, "import")
    assert cli.main(["import", "refs.json", "--dry-run"]) == 3
    assert capsys.readouterr().out == "imported refs.json True\n"


def test_missing_delegate_exits_2_with_a_clear_message(monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setitem(cli.DELEGATED, "verify", ("citereview_no_such_module", "test double"))
    assert cli.main(["verify", "--online"]) == 2
    err = capsys.readouterr().err
    assert err == "citereview verify: not available: module citereview_no_such_module is not installed in this checkout\n"


def test_broken_delegate_does_not_break_check(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    _fake(tmp_path, "fake_broken", "raise RuntimeError('half-written')\n", monkeypatch, "import")
    monkeypatch.chdir(ROOT)
    assert cli.main(["check", "-f", f"{OK}/mkdocs.yml", "--min-level", "error"]) == 0
    assert cli.main(["import", "x.bib"]) == 2
    assert "module fake_broken failed to load: RuntimeError: half-written" in capsys.readouterr().err


def test_delegate_without_run_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    _fake(tmp_path, "fake_partial", "def add_arguments(parser):\n    pass\n", monkeypatch, "verify")
    assert cli.main(["verify"]) == 2
    assert "does not define run()" in capsys.readouterr().err


def test_help_lists_every_command() -> None:
    proc = run("--help")
    assert proc.returncode == 0
    for name in ("check", "queue", "import", "verify"):
        assert name in proc.stdout


# -- stylesheet (Zensical runs no plugins: the stylesheet goes into docs_dir) ---------------

def _project(tmp_path: Path, options: str = "") -> Path:
    (tmp_path / "docs").mkdir()
    (tmp_path / "mkdocs.yml").write_text(
        f"site_name: S\nmarkdown_extensions:\n  - citereview:{options or ' {}'}\n", encoding="utf-8")
    return tmp_path


def test_stylesheet_writes_the_package_css_with_the_configured_prefix(tmp_path: Path) -> None:
    project = _project(tmp_path, "\n      class_prefix: site-")
    proc = run("stylesheet", cwd=project)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "docs/assets/citereview/citereview.css: written (class prefix site-)"
    css = (project / "docs/assets/citereview/citereview.css").read_text(encoding="utf-8")
    shipped = (ROOT / "citereview/assets/citereview.css").read_text(encoding="utf-8")
    assert css == shipped.replace("cr-", "site-")
    assert ".md-typeset sup.site-cite" in css and "--site-flag:" in css and "cr-" not in css
    again = run("stylesheet", cwd=project)
    assert again.returncode == 0 and again.stdout.strip().endswith("up to date (class prefix site-)")


def test_stylesheet_check_reports_a_missing_or_stale_copy(tmp_path: Path) -> None:
    project = _project(tmp_path)
    missing = run("stylesheet", "--check", cwd=project)
    assert missing.returncode == 1 and "missing" in missing.stderr
    assert run("stylesheet", "--output", "out.css", cwd=project).returncode == 0
    assert (project / "out.css").read_text(encoding="utf-8") == (
        ROOT / "citereview/assets/citereview.css").read_text(encoding="utf-8")
    assert run("stylesheet", "--check", "-o", "out.css", cwd=project).returncode == 0
    (project / "out.css").write_text("/* edited */\n", encoding="utf-8")
    stale = run("stylesheet", "--check", "-o", "out.css", cwd=project)
    assert stale.returncode == 1 and "out of date" in stale.stderr


@pytest.mark.parametrize(("args", "needle"), [
    (("--prefix", "Bad Prefix"), "class prefix 'Bad Prefix'"),
    (("-f", "nowhere/mkdocs.yml"), "cannot read config"),
])
def test_stylesheet_usage_problems_exit_2(tmp_path: Path, args: tuple[str, ...], needle: str) -> None:
    proc = run("stylesheet", *args, cwd=_project(tmp_path))
    assert proc.returncode == 2 and needle in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "docs/assets").exists()
