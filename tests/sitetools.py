"""Helpers shared by the site tests: a small HTML tree on html.parser, project copies.

Kept out of the test modules so that crawl, privacy, engines and headers tests import
helpers, not each other.
"""

from __future__ import annotations

import hashlib
import html.parser
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tests.conftest import ROOT, _site_url, site_pages

SITE_URL = _site_url()
REPO_URL = "https://github.com/ketamine-evidence/ketamine-evidence"
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}
# What a project copy needs to build: hooks are loaded from citereview/ next to mkdocs.yml.
PROJECT_PARTS = ("docs", "overrides", "includes", "citereview", "mkdocs.yml")


# --- a minimal DOM on top of html.parser ---------------------------------------------------

@dataclass
class Element:
    """One HTML element: enough structure to select by tag, class and attribute."""

    tag: str
    attrs: dict[str, str]
    children: list[Element | str] = field(default_factory=list)
    line: int = 0

    @property
    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())

    def text(self) -> str:
        """Text content with whitespace collapsed, as a reader would see it."""
        parts: list[str] = []
        for child in self.children:
            parts.append(child if isinstance(child, str) else child.text())
        return re.sub(r"\s+", " ", " ".join(parts)).strip()

    def iter(self) -> Iterator[Element]:
        """This element and all descendants, in document order."""
        yield self
        for child in self.children:
            if isinstance(child, Element):
                yield from child.iter()

    def find_all(self, tag: str | None = None, cls: str | None = None) -> list[Element]:
        return [e for e in self.iter()
                if (tag is None or e.tag == tag) and (cls is None or cls in e.classes)]


class _TreeBuilder(html.parser.HTMLParser):
    """Builds ``Element`` trees; tolerant of unclosed tags like browsers are."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", {})
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {k: v or "" for k, v in attrs}, line=self.getpos()[0])
        self.stack[-1].children.append(element)
        if tag not in VOID:
            self.stack.append(element)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack[-1].children.append(Element(tag, {k: v or "" for k, v in attrs},
                                               line=self.getpos()[0]))

    def handle_endtag(self, tag: str) -> None:
        for index in range(len(self.stack) - 1, 0, -1):
            if self.stack[index].tag == tag:
                del self.stack[index:]
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def parse_html(text: str) -> Element:
    """Parse a whole HTML document into an ``Element`` tree rooted at ``#document``."""
    builder = _TreeBuilder()
    builder.feed(text)
    builder.close()
    return builder.root


def page_url(page: Path) -> str:
    """The site-relative URL of a built page ("mechanism/index.html" -> "mechanism/")."""
    posix = page.as_posix()
    return posix[: -len("index.html")] if posix.endswith("index.html") else posix


def content_pages(site: Path) -> list[Path]:
    """Every built page except the 404 page."""
    return [p for p in site_pages(site) if p.as_posix() != "404.html"]


def copy_project(dest: Path) -> Path:
    """Copy what the build reads into ``dest`` so a test can change it freely."""
    for name in PROJECT_PARTS:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(src, dest / name)
    return dest


def tree_digest(folder: Path) -> str:
    """A digest of every file's path and bytes under ``folder``."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()
