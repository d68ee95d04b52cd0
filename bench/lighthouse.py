"""Page-speed budget: Lighthouse on every page of the built site, served under its sub-path.

Builds the site (``mkdocs build --strict``), serves it on 127.0.0.1 under the published
sub-path (``/ketamine-evidence/``) with gzip for text files, as GitHub Pages serves it, and
runs Lighthouse (pinned in ``bench/package-lock.json``, installed with ``npm ci``) against the
system Chromium with Lighthouse's default mobile settings: ``--form-factor=mobile``, a
Moto G Power-sized screen and simulated slow-4G/4x-CPU throttling.

It prints one row per page: performance, accessibility, best practices, SEO (0-100) and the
bytes a first visit transfers (Lighthouse's ``total-byte-weight``, cold cache), then PASS/FAIL
per target. It never fails on a missed target: scores move with the machine's load, so they
belong in a report, not in a test. It exits non-zero only when it cannot measure at all.

Targets: performance >= 95; accessibility, best practices and SEO = 100; first view < 250 KB.

Usage::

    python bench/lighthouse.py                      # build, serve, measure every page
    python bench/lighthouse.py --pages index.html mechanism/index.html
    python bench/lighthouse.py --site site --report /tmp/lighthouse.md
    python bench/lighthouse.py --runs 3             # median of 3 runs per page (less noise)

Chromium: ``$CHROME_PATH``, else ``$CHROMIUM``, else ``/usr/bin/chromium`` or one on ``PATH``.
Node.js >= 18.20 (Lighthouse 12 is the last line that runs on Node 20). JSON reports are kept
in ``bench/out/lighthouse/`` (gitignored).
"""

from __future__ import annotations

import argparse
import functools
import gzip
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import yaml

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(REPO))  # the static host shared with the tests
from tests.statichost import QuietServer, StaticSiteHandler  # noqa: E402

OUT = BENCH / "out" / "lighthouse"
LIGHTHOUSE = BENCH / "node_modules" / ".bin" / "lighthouse"
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
TARGETS = {"performance": 95, "accessibility": 100, "best-practices": 100, "seo": 100}
BUDGET_KB = 250
#: GitHub Pages compresses these; serving them raw would overstate every page's weight.
COMPRESSED = {".html", ".css", ".js", ".json", ".svg", ".xml", ".txt", ".map"}
CHROME_FLAGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    # Offline and deterministic: only the local server resolves. A page that asks another
    # host for something shows it as a failed request / console error in the scores.
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
]


def site_url() -> str:
    class Loader(yaml.SafeLoader):
        pass

    Loader.add_multi_constructor("!", lambda loader, suffix, node: None)
    return yaml.load((REPO / "mkdocs.yml").read_text(encoding="utf-8"), Loader=Loader)["site_url"]


SUBPATH = urlparse(site_url()).path or "/"


def find_chromium() -> str | None:
    for variable in ("CHROME_PATH", "CHROMIUM"):
        if os.environ.get(variable):
            return os.environ[variable]
    if Path("/usr/bin/chromium").is_file():
        return "/usr/bin/chromium"
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        if shutil.which(name):
            return shutil.which(name)
    return None


def pages_of(site: Path) -> list[str]:
    """Every built HTML page as a path relative to the site (assets and search excluded)."""
    return sorted(
        p.relative_to(site).as_posix() for p in site.rglob("*.html")
        if p.relative_to(site).parts[0] not in ("assets", "search")
    )


def url_path(rel: str) -> str:
    """The URL (relative to the site root) a built file is served at."""
    return rel[: -len("index.html")] if rel.endswith("index.html") else rel


# ---------------------------------------------------------------------------------------
# Build and serve
# ---------------------------------------------------------------------------------------

def build(out: Path, strict: bool) -> None:
    cmd = [sys.executable, "-m", "mkdocs", "build", "-f", str(REPO / "mkdocs.yml"), "-d", str(out)]
    if strict:
        cmd.append("--strict")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    proc = subprocess.run(cmd, cwd=REPO, env=env, text=True, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, check=False)
    if proc.returncode != 0:
        sys.exit(f"build failed:\n{proc.stdout}")


class _Handler(StaticSiteHandler):
    """The test suite's static host (with the site's 404 page), plus gzip for text types,
    as GitHub Pages serves them."""

    def send_head(self):  # type: ignore[no-untyped-def] - stdlib signature
        path = Path(self.translate_path(self.path))
        if path.is_dir() and urlparse(self.path).path.endswith("/"):
            path = path / "index.html"
        if not (path.is_file() and path.suffix in COMPRESSED
                and "gzip" in self.headers.get("Accept-Encoding", "")):
            return super().send_head()  # redirects, 404s, images and fonts as they are
        body = gzip.compress(path.read_bytes(), compresslevel=6)
        self.send_response(200)
        self.send_header("Content-Type", self.guess_type(str(path)))
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "max-age=600")
        self.end_headers()
        return _Body(body)


