"""The polite HTTP client shared by ``verify --online`` and ``import --doi/--pmid``.

Why it looks the way it does: Crossref, doi.org and NCBI all ask clients to identify
themselves and to go slowly. Every request carries a contact address (User-Agent
``mailto:``, plus the query parameters each service documents), goes through a per-host
token bucket (default 3 requests/s, NCBI's limit without an API key), is retried with
exponential backoff on 429/5xx honouring ``Retry-After`` up to a bound, and is cached on disk
(one JSON file per URL hash, with an expiry) so that a rerun asks nothing again.

Failing fast matters as much as retrying: when the host name does not resolve or the
connection is refused, the network (or the configured base URL) is down, and retrying every
one of 150 references would print nothing for minutes. Those errors raise
:class:`NetworkDownError` at once, without retries, and callers stop the whole run.
"""

from __future__ import annotations

import argparse
import email.utils
import errno
import hashlib
import json
import os
import re
import socket
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .. import __version__

CONTACT_ENV = "CITEREVIEW_CONTACT"
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
JSON = "application/json"
#: errno values that mean "no route to that host at all", not "that host is slow".
UNREACHABLE_ERRNOS = frozenset({errno.ENETUNREACH, errno.EHOSTUNREACH, errno.ENETDOWN,
                                errno.EADDRNOTAVAIL, errno.ECONNREFUSED})


class LookupFailedError(Exception):
    """A request that could not be completed (network, HTTP error, not JSON).

    ``network`` is true when the cause was the connection (timeout, reset), so that callers
    can count such failures in a row and stop instead of waiting on every entry.
    """

    network = False
    #: The HTTP status of the last answer, when there was one (406: no CSL for this DOI).
    status: int | None = None


class NetworkDownError(LookupFailedError):
    """The host name does not resolve or nothing accepts the connection: stop the run."""

    network = True


class RateLimitedError(LookupFailedError):
    """The service kept answering 429, or asked to wait longer than the bound allows."""


