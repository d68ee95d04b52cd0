"""A static file server that behaves like GitHub Pages or Netlify: the site's own 404 page.

Shared by the test fixtures (tests/conftest.py) and the Lighthouse bench (bench/lighthouse.py).
"""

from __future__ import annotations

import http.server
import sys
from pathlib import Path


class StaticSiteHandler(http.server.SimpleHTTPRequestHandler):
    """Static files only; a missing path gets ``not_found`` (the site's 404.html), status 404."""

    not_found: Path

    def log_message(self, format: str, *args: object) -> None:
        pass

    def send_error(self, code, message=None, explain=None):  # type: ignore[no-untyped-def]
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


class QuietServer(http.server.ThreadingHTTPServer):
    """Threaded server that does not print the connections browsers drop on purpose."""

    daemon_threads = True

    def handle_error(self, request, client_address) -> None:  # type: ignore[no-untyped-def]
        if isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            return
        super().handle_error(request, client_address)
