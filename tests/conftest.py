"""Shared fixtures: the real built site, and a real static HTTP server serving it.

The site is built once per test session with ``mkdocs build --strict`` into a temporary
folder (the sources are never written to), then served under the sub-path of ``site_url``
(``/ketamine-evidence/``), as GitHub project pages would serve it.
"""

from __future__ import annotations

import functools
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

from tests.statichost import QuietServer as _Server
from tests.statichost import StaticSiteHandler as _Handler

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
    """The Zensical build of a copy of the project (Zensical writes to site_dir and .cache),
    after ``citereview stylesheet``."""
    from tests.sitetools import copy_project

    project = copy_project(tmp_path_factory.mktemp("zensical") / "project")
    # Zensical runs no plugins: the package's stylesheet goes into docs/ first, as the
    # README tells Zensical users to do.
    css = subprocess.run([sys.executable, "-m", "citereview", "stylesheet"], cwd=project, text=True,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120, check=False)
    assert css.returncode == 0, css.stdout
    proc = build_site(project / "site", engine="zensical", cwd=project)
    assert proc.returncode == 0, proc.stdout
    return project / "site"


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
