"""Shared fixtures: the real built site, and a real static HTTP server serving it.

The site is built once per test session with ``mkdocs build --strict`` into a temporary
folder (the sources are never written to), then served under the sub-path of ``site_url``
(``/ketamine-evidence/``), as GitHub project pages would serve it.
"""

from __future__ import annotations

import functools
import http.server
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent


def _site_url() -> str:
    class _Loader(yaml.SafeLoader):
        pass

    _Loader.add_multi_constructor("!", lambda loader, suffix, node: None)
    return yaml.load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"), Loader=_Loader)["site_url"]


SUBPATH = urlparse(_site_url()).path  # e.g. "/ketamine-evidence/"


def build_site(out: Path, *, engine: str = "mkdocs", config: Path | None = None,
               cwd: Path = ROOT, strict: bool = True) -> subprocess.CompletedProcess[str]:
    """Build with one engine; returns the finished process (stdout and stderr merged)."""
    config = config or cwd / "mkdocs.yml"
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    if engine == "zensical":
        # Zensical writes to site_dir; build in a copy of the config pointing elsewhere.
        cmd = [sys.executable, "-m", "zensical", "build", "-c", "-f", str(config)]
    else:
        cmd = [sys.executable, "-m", engine, "build", "-f", str(config), "-d", str(out)]
        if strict:
            cmd.append("--strict")
    return subprocess.run(cmd, cwd=cwd, env=env, text=True, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, timeout=600, check=False)


@pytest.fixture(scope="session")
def built_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real site, built strictly with MkDocs from the working tree."""
    out = tmp_path_factory.mktemp("build") / "site"
    proc = build_site(out)
    assert proc.returncode == 0, proc.stdout
    assert "WARNING" not in proc.stdout, proc.stdout
    return out


@pytest.fixture(scope="session")
def zensical_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Zensical build of a copy of the project (Zensical writes to site_dir and .cache)."""
    from tests.sitetools import copy_project

    project = copy_project(tmp_path_factory.mktemp("zensical") / "project")
    proc = build_site(project / "site", engine="zensical", cwd=project)
    assert proc.returncode == 0, proc.stdout
    return project / "site"


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Static files only, with the site's own 404 page, as GitHub Pages or Netlify serve."""

    not_found: Path

    def log_message(self, format: str, *args) -> None:
        pass

    def send_error(self, code, message=None, explain=None):
        if code == 404 and self.not_found.is_file():
            body = self.not_found.read_bytes()
            self.send_response(404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
            return
        super().send_error(code, message, explain)


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        """Browsers drop connections they no longer need; that is not a test failure."""
        import sys as _sys

        if isinstance(_sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            return
        super().handle_error(request, client_address)


@dataclass(frozen=True)
class Served:
    """A running static server: ``url`` is the site's root, under the sub-path."""

    origin: str
    url: str
    root: Path


@pytest.fixture(scope="session")
def served_site(built_site: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    docroot = tmp_path_factory.mktemp("docroot")
    target = docroot / SUBPATH.strip("/") if SUBPATH.strip("/") else docroot
    if target != docroot:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.symlink_to(built_site, target_is_directory=True)
    handler = type("Handler", (_Handler,), {"not_found": built_site / "404.html"})
    server = _Server(("127.0.0.1", 0), functools.partial(handler, directory=str(docroot)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    origin = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield Served(origin=origin, url=origin + SUBPATH, root=built_site)
    finally:
        server.shutdown()
        server.server_close()


def site_pages(site: Path) -> list[Path]:
    """Every HTML page of a built site, relative to it (search and assets excluded)."""
    return sorted(
        p.relative_to(site) for p in site.rglob("*.html")
        if p.relative_to(site).parts[0] not in ("assets", "search")
    )
