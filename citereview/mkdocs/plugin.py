"""The MkDocs (and ProperDocs) plugin: thin glue around the Markdown extension.

Registered through the ``mkdocs.plugins`` entry point, so a site enables it with
``plugins: [search, citereview]``. Everything that must work on every engine lives in the
Python-Markdown extension (Zensical runs no plugins); the plugin only

* tells the extension where ``mkdocs.yml`` is, whether the build uses directory URLs, and
  which page it converts (Python-Markdown does not know);
* starts a new build state on every build (also each ``mkdocs serve`` rebuild), and keeps
  pages' rendered citations between builds under ``mkdocs serve`` only (one-off builds
  would only hold them in memory: :mod:`citereview.core.cache`);
* adds the package's stylesheet to the site (``stylesheet: true``, the default), with the
  extension's class prefix;
* optionally (``search_trim: true``) hands Material's search indexer each page without the
  blocks the extension marked ``data-search-exclude`` (:mod:`.searchtrim`), a speed-up that
  leaves the index identical;
* optionally (``compact_pages: true``) keeps each page's citation markup out of
  ``page.content`` until the page is rendered (:class:`~citereview.mdext.processors.LatePage`):
  MkDocs holds every page's HTML until the build ends, and citations with their previews
  were most of it. The tokens are expanded at ``on_page_context`` before any other
  handler (priority 100), so the search index and the written page are unchanged; once the
  page is written, ``page.content`` holds the compact form again. Other plugins'
  ``on_page_content`` and ``on_post_build`` handlers therefore see tokens
  (``\x02kecite:N\x03``) where citations go.
"""

from __future__ import annotations

import os

from mkdocs.config import config_options
from mkdocs.config.base import Config
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin, CombinedEvent, event_priority

from ..core import cache, sources
from ..core.findings import encoding_findings
from ..mdext import processors, state
from ..mdext.extension import OPTIONS
from ..mdext.stylesheet import STYLESHEET_PATH as STYLESHEET
from ..mdext.stylesheet import write_stylesheet
from . import searchtrim


class CiteReviewPluginConfig(Config):
    stylesheet = config_options.Type(bool, default=True)
    search_trim = config_options.Type(bool, default=False)
    compact_pages = config_options.Type(bool, default=False)


class CiteReviewPlugin(BasePlugin[CiteReviewPluginConfig]):
    """``plugins: - citereview: {stylesheet: true, search_trim: false, compact_pages: false}``."""

    def __init__(self) -> None:
        super().__init__()
        self.prefix = str(OPTIONS["class_prefix"][0])
        #: Compact ``page.content`` of the pages being rendered, by ``id(page)``.
        self._compact: dict[int, str] = {}

    def on_startup(self, *, command, dirty):
        """Under ``mkdocs serve`` unchanged pages reuse their citations on every rebuild."""
        cache.keep_between_builds(command == "serve")

    def on_config(self, config):
        """Resolve the extension's relative paths against mkdocs.yml, not the shell's folder."""
        state.STATE.base_dir = os.path.dirname(os.path.abspath(config.config_file_path))
        state.STATE.use_directory_urls = bool(config.use_directory_urls)
        state.STATE.late = self.config.compact_pages
        options = config.mdx_configs.get("citereview") or {}
        self.prefix = str(options.get("class_prefix") or OPTIONS["class_prefix"][0])
        if self.config.stylesheet and STYLESHEET not in config.extra_css:
            config.extra_css.insert(0, STYLESHEET)
        return config

    def on_pre_build(self, config):
        """A new build (also each `mkdocs serve` rebuild) reports build-wide problems again."""
        state.STATE.new_build()
        searchtrim.reset()
        self._compact.clear()

    def on_page_read_source(self, page, config):
        """A page that is not UTF-8 stops the build with its file and line, before MkDocs'
        own read fails with a bare UnicodeDecodeError. Returns None: the engine reads it."""
        file = page.file
        if file.abs_src_path is None or os.path.normpath(file.abs_src_path) != os.path.normpath(
                os.path.join(config.docs_dir, file.src_path)):
            return None  # generated in memory by a plugin: nothing on disk to check
        src = sources.read_page(config.docs_dir, file.src_uri)
        if src is not None and src.undecodable is not None:
            display = os.path.relpath(file.abs_src_path)
            display = file.abs_src_path if display.startswith("..") else display.replace(os.sep, "/")
            raise PluginError(str(encoding_findings(src, display)[0].diagnostic()))
        return None

    def on_page_markdown(self, markdown, page, config, files):
        state.current_page.set(page.file.src_uri)
        return markdown

    @event_priority(100)  # before every other handler: they all see the finished page
    def _expand_citations(self, ctx, page, config, nav):
        late = state.STATE.late_pages.pop(page.file.src_uri, None)
        if late is not None and page.content:
            self._compact[id(page)] = page.content
            page.content = processors.expand_late(page.content, late)
        return ctx

    @event_priority(1)  # just before the search plugin (priority 0) reads page.content
    def _trim_for_search(self, ctx, page, config, nav):
        if self.config.search_trim:
            searchtrim.before_indexing(page, self.prefix)
        return ctx

    @event_priority(-1)  # just after it, before late handlers (Material's blog: -100) and the theme
    def _restore_after_search(self, ctx, page, config, nav):
        if self.config.search_trim:
            searchtrim.after_indexing(page)
        return ctx

    on_page_context = CombinedEvent(_expand_citations, _trim_for_search, _restore_after_search)

    @event_priority(-100)  # after every other handler: the page is finished
    def on_post_page(self, output, page, config):
        state.current_page.set(None)
        compact = self._compact.pop(id(page), None)
        if compact is not None:  # MkDocs keeps page.content until the build ends
            page.content = compact
        return output

    def on_post_build(self, config):
        state.STATE.late = False  # conversions outside a build render citations at once
        if self.config.stylesheet:
            # Also when docs_dir holds a copy for Zensical (`citereview stylesheet`): the
            # site gets the stylesheet of the installed package, never a stale copy.
            write_stylesheet(os.path.join(config.site_dir, *STYLESHEET.split("/")), self.prefix)
