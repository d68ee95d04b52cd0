"""What the extension knows about the build around the page it converts.

Python-Markdown does not know which file it converts, nor where ``mkdocs.yml`` is. The
MkDocs plugin (:mod:`citereview.mkdocs.plugin`) tells us; Zensical exposes the page through
its rendering-context preprocessor; without either (plain Python-Markdown), diagnostics
fall back to searching every page for the offending key.

All of it lives in one :class:`BuildState` with one :meth:`BuildState.clear`, and the page
being converted in a :class:`~contextvars.ContextVar`, so that two conversions on two
threads never see each other's page.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from markdown import Markdown

from ..core import cache

if TYPE_CHECKING:
    from .processors import LatePage

#: The page being converted (docs-relative POSIX path), set by the MkDocs plugin.
current_page: ContextVar[str | None] = ContextVar("citereview_current_page", default=None)


@dataclass
class BuildState:
    """Per-build facts and what was already reported in this build."""

    #: Folder of mkdocs.yml; relative option paths resolve against it (else the cwd).
    base_dir: str | None = None
    #: ``use_directory_urls`` of the build; read from mkdocs.yml when no plugin told us.
    use_directory_urls: bool | None = None
    #: Build-wide problems already logged (the bibliography's, unused references).
    reported: set[str] = field(default_factory=set)
    #: Pages converted since the build started: a page converted again means a new build
    #: (``zensical serve`` runs no hook that would tell us).
    converted: set[str] = field(default_factory=set)
    #: Whether the MkDocs plugin makes pages' citation markup late (``compact_pages``).
    late: bool = False
    #: What the late markup of each page is made from, by page, until the plugin asks.
    late_pages: dict[str, LatePage] = field(default_factory=dict)

    def new_build(self) -> None:
        """A build starts (also each ``serve`` rebuild): report build-wide problems again."""
        self.reported.clear()
        self.converted.clear()
        self.late_pages.clear()

    def page_started(self, page: str | None) -> None:
        if page is None:
            return
        if page in self.converted:
            self.new_build()
        self.converted.add(page)

    def clear(self) -> None:
        """Forget everything: build facts, reports and every content cache."""
        self.base_dir = None
        self.use_directory_urls = None
        self.late = False
        self.new_build()
        cache.clear_all()


#: The process's build state (engines build one extension per page; the build is shared).
STATE = BuildState()


#: The name Zensical registers its rendering-context preprocessor under (zensical 0.0.73,
#: ``zensical.extensions.context``). Looked up by name: iterating a registry sorts and
#: copies it, and every page asks several times.
ENGINE_CONTEXT = "rendering_context"


def _engine_page(md: Markdown) -> object | None:
    """The page object Zensical's rendering-context preprocessor carries, if any."""
    if ENGINE_CONTEXT not in md.preprocessors:
        return None
    processor = md.preprocessors[ENGINE_CONTEXT]
    return getattr(processor, "page", None) if type(processor).__name__ == "ContextPreprocessor" else None


def page_path(md: Markdown) -> str | None:
    """Path of the page being converted, relative to docs_dir, when an engine tells us."""
    path = getattr(_engine_page(md), "path", None)
    if path:
        return str(path).replace("\\", "/")
    return current_page.get()


#: The page-metadata key holding the build date (UTC, YYYY-MM-DD) where the engine gives
#: templates none: Zensical has no ``build_date_utc``, and page-review templates need
#: "today" to tell an overdue review from a due one.
BUILD_DATE_META = "citereview_build_date"


def engine_meta(md: Markdown) -> dict | None:
    """The page's metadata as Zensical hands it back to its templates after conversion, so
    that the extension can add to it; ``None`` under other engines (MkDocs reads its own)."""
    meta = getattr(_engine_page(md), "meta", None)
    return meta if isinstance(meta, dict) else None
