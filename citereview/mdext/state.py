"""Which source file is being rendered, for file:line diagnostics and relative links.

Python-Markdown does not know the file it converts. MkDocs tells us through the hook in
:mod:`citereview.mkdocs_hooks`; Zensical exposes the page through its rendering-context
preprocessor. Without either (plain Python-Markdown), diagnostics fall back to searching
every page for the offending key.
"""

from __future__ import annotations

from markdown import Markdown

#: Set by the MkDocs hook before each page is rendered: path relative to docs_dir.
current_page: str | None = None
#: Folder of mkdocs.yml, set by the MkDocs hook; relative config paths resolve against it.
base_dir: str | None = None
#: ``use_directory_urls`` of the build, set by the MkDocs hook; read from mkdocs.yml otherwise.
use_directory_urls: bool | None = None


def page_path(md: Markdown) -> str | None:
    """Path of the page being converted, relative to docs_dir, when an engine tells us."""
    for processor in md.preprocessors:
        page = getattr(processor, "page", None)
        if type(processor).__name__ == "ContextPreprocessor" and page is not None:
            path = getattr(page, "path", None)
            if path:
                return str(path).replace("\\", "/")
    return current_page
