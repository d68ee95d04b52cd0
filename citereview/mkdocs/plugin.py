"""Thin MkDocs/ProperDocs glue: tell the extension which page it is rendering.

Everything that must work on every engine lives in the Python-Markdown extension; Zensical
ignores ``hooks:`` and provides the page through its own rendering context instead. The one
MkDocs-only addition is a speed-up, not a feature: the search plugin is handed each page
without the markup it would skip anyway (see :mod:`citereview.searchtrim`).
"""

from __future__ import annotations

import os

from mkdocs.plugins import CombinedEvent, event_priority

from citereview import context, extension, searchtrim


def on_config(config):
    """Resolve the extension's relative paths against mkdocs.yml, not the shell's folder."""
    context.base_dir = os.path.dirname(os.path.abspath(config.config_file_path))
    context.use_directory_urls = bool(config.use_directory_urls)
    return config


def on_pre_build(config):
    """A new build (also each `mkdocs serve` rebuild) reports bibliography problems again."""
    extension.reset_reports()
    searchtrim.reset()


def on_page_markdown(markdown, page, config, files):
    context.current_page = page.file.src_uri
    return markdown


@event_priority(1)  # just before the search plugin (priority 0) reads page.content
def _trim_for_search(ctx, page, config, nav):
    searchtrim.before_indexing(page)
    return ctx


@event_priority(-1)  # just after it, before late handlers (Material's blog: -100) and the theme
def _restore_after_search(ctx, page, config, nav):
    searchtrim.after_indexing(page)
    return ctx


on_page_context = CombinedEvent(_trim_for_search, _restore_after_search)


def on_post_page(output, page, config):
    context.current_page = None
    return output
