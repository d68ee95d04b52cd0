"""Security and caching headers for Netlify and Cloudflare Pages, and proof that they work.

``docs/_headers`` (copied into the site) and ``netlify.toml`` must say the same thing, carry
a strict Content-Security-Policy and the other protective headers, and cache only
content-hashed files forever. A CSP that breaks the site is worse than none, so the built
site (the domain-root build these hosts serve) is loaded in real Chromium from a server that
sends exactly the ``_headers`` rules, and every page, the 404 page, instant navigation and a
search must run without a single CSP violation: that check is ``tests/browser/test_csp.py``,
which shares the session's one Chromium with the other browser tests.
"""

from __future__ import annotations

import base64
import hashlib
import re
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar
from urllib.parse import urlparse

import pytest

from tests.conftest import ROOT, Served, _Handler, site_pages
from tests.sitetools import page_url, parse_html
from tests.test_crawl import build_root_site, serve_at_root

HEADERS_FILE = ROOT / "docs" / "_headers"


IMMUTABLE = "public, max-age=31536000, immutable"
# Content-hashed files in a Material build: safe to cache for a year.
HASHED = re.compile(r"^assets/(javascripts/bundle\.[0-9a-f]{8}\.min\.js|"
                    r"javascripts/workers/search\.[0-9a-f]{8}\.min\.js|"
                    r"stylesheets/(main|palette)\.[0-9a-f]{8}\.min\.css)(\.map)?$")
Rules = list[tuple[str, dict[str, str]]]


# --- reading the two files ----------------------------------------------------------------

def parse_headers_file(text: str) -> Rules:
    """Parse the Netlify/Cloudflare ``_headers`` format: a path line, then indented headers."""
    rules: ClassVar[Rules] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.rstrip()
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not raw[0].isspace():
            assert line.startswith("/"), f"_headers:{number}: a rule must start with a path"
            rules.append((line, {}))
            continue
        name, sep, value = line.strip().partition(":")
        assert sep and rules, f"_headers:{number}: expected 'Name: value' under a path"
        assert len(raw) <= 2000, f"_headers:{number}: Cloudflare limits lines to 2,000 chars"
        rules[-1][1][name.strip()] = value.strip()
    return rules


def netlify_rules() -> Rules:
    config = tomllib.loads((ROOT / "netlify.toml").read_text(encoding="utf-8"))
    return [(rule["for"], dict(rule["values"])) for rule in config["headers"]]


def matches(pattern: str, path: str) -> bool:
    """Netlify/Cloudflare path matching: ``*`` (one splat) matches any characters."""
    return re.fullmatch(".*".join(map(re.escape, pattern.split("*"))), path) is not None


def headers_for(rules: Rules, path: str) -> dict[str, str]:
    """Headers a request for ``path`` gets; repeated names are joined with ", " as both do."""
    result: dict[str, str] = {}
    for pattern, values in rules:
        if matches(pattern, path):
            for name, value in values.items():
                result[name] = f"{result[name]}, {value}" if name in result else value
    return result


def csp_directives(policy: str) -> dict[str, list[str]]:
    directives: dict[str, list[str]] = {}
    for part in policy.split(";"):
        if part.strip():
            name, *values = part.split()
            assert name not in directives, f"CSP repeats {name}"
            directives[name] = values
    return directives


