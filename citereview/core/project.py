"""The project on disk: ``mkdocs.yml`` read outside MkDocs, its paths and its edit links.

One loader for every consumer (the checker, the review queue, import, verify, and the
Markdown extension when it needs the config for edit links). The command-line tools run
without building, so they read the config themselves, the way MkDocs would: ``!ENV``
resolves from the environment (as pyyaml-env-tag does), and other tags
(``!!python/name:``, ``!relative``) are read as plain values instead of failing.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urljoin

import yaml

from .facts import FactPolicy

DEFAULT_BIBLIOGRAPHY = "docs/bibliography.yaml"


class ConfigError(Exception):
    """mkdocs.yml is unreadable or malformed: a usage problem (exit 2), not a content one."""

    def __init__(self, where: str, problem: str):
        super().__init__(f"{where}: {problem}")
        self.where = where
        self.problem = problem


class _ConfigLoader(yaml.SafeLoader):
    """SafeLoader with MkDocs' ``!ENV`` and a plain reading of every other tag."""


def _env_tag(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    """``!ENV VAR`` or ``!ENV [VAR1, VAR2, default]``: the first variable set, else the default."""
    if isinstance(node, yaml.ScalarNode):
        names, default = [loader.construct_scalar(node)], None
    elif isinstance(node, yaml.SequenceNode):
        items = loader.construct_sequence(node)
        names, default = (items[:-1], items[-1]) if len(items) > 1 else (items, None)
    else:
        return None
    for name in names:
        value = os.environ.get(str(name))
        if value is not None:
            return yaml.safe_load(value) if value.strip() else value
    return default


def _other_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node)
    return loader.construct_scalar(node)


_ConfigLoader.add_constructor("!ENV", _env_tag)
_ConfigLoader.add_multi_constructor("", _other_tag)


def read_mkdocs_config(path: str | Path, *, missing_ok: bool = False) -> dict[str, Any]:
    """``mkdocs.yml`` as a dict; ``{}`` for a missing file when ``missing_ok``."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        if missing_ok:
            return {}
        raise ConfigError(str(path), f"cannot read config: {exc.strerror or exc}") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(str(path), f"cannot read config: {getattr(exc, 'strerror', None) or exc}") from exc
    try:
        config = yaml.load(text, Loader=_ConfigLoader) or {}  # a SafeLoader subclass: safe
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        raise ConfigError(where, f"malformed YAML: {getattr(exc, 'problem', None) or exc}") from exc
    if not isinstance(config, dict):
        raise ConfigError(f"{path}:1:1", "config must be a mapping")
    return config


def extension_options(config: dict[str, Any]) -> dict[str, Any]:
    """The ``citereview`` entry of ``markdown_extensions`` (list or mapping form)."""
    exts = config.get("markdown_extensions") or []
    items = exts.items() if isinstance(exts, dict) else (
        next(iter(e.items())) if isinstance(e, dict) and e else (e, None) for e in exts)
    for name, options in items:
        if name == "citereview":
            return dict(options) if isinstance(options, dict) else {}
    return {}


def bibliography_path(config_path: str | Path, config: dict[str, Any]) -> Path:
    """The extension's ``bibliography`` option, relative to mkdocs.yml's folder."""
    option = Path(str(extension_options(config).get("bibliography") or DEFAULT_BIBLIOGRAPHY))
    return option if option.is_absolute() else Path(config_path).resolve().parent / option


def reviews_path(config_path: str | Path, config: dict[str, Any]) -> Path:
    """The extension's ``reviews`` option (claim review records), relative to mkdocs.yml's
    folder; by default ``reviews.yaml`` beside the bibliography."""
    option = str(extension_options(config).get("reviews") or "")
    if not option:
        return bibliography_path(config_path, config).with_name("reviews.yaml")
    path = Path(option)
    return path if path.is_absolute() else Path(config_path).resolve().parent / path


@dataclass
class Project:
    """What the checker and the queue need from ``mkdocs.yml``, with MkDocs' defaults."""

    config_path: Path
    config: dict[str, Any]
    docs_dir: Path
    bibliography: Path

    @classmethod
    def load(cls, config_path: str | Path = "mkdocs.yml") -> Project:
        path = Path(config_path)
        config = read_mkdocs_config(path)
        docs_dir = path.resolve().parent / str(config.get("docs_dir") or "docs")
        return cls(path, config, docs_dir, bibliography_path(path, config))

    @property
    def base(self) -> Path:
        return self.config_path.resolve().parent

    @property
    def reviews(self) -> Path:
        return reviews_path(self.config_path, self.config)

    def display(self, path: Path) -> str:
        """A path as reported: relative to the working directory when inside it (GitHub
        annotations need repository-relative paths), else absolute."""
        rel = os.path.relpath(path, Path.cwd())
        return Path(rel).as_posix() if not rel.startswith("..") else path.as_posix()

    def page_display(self, rel: str) -> str:
        return self.display(self.docs_dir / rel)

    def changed_pages(self, changed: Iterable[str] | None) -> set[str] | None:
        """Docs-relative paths of the ``--changed`` files that are pages (``None``: all)."""
        if changed is None:
            return None
        docs = self.docs_dir.resolve()
        result: set[str] = set()
        for name in changed:
            p = Path(name)
            p = (p if p.is_absolute() else Path.cwd() / p).resolve()
            if p.is_relative_to(docs):
                result.add(p.relative_to(docs).as_posix())
        return result

    def bibliography_changed(self, changed: Iterable[str] | None) -> bool:
        if changed is None:
            return True
        target = self.bibliography.resolve()
        return any((Path(n) if Path(n).is_absolute() else Path.cwd() / n).resolve() == target for n in changed)

    def fact_policy(self, today: Any = None) -> FactPolicy:
        """Today and the maximum age of dated facts, from the extension's options (``today``,
        ``fact_max_age``) or ``$CITEREVIEW_TODAY``; a bad value is a configuration error."""
        try:
            return FactPolicy.from_options(extension_options(self.config), today)
        except ValueError as exc:
            raise ConfigError(str(self.config_path), f"citereview: {exc}") from None

    @property
    def bibliography_in_docs(self) -> str | None:
        """The bibliography's path relative to docs_dir, when it lives there (for edit links)."""
        return in_docs(self.bibliography, self.docs_dir)


