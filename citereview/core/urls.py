"""Where a Markdown page ends up on the built site, by the rules MkDocs and Zensical share.

Links the extension writes as finished HTML (the "Cited on" lists of the References page,
thousands of them on a large site) skip the engine's link rewriting, so their URLs are
computed here: ``foo.md`` is served at ``foo/`` (or ``foo.html`` without directory URLs),
``index.md`` and ``README.md`` at their folder. ``tests/test_urls.py`` checks the rules
against MkDocs' own ``File.url``.
"""

from __future__ import annotations

import posixpath
from urllib.parse import quote


def link_from(here: str, target: str, directory_urls: bool) -> str:
    """``target`` (docs-relative ``page.md#anchor``) as a URL relative to the page ``here``."""
    path, _, anchor = target.partition("#")
    url = relative_url(page_url(path, directory_urls), page_url(here, directory_urls))
    return url + (f"#{anchor}" if anchor else "")


def page_url(src_path: str, directory_urls: bool = True) -> str:
    """The URL of a page relative to the site root, e.g. ``topic/page/`` or ``./``."""
    parent, filename = posixpath.split(src_path)
    stem = posixpath.splitext(filename)[0]
    if stem == "README":
        stem = "index"
    if not directory_urls or stem == "index":
        dest = posixpath.join(parent, stem + ".html")
    else:
        dest = posixpath.join(parent, stem, "index.html")
    folder, name = posixpath.split(dest)
    if directory_urls and name == "index.html":
        dest = (folder or ".") + "/"
    return quote(dest)


def relative_url(url: str, from_url: str) -> str:
    """``url`` relative to the page at ``from_url`` (both site-relative, as from page_url)."""
    folder, _, last = from_url.rpartition("/")
    base = folder if "." in last else from_url
    base_parts = [p for p in posixpath.normpath("/" + base).split("/") if p]
    dest_parts = [p for p in posixpath.normpath("/" + url).split("/") if p]
    common = 0
    for a, b in zip(base_parts, dest_parts, strict=False):
        if a != b:
            break
        common += 1
    rel = "/".join([".."] * (len(base_parts) - common) + dest_parts[common:]) or "."
    return rel + "/" if url.endswith("/") else rel