@pytest.fixture(scope="module")
def rules() -> Rules:
    return parse_headers_file(HEADERS_FILE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def csp(rules: Rules) -> dict[str, list[str]]:
    return csp_directives(headers_for(rules, "/")["Content-Security-Policy"])


def test_netlify_toml_agrees_with_headers_file(rules: Rules) -> None:
    assert netlify_rules() == rules


def test_netlify_builds_into_the_published_folder() -> None:
    build = tomllib.loads((ROOT / "netlify.toml").read_text(encoding="utf-8"))["build"]
    assert build["publish"] == "site"
    assert "--strict" in build["command"] and "site_url" in build["command"]


def test_protective_headers(rules: Rules) -> None:
    for path in ("/", "/mechanism/", "/404.html", "/assets/stylesheets/extra.css"):
        headers = headers_for(rules, path)
        assert headers["X-Content-Type-Options"] == "nosniff", path
        assert headers["Referrer-Policy"] == "no-referrer", path
        assert headers["X-Frame-Options"] == "DENY", path
        policy = {item.strip() for item in headers["Permissions-Policy"].split(",")}
        for feature in ("camera", "microphone", "geolocation", "interest-cohort",
                        "browsing-topics", "payment", "usb"):
            assert f"{feature}=()" in policy, (path, feature)


def test_csp_is_strict(csp: dict[str, list[str]]) -> None:
    """Same-origin only; no inline script except by hash; nothing may frame the site."""
    assert csp["default-src"] == ["'none'"]
    assert csp["script-src"][0] == "'self'"
    assert all(v.startswith("'sha256-") for v in csp["script-src"][1:]), csp["script-src"]
    assert csp["style-src"] == ["'self'", "'unsafe-inline'"]
    assert csp["img-src"] == ["'self'", "data:"]
    for name in ("font-src", "connect-src", "worker-src", "manifest-src", "base-uri",
                 "form-action"):
        assert csp[name] == ["'self'"], name
    assert csp["object-src"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"]


def _inline_script_hashes(site: Path) -> dict[str, str]:
    """sha256 source expression of every inline executable script -> one page using it."""
    found: dict[str, str] = {}
    for page in site_pages(site):
        doc = parse_html((site / page).read_text(encoding="utf-8"))
        for script in doc.find_all("script"):
            if "src" in script.attrs or script.attrs.get("type", "text/javascript") not in (
                    "text/javascript", "module", ""):
                continue
            body = "".join(c for c in script.children if isinstance(c, str))
            digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
            found.setdefault(f"'sha256-{digest}'", page.as_posix())
    return found


@pytest.fixture(scope="module")
def root_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_root_site(tmp_path_factory.mktemp("headers-root"))


def test_csp_allows_every_inline_script(csp: dict[str, list[str]], built_site: Path,
                                        root_site: Path) -> None:
    """Both builds (sub-path and domain root): each inline script's hash is in script-src.

    When this fails after a Material upgrade or a deeper page, add the printed hashes to
    docs/_headers and netlify.toml, and drop those no build uses any more.
    """
    needed = {**_inline_script_hashes(built_site), **_inline_script_hashes(root_site)}
    assert len(needed) >= 3, "no inline scripts found: the check would prove nothing"
    missing = {h: page for h, page in needed.items() if h not in csp["script-src"]}
    assert not missing, f"add to script-src: {' '.join(missing)} (used by {missing})"
    unused = set(csp["script-src"][1:]) - set(needed)
    assert not unused, f"script-src allows hashes no page uses: {unused}"


def test_only_hashed_assets_are_cached_forever(rules: Rules, built_site: Path) -> None:
    hashed = 0
    for path in sorted(p for p in built_site.rglob("*") if p.is_file()):
        rel = path.relative_to(built_site).as_posix()
        cache = headers_for(rules, "/" + rel).get("Cache-Control")
        if HASHED.match(rel):
            assert cache == IMMUTABLE, rel
            hashed += 1
        else:
            assert cache is None, f"{rel} would get Cache-Control: {cache}"
    assert hashed >= 4, "Material's hashed bundle, worker and stylesheets not found"
    for page in site_pages(built_site):
        assert "Cache-Control" not in headers_for(rules, "/" + page_url(page))


# --- the CSP in a real browser ------------------------------------------------------------

class _HeadersHandler(_Handler):
    """Static files plus the headers ``_headers`` gives each path, as the host would."""

    rules: ClassVar[Rules] = []

    def end_headers(self) -> None:
        path = urlparse(self.path).path
        for name, value in headers_for(self.rules, path).items():
            self.send_header(name, value)
        super().end_headers()


@pytest.fixture(scope="module")
def headers_server(root_site: Path, rules: Rules) -> Iterator[Served]:
    handler = type("CSPHandler", (_HeadersHandler,), {"rules": rules})
    with serve_at_root(root_site, handler) as served:
        yield served


def test_server_sends_the_headers(headers_server: Served) -> None:
    """Guard for the browser test: the CSP really reaches the browser."""
    import urllib.request

    with urllib.request.urlopen(headers_server.url, timeout=30) as resp:
        assert "default-src 'none'" in resp.headers["Content-Security-Policy"]


# Registered before any page script runs, so no violation can go unseen.
LISTEN = """document.addEventListener("securitypolicyviolation", (e) => {
  console.error("CSP-VIOLATION " + e.violatedDirective + " " + e.blockedURI);
}, true);"""
