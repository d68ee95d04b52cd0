"""The package's stylesheet, with the site's class prefix.

``citereview/assets/citereview.css`` is written for the default prefix ``cr-``; a site with
another ``class_prefix`` gets the same rules with every ``cr-`` class and custom property
renamed. Two ways bring it into a site, both through :func:`stylesheet`:

* MkDocs and ProperDocs: the plugin writes it into the built site and links it
  (``plugins: - citereview``, option ``stylesheet``, default on);
* Zensical, which runs no plugins: ``citereview stylesheet`` writes it into ``docs_dir``
  before the build, and the site lists it under ``extra_css``.
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

#: Where the stylesheet lives in the built site (and, for Zensical, under docs_dir).
STYLESHEET_PATH = "assets/citereview/citereview.css"
DEFAULT_PREFIX = "cr-"


def stylesheet(prefix: str = DEFAULT_PREFIX) -> str:
    """The package's stylesheet with its ``cr-`` classes and variables renamed to ``prefix``."""
    css = resources.files("citereview").joinpath("assets/citereview.css").read_text(encoding="utf-8")
    return css if prefix == DEFAULT_PREFIX else re.sub(r"\bcr-", prefix, css)


def write_stylesheet(path: str | Path, prefix: str = DEFAULT_PREFIX) -> bool:
    """Write the stylesheet to ``path`` unless it already holds exactly that; whether it wrote.

    Leaving an up-to-date file untouched keeps its modification time, so a watching
    ``serve`` does not rebuild for nothing.
    """
    path = Path(path)
    css = stylesheet(prefix)
    try:
        if path.read_text(encoding="utf-8") == css:
            return False
    except (OSError, UnicodeDecodeError):
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(css, encoding="utf-8")
    return True
