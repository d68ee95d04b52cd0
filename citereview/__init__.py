"""citereview: Pandoc-style citations with honest review flags for Python-Markdown sites.

The core is a Python-Markdown extension (:mod:`citereview.extension`) so that every engine
that runs Python-Markdown extensions (MkDocs, ProperDocs, Zensical) renders citations the
same way. MkDocs-only conveniences live in :mod:`citereview.mkdocs_hooks`.
"""

from __future__ import annotations

__version__ = "0.1.0"


def makeExtension(**kwargs):  # noqa: N802 - Python-Markdown's required entry point name
    """Let ``markdown_extensions: [citereview]`` find the extension by module name."""
    from .extension import CiteReviewExtension

    return CiteReviewExtension(**kwargs)
