"""Thin MkDocs/ProperDocs glue: tell the extension which page it is rendering.

Everything that must work on every engine lives in the Python-Markdown extension; Zensical
ignores ``hooks:`` and provides the page through its own rendering context instead.
"""

from __future__ import annotations

from citereview import context


def on_page_markdown(markdown, page, config, files):
    context.current_page = page.file.src_uri
    return markdown


def on_post_page(output, page, config):
    context.current_page = None
    return output
