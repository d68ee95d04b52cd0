"""Thin MkDocs/ProperDocs glue: tell the extension which page it is rendering.

Everything that must work on every engine lives in the Python-Markdown extension; Zensical
ignores ``hooks:`` and provides the page through its own rendering context instead.
"""

from __future__ import annotations

import os

from citereview import context, extension


def on_config(config):
    """Resolve the extension's relative paths against mkdocs.yml, not the shell's folder."""
    context.base_dir = os.path.dirname(os.path.abspath(config.config_file_path))
    return config


def on_pre_build(config):
    """A new build (also each `mkdocs serve` rebuild) reports bibliography problems again."""
    extension.reset_reports()


def on_page_markdown(markdown, page, config, files):
    context.current_page = page.file.src_uri
    return markdown


def on_post_page(output, page, config):
    context.current_page = None
    return output
