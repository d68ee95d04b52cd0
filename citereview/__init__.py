"""citereview: Pandoc-style citations with honest review flags for Python-Markdown sites.

Layers, each importing only the ones below it (``tests/test_layers.py`` enforces this with
import-linter):

* :mod:`citereview.cli` and :mod:`citereview.mkdocs`: the command line; the MkDocs plugin;
* :mod:`citereview.mdext`: the Python-Markdown extension every engine runs;
* :mod:`citereview.csl`: formatting references with citeproc-py;
* :mod:`citereview.core`: model, citation syntax, bibliography, front matter, findings, queue,
  project and URL arithmetic; no Markdown, no MkDocs.
"""

from __future__ import annotations

__version__ = "0.2.0"


def makeExtension(**kwargs):  # noqa: N802 - Python-Markdown's required entry point name
    """Let ``markdown_extensions: [citereview]`` find the extension by module name."""
    from .mdext.extension import CiteReviewExtension

    return CiteReviewExtension(**kwargs)