class NotJSONError(LookupFailedError):
    """The answer was not the JSON the service documents (a proxy's HTML page, say)."""


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """``Retry-After`` is either delta-seconds or an HTTP date (RFC 9110, 10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def unreachable_reason(exc: BaseException, host: str) -> str | None:
    """A sentence when ``exc`` means the host cannot be resolved or connected to, else None."""
    reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    if isinstance(reason, socket.gaierror):
        return f"cannot resolve the host name {host!r} ({reason.strerror or reason})"
    if isinstance(reason, ConnectionRefusedError):
        return f"connection to {host} refused"
    if isinstance(reason, OSError) and reason.errno in UNREACHABLE_ERRNOS:
        return f"cannot connect to {host} ({os.strerror(reason.errno)})"
    if isinstance(reason, str) and re.search(r"name or service not known|nodename nor servname", reason, re.I):
        return f"cannot resolve the host name {host!r} ({reason})"
    return None


class TokenBucket:
    """At most ``rate`` requests per second on average, bursts of at most ``capacity``."""

    def __init__(self, rate: float, capacity: float = 1.0,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep):
        self.rate = rate
        self.capacity = capacity
        self.tokens = capacity
        self.clock = clock
        self.sleep = sleep
        self.updated = clock()

    def acquire(self) -> float:
        """Take one token, sleeping until one is available; returns the time slept."""
        now = self.clock()
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        waited = 0.0
        if self.tokens < 1.0:
            waited = (1.0 - self.tokens) / self.rate
            self.sleep(waited)
            self.updated = self.clock()
            self.tokens = 1.0
        self.tokens -= 1.0
        return waited


class PoliteClient:
    """GET JSON or text with contact details, rate limit, retries, timeouts and an on-disk cache."""

    def __init__(self, contact: str, cache_dir: str | Path | None = ".cache/citereview", rate: float = 3.0,
                 timeout: float = 10.0, retries: int = 2, cache_days: float = 7.0,
                 sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic,
                 max_wait: float = 120.0, backoff: float = 1.0, purpose: str = "bibliography checker"):
        self.contact = contact
        self.cache_dir = Path(cache_dir) if cache_dir else None
        self.rate = rate
        self.timeout = timeout
        self.retries = retries
        self.cache_seconds = cache_days * 86400
        self.sleep = sleep
        self.clock = clock
        self.max_wait = max_wait
        self.backoff = backoff
        self.buckets: dict[str, TokenBucket] = {}
        self.user_agent = f"citereview/{__version__} ({purpose}; mailto:{contact})"
        #: Requests actually sent (not served from cache), for the summary line.
        self.sent = 0

    # ---------------------------------------------------------------- cache

    def _cache_file(self, key: str) -> Path | None:
        if not self.cache_dir:
            return None
        return self.cache_dir / (hashlib.sha256(key.encode("utf-8")).hexdigest() + ".json")

    def _cached(self, key: str) -> tuple[int, Any] | None:
        path = self._cache_file(key)
        if path is None or not path.is_file():
            return None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict) or data.get("key") != key:
            return None
        if time.time() - float(data.get("stored", 0)) > self.cache_seconds:
            return None
        return int(data["status"]), data.get("body")

    def _store(self, key: str, status: int, body: Any) -> None:
        path = self._cache_file(key)
        if path is None:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        record = {"key": key, "status": status, "stored": time.time(), "body": body}
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=str(path.parent))
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(record, handle)
        os.replace(tmp, path)

    # ---------------------------------------------------------------- requests

    def get_json(self, url: str, params: dict[str, str], polite: dict[str, str],
                 accept: str = JSON) -> tuple[int, Any]:
        """(200, parsed JSON) or (404, None); raises LookupFailedError (or a subclass).

        ``params`` identify the resource (and the cache entry); ``polite`` carry the contact
        details, so changing the address does not invalidate the cache.
        """
        return self._get(url, params, polite, accept, as_json=True)

    def get_text(self, url: str, params: dict[str, str], polite: dict[str, str],
                 accept: str) -> tuple[int, str | None]:
        """(200, body text) or (404, None), for XML answers such as E-utilities efetch."""
        return self._get(url, params, polite, accept, as_json=False)

    def _get(self, url: str, params: dict[str, str], polite: dict[str, str], accept: str,
             as_json: bool) -> tuple[int, Any]:
        key = url + ("?" + urllib.parse.urlencode(sorted(params.items())) if params else "")
        if accept != JSON:
            key += f"#accept={accept}"
        cached = self._cached(key)
        if cached is not None:
            return cached
        query = urllib.parse.urlencode({**params, **polite})
        full = url + ("?" + query if query else "")
        host = urllib.parse.urlsplit(url).netloc
        bucket = self.buckets.setdefault(host, TokenBucket(self.rate, clock=self.clock, sleep=self.sleep))
        # urllib keeps these headers when it follows doi.org's redirect to the registration agency.
        request = urllib.request.Request(full, headers={"User-Agent": self.user_agent, "Accept": accept})
        attempt = 0
        while True:
            bucket.acquire()
            self.sent += 1
            retry_wait: float | None = None
            network = False
            status = 0
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    raw = response.read()
                body = self._decode(raw, host, as_json)
                self._store(key, 200, body)
                return 200, body
            except urllib.error.HTTPError as exc:
                if exc.code == 404:
                    self._store(key, 404, None)
                    return 404, None
                if exc.code not in RETRY_STATUSES:
                    failure = LookupFailedError(f"{host} answered HTTP {exc.code} {exc.reason}")
                    failure.status = exc.code
                    raise failure from None
                retry_wait = retry_after_seconds(exc.headers.get("Retry-After") if exc.headers else None)
                if retry_wait is not None and retry_wait > self.max_wait:
                    limited = RateLimitedError(
                        f"{host} answered HTTP {exc.code} and asked to wait {retry_wait:.0f} s, more than "
                        f"the {self.max_wait:.0f} s bound (--max-wait): try again later")
                    limited.status = exc.code
                    raise limited from None
                problem, status = f"{host} answered HTTP {exc.code}", exc.code
            except (urllib.error.URLError, TimeoutError, OSError) as exc:
                down = unreachable_reason(exc, host)
                if down:
                    raise NetworkDownError(down) from None
                reason = getattr(exc, "reason", exc)
                problem = f"cannot reach {host}: {reason}"
                network = True
            if attempt >= self.retries:
                error = RateLimitedError if status == 429 else LookupFailedError
                failure = error(f"{problem} (after {attempt + 1} attempts)")
                failure.network, failure.status = network, status or None
                raise failure
            wait = self.backoff * (2 ** attempt) if retry_wait is None else retry_wait
            self.sleep(min(wait, self.max_wait))
            attempt += 1

    @staticmethod
    def _decode(raw: bytes, host: str, as_json: bool) -> Any:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise NotJSONError(f"{host} answered with something that is not UTF-8 text") from None
        if not as_json:
            return text
        try:
            return json.loads(text)
        except ValueError:
            raise NotJSONError(f"{host} answered with something that is not JSON") from None


# ------------------------------------------------------------------- options shared by commands


def find_contact(args: argparse.Namespace, site: dict[str, Any]) -> str | None:
    """``--contact``, else $CITEREVIEW_CONTACT, else mkdocs.yml ``extra: citereview: contact:``."""
    if getattr(args, "contact", None):
        return str(args.contact).strip()
    if os.environ.get(CONTACT_ENV):
        return os.environ[CONTACT_ENV].strip()
    extra = site.get("extra") or {}
    section = extra.get("citereview") if isinstance(extra, dict) else None
    if isinstance(section, dict) and section.get("contact"):
        return str(section["contact"]).strip()
    return None


def contact_problem(contact: str | None, command: str, config: str) -> str | None:
    """The message to print when there is no usable contact address, else None."""
    if contact and EMAIL_RE.match(contact):
        return None
    shown = f" ({contact!r} is not an e-mail address)" if contact else ""
    return (f"error: {command} needs a contact e-mail address{shown}: Crossref and NCBI ask "
            f"every client to identify itself. Pass --contact you@example.org, set ${CONTACT_ENV}, or "
            f"add to {config}:\n  extra:\n    citereview:\n      contact: you@example.org")


def add_client_options(parser: argparse.ArgumentParser) -> None:
    """Contact, cache, rate and retry options, the same for every command that goes online."""
    parser.add_argument("--contact", help=f"e-mail address sent to Crossref/NCBI (or ${CONTACT_ENV}, "
                                          "or mkdocs.yml extra.citereview.contact)")
    parser.add_argument("--cache-dir", default=".cache/citereview", help="on-disk response cache")
    parser.add_argument("--cache-days", type=float, default=7.0, help="cache expiry in days (default 7)")
    parser.add_argument("--no-cache", action="store_true", help="neither read nor write the cache")
    parser.add_argument("--rate", type=float, default=3.0, help="max requests per second per host (default 3)")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per request (default 10)")
    parser.add_argument("--retries", type=int, default=2, help="retries on 429/5xx/timeouts (default 2)")
    parser.add_argument("--max-wait", type=float, default=120.0,
                        help="longest Retry-After honoured, in seconds; a longer one stops (default 120)")


def client_from_args(args: argparse.Namespace, contact: str, purpose: str) -> PoliteClient:
    """A :class:`PoliteClient` configured from :func:`add_client_options`' options."""
    cache = None if getattr(args, "no_cache", False) else getattr(args, "cache_dir", ".cache/citereview")
    return PoliteClient(contact, cache_dir=cache, rate=max(float(getattr(args, "rate", 3.0)), 0.01),
                        timeout=float(getattr(args, "timeout", 10.0)), retries=int(getattr(args, "retries", 2)),
                        cache_days=float(getattr(args, "cache_days", 7.0)),
                        max_wait=float(getattr(args, "max_wait", 120.0)), purpose=purpose)