def in_docs(path: str | Path, docs_dir: str | Path) -> str | None:
    """``path`` relative to ``docs_dir`` as a POSIX path, or ``None`` if it lies outside."""
    try:
        return Path(path).resolve().relative_to(Path(docs_dir).resolve()).as_posix()
    except ValueError:
        return None


def config_near(docs_dir: str | Path) -> dict[str, Any]:
    """mkdocs.yml next to docs_dir (or in the working directory), for edit links; {} if none.

    The Markdown extension is given no config object by Zensical, so it finds the file the
    way a user would; a malformed file is the engine's error to report, not ours.
    """
    docs = Path(docs_dir).resolve()
    for candidate in (docs.parent / "mkdocs.yml", Path.cwd() / "mkdocs.yml"):
        if candidate.is_file():
            try:
                return read_mkdocs_config(candidate)
            except ConfigError:
                return {}
    return {}


@dataclass(frozen=True)
class EditLinks:
    """``repo_url`` + ``edit_uri`` (or ``edit_uri_template``) + path, as MkDocs builds them."""

    repo_url: str | None = None
    edit_uri: str | None = None
    edit_uri_template: str | None = None

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> EditLinks:
        repo = config.get("repo_url")
        repo = str(repo) if repo else None
        edit_uri = config.get("edit_uri")
        if edit_uri is None and repo:
            # MkDocs' defaults for the big forges; elsewhere there is no edit link.
            host = repo.lower()
            if "github.com" in host or "gitlab.com" in host:
                edit_uri = "edit/master/docs/"
            elif "bitbucket.org" in host:
                edit_uri = "src/default/docs/"
        template = config.get("edit_uri_template")
        return cls(repo, str(edit_uri) if edit_uri else None, str(template) if template else None)

    def url(self, docs_path: str) -> str | None:
        """Edit URL of a file, given its path relative to docs_dir."""
        if self.edit_uri_template:
            uri = self.edit_uri_template.format(path=docs_path, path_noext=PurePosixPath(docs_path).with_suffix(""))
        elif self.edit_uri:
            uri = self.edit_uri + docs_path
        else:
            return None
        if self.repo_url:
            return urljoin(self.repo_url.rstrip("/") + "/", uri)
        return uri if re.match(r"^https?://", uri) else None