class _Body:
    """A file-like body for ``SimpleHTTPRequestHandler.copyfile``."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def read(self, size: int = -1) -> bytes:
        data, self.data = (self.data, b"") if size < 0 else (self.data[:size], self.data[size:])
        return data

    def close(self) -> None:
        self.data = b""


@contextmanager
def serve(site: Path) -> Iterator[str]:
    """Serve ``site`` under the sub-path on a free port; yields the site root URL."""
    with tempfile.TemporaryDirectory(prefix="lighthouse-docroot-") as docroot:
        target = Path(docroot, SUBPATH.strip("/")) if SUBPATH.strip("/") else Path(docroot)
        if target != Path(docroot):
            target.parent.mkdir(parents=True, exist_ok=True)
            target.symlink_to(site.resolve(), target_is_directory=True)
        handler = type("Handler", (_Handler,), {"not_found": site / "404.html"})
        server = QuietServer(
            ("127.0.0.1", 0), functools.partial(handler, directory=docroot))
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}{SUBPATH}"
        finally:
            server.shutdown()
            server.server_close()


# ---------------------------------------------------------------------------------------
# Lighthouse
# ---------------------------------------------------------------------------------------

def install() -> None:
    """``npm ci`` in bench/ from the lockfile, once."""
    if LIGHTHOUSE.exists():
        return
    npm = shutil.which("npm")
    if npm is None:
        sys.exit("npm not found: install Node.js >= 18.20 (e.g. apt-get install nodejs npm)")
    subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=BENCH, check=True)


@dataclass
class Row:
    page: str
    scores: dict[str, int | None]
    kb: float | None
    error: str = ""


def run_lighthouse(url: str, chrome: str, report: Path) -> Row:
    page = urlparse(url).path.removeprefix(SUBPATH) or "/"
    cmd = [
        str(LIGHTHOUSE), url, "--quiet", "--output=json", f"--output-path={report}",
        f"--only-categories={','.join(CATEGORIES)}",
        "--chrome-flags=" + " ".join(CHROME_FLAGS),
    ]
    env = {**os.environ, "CHROME_PATH": chrome}
    proc = subprocess.run(cmd, env=env, text=True, capture_output=True, check=False, timeout=600)
    if proc.returncode != 0 or not report.is_file():
        return Row(page, dict.fromkeys(CATEGORIES), None, (proc.stderr or proc.stdout)[-400:])
    data = json.loads(report.read_text(encoding="utf-8"))
    scores = {
        name: None if data["categories"][name]["score"] is None
        else round(data["categories"][name]["score"] * 100)
        for name in CATEGORIES
    }
    weight = data["audits"].get("total-byte-weight", {}).get("numericValue")
    return Row(page, scores, None if weight is None else weight / 1024,
               data.get("runtimeError", {}).get("message", ""))


def median_run(runs: list[Row]) -> Row:
    """The run whose performance score is the median (failed runs sort first)."""
    ordered = sorted(runs, key=lambda row: row.scores["performance"] or -1)
    return ordered[len(ordered) // 2]


def verdict(row: Row) -> list[str]:
    """The targets this page misses (empty: all met)."""
    missed = [f"{name} {row.scores[name]} < {target}" for name, target in TARGETS.items()
              if row.scores[name] is None or row.scores[name] < target]
    if row.kb is None or row.kb >= BUDGET_KB:
        missed.append(f"first view {row.kb if row.kb is None else round(row.kb)} KB >= {BUDGET_KB} KB")
    return missed


def table(rows: list[Row]) -> list[str]:
    head = "| page | performance | accessibility | best practices | SEO | first view (KB) | targets |"
    lines = [head, "|" + " --- |" * 7]
    for row in rows:
        missed = verdict(row)
        cells = [str(row.scores[name]) if row.scores[name] is not None else "n/a" for name in CATEGORIES]
        kb = f"{row.kb:.0f}" if row.kb is not None else "n/a"
        status = "PASS" if not missed else "FAIL: " + "; ".join(missed)
        lines.append(f"| {row.page} | " + " | ".join(cells) + f" | {kb} | {status} |")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--site", type=Path, help="measure this already built site (no build)")
    parser.add_argument("--no-strict", action="store_true", help="build without --strict")
    parser.add_argument("--pages", nargs="*", help="built files to measure, e.g. index.html")
    parser.add_argument("--report", type=Path, help="also write the table as Markdown here")
    parser.add_argument("--runs", type=int, default=1,
                        help="runs per page; the run with the median performance score is "
                             "reported (Lighthouse's own advice against machine noise; default 1)")
    args = parser.parse_args(argv)

    chrome = find_chromium()
    if chrome is None:
        sys.exit("no Chromium: set CHROME_PATH (or CHROMIUM), or apt-get install chromium")
    install()
    OUT.mkdir(parents=True, exist_ok=True)
    version = subprocess.run([str(LIGHTHOUSE), "--version"], text=True, capture_output=True,
                             check=False).stdout.strip()

    with tempfile.TemporaryDirectory(prefix="lighthouse-site-") as tmp:
        site = args.site
        if site is None:
            site = Path(tmp) / "site"
            print("building the site ...", flush=True)
            build(site, strict=not args.no_strict)
        pages = args.pages or pages_of(site)
        rows: list[Row] = []
        with serve(site) as root:
            print(f"Lighthouse {version}, mobile preset, Chromium {chrome}, {root}", flush=True)
            for rel in pages:
                name = (url_path(rel).strip("/") or "index").replace("/", "_").removesuffix(".html")
                runs = [run_lighthouse(root + url_path(rel), chrome, OUT / f"{name}-{i}.json")
                        for i in range(max(1, args.runs))]
                row = median_run(runs)
                rows.append(row)
                print(f"  {row.page}: {row.scores} {row.kb and round(row.kb)} KB {row.error}",
                      flush=True)

    lines = [f"Lighthouse {version} (mobile, simulated throttling, median of {max(1, args.runs)}"
             f" run(s) per page), targets: performance >= "
             f"{TARGETS['performance']}, others = 100, first view < {BUDGET_KB} KB", "", *table(rows)]
    met = sum(1 for row in rows if not verdict(row))
    lines += ["", f"{met} of {len(rows)} pages meet every target."]
    print("\n".join(lines))
    if args.report:
        args.report.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return 0 if all(row.kb is not None for row in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
